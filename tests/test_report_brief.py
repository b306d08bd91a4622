"""The comparison report against a baseline, damaged run directories, text labels, Bass
flags and pandas frames: through run_sim.main and sim.run, checked on what they write."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import run_sim
import sim
from sim.report.brief import bass_flags
from tests.conftest import ROOT, small


def scenario(folder: Path, name: str, subsidy: bool) -> Path:
    """Six days of the small city with adoption on; with ``subsidy``, Alipay pays riders
    5 yuan for the first three days."""
    policies = (
        [
            {
                "id": "ali_rider_5",
                "rail": "alipay",
                "side": "rider",
                "amount_yuan": 5,
                "start": "2013-12-02",
                "end": "2013-12-05",
            }
        ]
        if subsidy
        else []
    )
    data = small(
        name=name.replace("$", "_"),  # a scenario name is an identifier; a directory is not
        start="2013-12-02T00:00:00",
        duration="6d",
        demand={"daily_requests": 1500},
        fleet={"drivers": 20},
        adoption={"enabled": True},
        population={"sample": 0.5},
        payment={"riders_bound": {"alipay": 0.3}, "drivers_accepting": {"alipay": 0.5}},
        policies=policies,
    )
    path = folder / f"{name.replace('$', '_')}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pair")
    out = {}
    for name, subsidy in (("five$yuan", True), ("none", False)):
        out[name] = folder / name
        f = scenario(folder, name, subsidy)
        assert run_sim.main(["run", str(f), "--quiet", "--out", str(out[name])]) == 0
    return out


def test_report_against_a_baseline_reads_like_a_brief(pair, tmp_path, capsys):
    out = tmp_path / "brief.html"
    code = run_sim.main(
        ["report", str(pair["five$yuan"]), "--baseline", str(pair["none"]), "--out", str(out)]
    )
    assert code == 0, capsys.readouterr().err
    text = out.read_text(encoding="utf-8")
    assert "five$yuan vs none" in text  # the title, with the $ as written
    assert "Against the baseline, none" in text and 'data-name="against_baseline"' in text
    assert "extra subsidy per extra card-bound rider" in text
    assert "days after the last subsidy stopped (2013-12-05)" in text  # what remains
    assert "Rides paid over the last 7 days" in text and "No subsidy was paid." in text
    assert 'id="fig-timeline"' in text and 'id="fig-adoption"' in text
    assert "subsidy window five$yuan: ali_rider_5" in text  # the window, named in the legend
    assert 'data-name="bass_fits"' in text  # six days: every curve fitted and flagged or ok


def test_increments_are_the_difference_of_the_two_runs(pair):
    from sim.report.brief import increment
    from sim.report.rundir import Run

    run, base = Run.read(pair["five$yuan"]), Run.read(pair["none"])
    inc = increment(run, base)
    assert inc.horizon.isoformat() == "2013-12-07"  # the last day: 30 days after is later
    assert "short of 30" in inc.horizon_note
    riders = run.summary["simulated_riders"] / run.summary["sample"]

    def last(r: Run, rail: str, key: str) -> float:
        return float(r.daily[key][r.rail_rows(rail)][-1])

    want = (
        last(run, "alipay", "riders_bound_share") - last(base, "alipay", "riders_bound_share")
    ) * riders
    assert inc.extra_bound["alipay"] == pytest.approx(want)
    mobile = [float(r.daily["rides_paid"][r.daily["rail"] != "cash"].sum()) for r in (run, base)]
    assert inc.extra_mobile_rides == pytest.approx(mobile[0] - mobile[1])
    spent = run.summary["money"]["subsidy_total_yuan"]
    assert spent > 0 and inc.extra_subsidy_yuan == pytest.approx(spent)
    if inc.extra_bound["alipay"] > 0:
        extra = sum(v for v in inc.extra_bound.values() if v > 0)
        assert inc.cost_per_adopter == pytest.approx(spent / extra)


def test_compare_and_report_take_labels_as_text(pair, tmp_path, capsys):
    png = tmp_path / "c.png"
    args = ["compare", str(pair["five$yuan"]), str(pair["none"]), "--out", str(png)]
    assert run_sim.main([*args, "--label", "$5 a ride", "--label", "$0"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    capsys.readouterr()
    assert run_sim.main([*args, "--label", "only one"]) == 2
    err = capsys.readouterr().err
    assert err.strip() == "error: --label given 1 times for 2 runs"


def damage(src: Path, dst: Path, name: str, how: str) -> Path:
    """A copy of a run directory with one file damaged."""
    import shutil

    shutil.copytree(src, dst)
    path = dst / name
    text = path.read_text(encoding="utf-8")
    if how == "cut":
        path.write_text(text[: len(text) // 2], encoding="utf-8")
    elif how == "empty":
        path.write_text("", encoding="utf-8")
    elif how == "short_row":
        lines = text.splitlines()
        lines[3] = ",".join(lines[3].split(",")[:4])
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dst


@pytest.mark.parametrize(
    "name,how,words",
    [
        ("summary.json", "cut", "damaged, not valid JSON"),
        ("daily.csv", "short_row", "damaged"),
        ("daily.csv", "empty", "damaged"),
        ("rides.csv", "short_row", "damaged"),
        ("timeseries.csv", "cut", "damaged"),
    ],
)
def test_damaged_run_directories_are_one_line_naming_the_file(
    pair, tmp_path, capsys, name, how, words
):
    bad = damage(pair["none"], tmp_path / "bad", name, how)
    capsys.readouterr()
    for args in (
        ["report", str(pair["five$yuan"]), str(bad), "--out", str(tmp_path / "r.html")],
        ["compare", str(pair["five$yuan"]), str(bad), "--out", str(tmp_path / "c.png")],
    ):
        if args[0] == "compare" and name == "timeseries.csv":
            continue  # compare does not read the time series
        code = run_sim.main(args)
        err = capsys.readouterr().err
        assert code == 2, (args, err)
        assert err.startswith(f"error: {bad / name}: ") and words in err, err
        assert len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad"]  # nothing written


def test_bass_flags_say_what_is_wrong_with_a_fit():
    normal = {"p": 0.01, "q": 0.4, "m": 0.8, "r2": 0.99, "converged": True}
    assert bass_flags(normal) == []
    assert bass_flags({**normal, "q": 1e-6}) == ["q at lower bound", "not S-shaped (q ≤ p)"]
    assert bass_flags({**normal, "m": 1.0}) == ["m at upper bound"]
    assert bass_flags({**normal, "p": 0.5}) == ["not S-shaped (q ≤ p)"]
    assert bass_flags({**normal, "r2": 0.5, "converged": False}) == [
        "did not converge",
        "poor fit (R² < 0.9)",
    ]
    assert bass_flags({**normal, "r2": None}) == ["flat curve: p, q not identified"]
    assert bass_flags({}) == []


def test_results_frame_is_pandas_and_wrong_names_list_the_tables():
    res = sim.run(
        ROOT / "scenarios/validation/erlang_c.yaml", overrides=["duration=3h", "outputs.rides=true"]
    )
    daily = res.frame("daily")
    assert isinstance(daily, pd.DataFrame) and list(daily.columns) == list(res.table("daily"))
    assert daily["day"].dtype == np.int64 and daily["riders_bound_share"].dtype == np.float64
    rides = res.frame("rides")
    assert len(rides) == res.summary["requests"] and rides["fare_fen"].dtype == np.float64
    assert res.tables() == [
        "rides",
        "timeseries",
        "daily",
        "demand",
        "platforms",
        "ledger_daily",
    ]
    with pytest.raises(KeyError, match="unknown table 'summary'; known: rides, timeseries, daily"):
        res.frame("summary")
    with pytest.raises(KeyError, match="unknown table 'dayly' \\(did you mean 'daily'\\?\\)"):
        res.frame("dayly")
    with pytest.raises(KeyError, match="'ledger': not kept by this run"):
        res.table("ledger")
    assert json.loads((res.dir / "summary.json").read_text())["requests"] == len(rides)
