"""The calibration section of the report: ``report CALIBRATION_DIR`` and ``report RUN
--calibration DIR`` show the model against the record, with the targets table."""

from __future__ import annotations

import csv
import html
import json
import re
from pathlib import Path

import pytest
import yaml

from tests.conftest import run_cli, small

TARGETS = """id,table,where,metric,agg,period,ratio_to,scale,value,tolerance,source
R,summary,,requests,mean,,,,700,50,a made-up count
W,summary,,pickup_wait_s.mean,mean,,,,200,40,a made-up wait
"""


cli = run_cli


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory) -> Path:
    """A real calibration of the small city: two trials of two replications each."""
    folder = tmp_path_factory.mktemp("cal")
    (folder / "city.yaml").write_text(yaml.safe_dump(small(duration="2h")), encoding="utf-8")
    (folder / "targets.csv").write_text(TARGETS, encoding="utf-8")
    spec = {
        "base": "city.yaml",
        "targets": "targets.csv",
        "seed": 3,
        "trials": 2,
        "batch": 2,
        "startup_trials": 2,
        "replications": 2,
        "band_trials": 2,
        "params": {"demand.daily_requests": {"low": 4000, "high": 9000, "type": "int"}},
    }
    (folder / "cal.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    r = cli("calibrate", "cal.yaml", "--workers", "1", "--quiet", "--out", "out", cwd=folder)
    assert r.returncode == 0, r.stderr
    return folder


def table_rows(page: str, name: str) -> list[dict[str, str]]:
    """The raw cells (data-v) of a table of the page, by its download name."""
    start = page.index(f'<table class="data" data-name="{name}">')
    body = page[start : page.index("</table>", start)]
    heads = [html.unescape(h) for h in re.findall(r"<th>(.*?)</th>", body)]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1])
    return [
        dict(
            zip(heads, (html.unescape(v) for v in re.findall(r'data-v="(.*?)"', row)), strict=True)
        )
        for row in rows
    ]


def test_report_of_a_calibration_directory(calibrated: Path) -> None:
    r = cli("report", "out", "--map", "none", cwd=calibrated)
    assert r.returncode == 0, r.stderr
    page = (calibrated / "out" / "report.html").read_text(encoding="utf-8")
    assert '<h2 id="calibration">Model against the record</h2>' in page
    assert 'id="fig-calibration"' in page
    trials = list(csv.DictReader((calibrated / "out" / "trials.csv").open()))
    best = min(trials, key=lambda t: float(t["loss"]))
    assert f"<h1>best trial {best['trial']}</h1>" in page  # the best trial's run is shown
    rows = table_rows(page, "calibration_targets")
    assert [row["target"] for row in rows] == ["R", "W"]
    figures = list(csv.DictReader((calibrated / "out" / "figures.csv").open()))
    for row, (value, tol) in zip(rows, ((700, 50), (200, 40)), strict=True):
        mean = float(best[row["target"]])
        runs = [float(f["value"]) for f in figures if f["target"] == row["target"]]
        assert float(row["record"]) == value and float(row["tolerance"]) == tol
        assert float(row["model (best trial)"]) == pytest.approx(mean)
        assert float(row["band low"]) == min(runs) and float(row["band high"]) == max(runs)
        assert float(row["z"]) == pytest.approx((mean - value) / tol, abs=1e-3)
    (param,) = table_rows(page, "calibration_params")
    assert param["parameter"] == "demand.daily_requests"
    assert float(param["fitted (best trial)"]) == float(best["demand.daily_requests"])


def test_a_run_with_calibration_and_the_errors(calibrated: Path) -> None:
    run = calibrated / "out" / "runs" / "00001"
    r = cli(
        "report",
        str(run),
        "--calibration",
        "out",
        "--out",
        "r.html",
        "--map",
        "none",
        cwd=calibrated,
    )
    assert r.returncode == 0, r.stderr
    page = (calibrated / "r.html").read_text(encoding="utf-8")
    assert "<h1>00001</h1>" in page and 'id="fig-calibration"' in page
    r = cli("report", "out", str(run), cwd=calibrated)
    assert r.returncode == 2 and r.stderr == (
        "error: out: a calibration directory goes alone, or with runs as --calibration DIR\n"
    )
    r = cli("report", str(run), "--calibration", str(run), "--out", "x.html", cwd=calibrated)
    assert r.returncode == 2 and "not a calibration directory" in r.stderr
    assert not (calibrated / "x.html").exists()
    moved = json.loads((calibrated / "out" / "sweep.json").read_text())
    assert moved["spec"]["calibration"]["targets"] == "targets.csv"
    (calibrated / "targets.csv").rename(calibrated / "gone.csv")
    try:
        r = cli("report", "out", "--out", "y.html", cwd=calibrated)
        assert r.returncode == 2 and "targets file of its calibration" in r.stderr
    finally:
        (calibrated / "gone.csv").rename(calibrated / "targets.csv")


def test_the_calibration_section_draws_in_a_browser(calibrated: Path, tmp_path: Path) -> None:
    from tests.test_browser_report import make_driver, severe

    out = calibrated / "browser.html"
    r = cli("report", "out", "--out", str(out), "--map", "none", cwd=calibrated)
    assert r.returncode == 0, r.stderr
    driver = make_driver(tmp_path)  # skips without a browser
    try:
        driver.get(out.as_uri())
        traces, svgs, points = driver.execute_script(
            "var d = document.getElementById('fig-calibration');"
            "return [(d.data || []).length, d.querySelectorAll('.main-svg').length,"
            "        d.querySelectorAll('.scatterlayer .point').length];"
        )
        assert traces > 0 and svgs > 0 and points >= 2 * 2 * 2 + 2  # runs and best means
        rows = driver.execute_script(
            "return document.querySelector('table[data-name=\"calibration_targets\"]')"
            ".tBodies[0].rows.length;"
        )
        assert rows == 2
        assert severe(driver) == []
    finally:
        driver.quit()
