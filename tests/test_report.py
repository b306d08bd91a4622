"""report, compare and --format parquet through run_sim.main (the console script's entry
point, called in-process to spare an interpreter start per command), checked on the files
they write."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pytest
import yaml

import run_sim
from sim.io.files import read_table
from tests.conftest import small

VOID = {"meta", "img", "br", "hr", "link", "input"}


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys):
    def call(*args: str) -> Result:
        code = run_sim.main(list(args))
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return call


def scenario(tmp_path: Path, name: str = "s.yaml") -> Path:
    """A day of the small city with a rider subsidy on Alipay and adoption switched on."""
    data = small(
        duration="1d",
        adoption={"enabled": True},
        outputs={"ledger": "full"},
        payment={"riders_bound": {"alipay": 0.3}, "drivers_accepting": {"alipay": 0.5}},
        policies=[
            {
                "id": "ali_rider_3",
                "rail": "alipay",
                "side": "rider",
                "amount_yuan": 3,
                "start": "2013-12-01",
                "end": "2014-01-01",
            }
        ],
    )
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same scenario written as CSV and as parquet, and a second seed."""
    folder = tmp_path_factory.mktemp("runs")
    f = scenario(folder)
    out = {"csv": folder / "csv", "parquet": folder / "parquet", "seed2": folder / "seed2"}
    for args in (
        ["--out", str(out["csv"])],
        ["--out", str(out["parquet"]), "--format", "parquet"],
        ["--out", str(out["seed2"]), "--seed", "2"],
    ):
        assert run_sim.main(["run", str(f), "--quiet", *args]) == 0
    return out


class Page(HTMLParser):
    """Tags, attributes and text of a page; fails on a closing tag that was never opened."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes <{self.open[-1:]}>"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)


def test_report_is_one_self_contained_html_file(runs, cli):
    r = cli("report", str(runs["csv"]))
    assert r.returncode == 0, r.stderr
    page_text = (runs["csv"] / "report.html").read_text(encoding="utf-8")
    page = Page()
    page.feed(page_text)
    page.close()
    assert page.open == []  # every element closed
    # nothing fetched: no script, style sheet, frame or image from anywhere else
    assert not [t for t, a in page.tags if t in ("link", "iframe", "img")]
    assert not [a for t, a in page.tags if t == "script" and "src" in a]
    assert "Plotly.newPlot" in page_text and len(page_text) > 3_000_000  # plotly inlined
    divs = {a.get("id") for t, a in page.tags if t == "div"}
    assert {"fig-timeline", "fig-adoption", "fig-waits"} <= divs
    text = " ".join(page.text)
    assert "ali_rider_3" in text and "Money" in text and "WeChat Pay" in text
    assert "Subsidies cost" in text  # the headline
    assert "policies:" in text and "- id: ali_rider_3" in text  # the scenario as YAML
    tables = [a.get("data-name") for t, a in page.tags if t == "table"]
    assert {"money", "daily_by_rail", "daily_by_channel"} <= set(tables)  # 1 day: no Bass fit
    assert "dispatch_csv" in tables


def test_report_reads_parquet_runs_and_refuses_other_dirs(runs, tmp_path, cli):
    out = tmp_path / "r.html"
    r = cli("report", str(runs["parquet"]), "--out", str(out))
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert 'id="fig-waits"' in text and 'data-name="daily_by_channel"' in text
    r = cli("report", str(tmp_path))
    assert r.returncode == 2 and r.stderr.startswith("error:") and "not a run directory" in r.stderr


def test_compare_overlays_runs(runs, tmp_path, cli):
    out = tmp_path / "cmp.png"
    r = cli(
        "compare", str(runs["csv"]), str(runs["parquet"]), str(runs["seed2"]), "--out", str(out)
    )
    assert r.returncode == 0, r.stderr
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    r = cli("compare", str(runs["csv"]), str(tmp_path / "nope"), "--out", str(out))
    assert r.returncode == 2 and "nope: no such run directory" in r.stderr


def test_parquet_holds_the_same_rides_and_ledger_as_csv(runs):
    import pyarrow.parquet as pq

    pdir, cdir = runs["parquet"], runs["csv"]
    for name in ("rides", "ledger_daily", "ledger"):
        assert not (pdir / f"{name}.csv").exists() and (pdir / f"{name}.parquet").exists()
        table = pq.read_table(pdir / f"{name}.parquet")
        want = read_table(cdir / f"{name}.csv")
        assert table.column_names == list(want)
        for col in want:
            got = table.column(col).to_pylist()
            if want[col].dtype.kind == "f":
                assert np.array_equal(
                    np.array([np.nan if v is None else v for v in got], dtype=float),
                    want[col],
                    equal_nan=True,
                ), col
            else:
                assert [v or "" for v in got] == list(want[col]), col
    rides = pq.read_table(pdir / "rides.parquet")
    assert str(rides.schema.field("fare_fen").type) == "int64"
    assert str(rides.schema.field("t_pickup").type) == "double"
    assert str(rides.schema.field("status").type) == "string"
    for name in ("summary.json", "daily.csv", "timeseries.csv", "manifest.json"):
        assert (pdir / name).read_bytes() != b""
    assert not [p for p in pdir.parent.iterdir() if p.name.startswith(".")]


def run_of(tmp_path: Path, name: str, duration: str) -> Path:
    """The small city at a light load for ``duration``: a few days still take a second."""
    f = tmp_path / f"{name}.yaml"
    f.write_text(
        yaml.safe_dump(
            small(duration=duration, demand={"daily_requests": 500}, fleet={"drivers": 10})
        ),
        encoding="utf-8",
    )
    assert run_sim.main(["run", str(f), "--quiet", "--out", str(tmp_path / name)]) == 0
    return tmp_path / name


def wait_lines(fig) -> tuple[dict[str, np.ndarray], str]:
    """x of each run's curve on the wait panel of a comparison, and the panel's x label."""
    ax = next(a for a in fig.axes if a.get_title().startswith("riders' wait"))
    return {
        line.get_label(): np.asarray(mdates.date2num(line.get_xdata()), dtype=float)
        for line in ax.get_lines()
    }, ax.get_xlabel()


def test_compare_puts_runs_of_any_length_on_one_time_axis(tmp_path):
    from sim.report.compare import compare_figure, wait_series
    from sim.report.rundir import Run

    short, long = run_of(tmp_path, "short", "3h"), run_of(tmp_path, "long", "4d")
    lines, label = wait_lines(compare_figure([short, long]))
    assert label == "date"  # both start on the same day: every panel by date
    start = mdates.date2num(Run.read(short).start)
    assert lines["short"].min() > start and lines["short"].max() <= start + 3 / 24
    assert start + 3 < lines["long"].max() <= start + 4 and lines["long"].min() < start + 1
    lines, label = wait_lines(compare_figure([short]))  # short runs alone: by the hour
    assert label == "date" and (lines["short"] - start).tolist() == pytest.approx(
        [0.5 / 24, 1.5 / 24, 2.5 / 24]
    )
    x, _, label = wait_series(long)
    assert label == "days since start" and x.tolist() == [0.5, 1.5, 2.5, 3.5]
    x, _, label = wait_series(long, 3600.0, "hours")
    assert label == "hours since start" and x[0] == 0.5 and 95 < x[-1] < 96


def test_compare_and_report_refuse_output_paths_they_cannot_write(runs, tmp_path, cli):
    (tmp_path / "afile").write_text("keep")
    (tmp_path / "adir.png").mkdir()
    (tmp_path / "adir").mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    cases = [
        ("compare", "x.txt", ".png, .svg or .pdf"),
        ("compare", "noext", ".png"),
        ("compare", "adir", ".png"),
        ("compare", "adir.png", "is a directory"),
        ("compare", "afile/c.png", "afile is a file"),
        ("report", "adir", "is a directory"),
        ("report", "afile/r.html", "afile is a file"),
    ]
    for command, out, words in cases:
        r = cli(command, str(runs["csv"]), "--out", str(tmp_path / out))
        assert r.returncode == 2 and r.stderr.startswith("error:"), (out, r.stderr)
        assert words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert not list((tmp_path / "adir").iterdir()) and not list((tmp_path / "adir.png").iterdir())
    for name in ("c.svg", "c.pdf"):
        r = cli("compare", str(runs["csv"]), "--out", str(tmp_path / name))
        assert r.returncode == 0 and r.stdout.strip() == f"outputs: {tmp_path / name}"
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "c.pdf").read_bytes()[:5] == b"%PDF-"


def test_report_and_compare_of_a_parquet_run_without_pyarrow(runs, tmp_path):
    import subprocess
    import sys

    from tests.conftest import ROOT

    code = (
        "import sys; sys.modules['pyarrow'] = None; import run_sim; "
        "sys.exit(run_sim.main(sys.argv[1:]))"
    )
    for args in (
        ["report", str(runs["parquet"]), "--out", str(tmp_path / "r.html")],
        ["compare", str(runs["csv"]), str(runs["parquet"]), "--out", str(tmp_path / "c.png")],
    ):
        r = subprocess.run(
            [sys.executable, "-c", code, *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert r.returncode == 2, r.stderr
        assert r.stderr.strip() == (
            f"error: {runs['parquet']}: reading a run written with "
            "--format parquet needs pyarrow: pip install "
            "'taxisim[parquet]'"
        )
    assert list(tmp_path.iterdir()) == []


def test_report_of_a_cash_only_run_has_no_empty_adoption_figure(tmp_path, cli):
    import warnings

    from tests.conftest import ROOT

    out = tmp_path / "erlang"
    r = cli(
        "run",
        str(ROOT / "scenarios/validation/erlang_c.yaml"),
        "--quiet",
        "--out",
        str(out),
        "--set",
        "duration=3h",
        "--set",
        "outputs.plots=true",
    )
    assert r.returncode == 0 and r.stderr == "", r.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a legend with nothing in it would fail the report
        r = cli("report", str(out))
    assert r.returncode == 0 and r.stderr == "", r.stderr
    text = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="fig-adoption"' not in text and 'id="fig-fleet"' in text
    assert "Only cash in these runs" in text


def test_terminal_tables_print_ids_plain_and_money_in_one_format():
    from sim.report.text import rail_table, summary_table

    s = {
        "scenario": "x",
        "seed": 2014,
        "simulated_days": 1.0,
        "simulated_drivers": 10,
        "requests": 1200,
        "completed": 1000,
        "abandoned": 200,
        "open_at_end": 0,
        "pickup_wait_s": {"mean": 30.0, "p90": 60.0},
        "pickup_s": {"mean": 20.0},
        "utilization": 0.5,
        "payment_share": {"cash": 0.4, "alipay": 0.5, "wechat_pay": 0.1},
        "money": {
            "fares_yuan": 48315933.0,
            "subsidy_total_yuan": 512.0,
            "subsidy_per_mobile_ride_yuan": 4.876,
            "subsidy_by_policy": {"p": {"rail": "alipay", "spent_yuan": 48315933.0}},
        },
        "adoption": {
            "final": {
                f"{r}.{k}": 0.5
                for r in ("alipay", "wechat_pay")
                for k in ("riders_bound", "riders_active", "drivers_accepting")
            }
        },
        "events": 5000,
        "wall_s": 1.5,
    }
    text = summary_table(s)
    assert "2,014" not in text and " 2014" in text
    assert "48,315,933" in text and " 512\n" in text and " 4.88\n" in text
    rails = rail_table(s).splitlines()
    assert rails[2].endswith(" 48,315,933") and rails[3].endswith(" 0")  # wechat: no subsidy


def test_report_leaves_bass_parameters_of_a_flat_curve_blank():
    from sim.report.tables import bass_row

    flat = {"p": 1.0, "q": 10.0, "m": 0.3, "r2": None, "converged": False}
    row = bass_row("r", "alipay.riders_bound", flat)
    assert [row[k] for k in ("p (innovation)", "q (imitation)", "m (ceiling)", "R²")] == [None] * 4
    assert row["flags"] == "flat curve: p, q not identified" and row["rail"] == "Alipay"
    row = bass_row("r", "alipay.drivers_accepting", {"p": 0.01, "q": 0.4, "m": 0.3, "r2": 0.98})
    assert row["p (innovation)"] == 0.01 and row["flags"] == "ok"
    assert row["curve"] == "drivers accepting"
