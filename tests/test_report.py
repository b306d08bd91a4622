"""report, compare and --format parquet through run_sim.main (the console script's entry
point, called in-process to spare an interpreter start per command), checked on the files
they write."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import yaml

import run_sim
from sim.io import read_table
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
    data = small(duration="1d", adoption={"enabled": True}, outputs={"ledger": "full"},
                 payment={"riders_bound": {"alipay": 0.3}, "drivers_accepting": {"alipay": 0.5}},
                 policies=[{"id": "ali_rider_3", "rail": "alipay", "side": "rider",
                            "amount_yuan": 3, "start": "2013-12-01", "end": "2014-01-01"}])
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """The same scenario written as CSV and as parquet, and a second seed."""
    folder = tmp_path_factory.mktemp("runs")
    f = scenario(folder)
    out = {"csv": folder / "csv", "parquet": folder / "parquet", "seed2": folder / "seed2"}
    for args in (["--out", str(out["csv"])],
                 ["--out", str(out["parquet"]), "--format", "parquet"],
                 ["--out", str(out["seed2"]), "--seed", "2"]):
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
    assert "http://" not in page_text and "https://" not in page_text
    assert not [t for t, a in page.tags if t in ("script", "link", "iframe")]
    imgs = [a["src"] for t, a in page.tags if t == "img"]
    assert len(imgs) >= 3  # adoption, fleet, waits
    for src in imgs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    text = " ".join(page.text)
    assert "ali_rider_3" in text and "Money" in text and "wechat_pay" in text
    assert len([t for t, _ in page.tags if t == "table"]) >= 4


def test_report_reads_parquet_runs_and_refuses_other_dirs(runs, tmp_path, cli):
    out = tmp_path / "r.html"
    r = cli("report", str(runs["parquet"]), "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_text().count("data:image/png;base64,") >= 3
    r = cli("report", str(tmp_path))
    assert r.returncode == 2 and r.stderr.startswith("error:") and "not a run directory" in r.stderr


def test_compare_overlays_runs(runs, tmp_path, cli):
    out = tmp_path / "cmp.png"
    r = cli("compare", str(runs["csv"]), str(runs["parquet"]), str(runs["seed2"]), "--out",
            str(out))
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
                assert np.array_equal(np.array([np.nan if v is None else v for v in got],
                                               dtype=float), want[col], equal_nan=True), col
            else:
                assert [v or "" for v in got] == list(want[col]), col
    rides = pq.read_table(pdir / "rides.parquet")
    assert str(rides.schema.field("fare_fen").type) == "int64"
    assert str(rides.schema.field("t_pickup").type) == "double"
    assert str(rides.schema.field("status").type) == "string"
    for name in ("summary.json", "daily.csv", "timeseries.csv", "manifest.json"):
        assert (pdir / name).read_bytes() != b""
    assert not [p for p in pdir.parent.iterdir() if p.name.startswith(".")]
