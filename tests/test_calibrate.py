"""``run_sim.py calibrate`` as users run it: a known answer recovered, the same trials on one
worker or two, a killed calibration resumed, bad files refused line by line."""

from __future__ import annotations

import csv
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from sim.calibrate.targets import Tables, figure, read_targets
from sim.scenario.load import load_scenario
from sim.sweep.runner import run_seed
from tests.conftest import ROOT, run_cli, small

TRUTH = 6000  # demand.daily_requests the targets are generated at
SEED = 5
FILES = ("trials.csv", "figures.csv", "best.yaml", "calibration.md")


cli = run_cli

HEADER = "id,table,where,metric,agg,period,ratio_to,scale,value,tolerance,source"
TARGETS = [  # id, table, where, metric, agg, period: value and tolerance come from the truth
    ("R", "summary", "", "requests", "mean", ""),
    ("C", "daily", "rail=cash", "rides_paid", "sum", "2013-12-02"),
]


def write_targets(path: Path, values: dict[str, float] | None = None) -> None:
    """The targets, each worth ``values[id]`` within 3% (placeholders without values)."""
    lines = [HEADER]
    for tid, table, where, metric, agg, period in TARGETS:
        v = (values or {}).get(tid, 0.0)
        lines.append(
            f"{tid},{table},{where},{metric},{agg},{period},,,{v},{max(1, 0.03 * v)},truth"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_calibration(folder: Path, **over) -> Path:
    """A one-parameter calibration of the small test city whose targets are the model's own
    figures at ``demand.daily_requests = TRUTH`` on the calibration's first seed."""
    import sim

    city = small(duration="4h")
    (folder / "city.yaml").write_text(yaml.safe_dump(city), encoding="utf-8")
    truth = sim.run(
        {**city, "demand": {"daily_requests": TRUTH}, "seed": run_seed(SEED, 0)},
        folder / "truth",
        force=True,
    )
    write_targets(folder / "targets.csv")
    targets, problems = read_targets(folder / "targets.csv")
    assert not problems
    tables = Tables(truth.dir)
    write_targets(folder / "targets.csv", {t.id: figure(t, tables) for t in targets})
    spec = {
        "base": "city.yaml",
        "targets": "targets.csv",
        "seed": SEED,
        "trials": 16,
        "batch": 4,
        "startup_trials": 6,
        "params": {
            "demand.daily_requests": {"low": 1000, "high": 20000, "type": "int", "log": True}
        },
        **over,
    }
    path = folder / "cal.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("cal")
    r = cli(
        "calibrate", str(write_calibration(folder)), "--workers", "2", "--out", str(folder / "out")
    )
    assert r.returncode == 0, r.stderr
    return folder / "out"


def trials(out: Path) -> list[dict[str, str]]:
    with open(out / "trials.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def counts(stdout: str) -> tuple[int, int]:
    """(runs computed, runs already complete) from the closing line."""
    line = next(x for x in stdout.splitlines() if x.startswith("calibrate:"))
    words = line.split(": ", 2)[2].split()
    return int(words[0]), int(words[words.index("already") - 1])


def test_known_answer_is_recovered(reference):
    """Targets made by the model at 6,000 requests a day: the best trial is within 10%."""
    rows = trials(reference)
    assert [int(r["trial"]) for r in rows] == list(range(16))
    assert {r["status"] for r in rows} == {"ok"}
    best = min(rows, key=lambda r: float(r["loss"]))
    assert abs(int(best["demand.daily_requests"]) / TRUTH - 1) < 0.1, best
    far = [r for r in rows if abs(int(r["demand.daily_requests"]) / TRUTH - 1) > 0.5]
    assert far and min(float(r["loss"]) for r in far) > 10 * float(best["loss"])


def test_outputs_of_a_calibration(reference):
    rows = trials(reference)
    best = min(rows, key=lambda r: float(r["loss"]))
    # best.yaml extends the base with the fitted value and is a valid scenario
    fitted = yaml.safe_load((reference / "best.yaml").read_text())
    assert fitted["extends"] == "../city.yaml"
    scn = load_scenario(reference / "best.yaml")
    assert scn.demand.daily_requests == int(best["demand.daily_requests"])
    # every run of a trial shares the trial's parameters; seeds are common to all trials
    with open(reference / "figures.csv", newline="") as f:
        figs = list(csv.DictReader(f))
    assert len(figs) == 16 * len(TARGETS)
    assert {r["seed"] for r in figs} == {str(run_seed(SEED, 0))}
    assert float(best["R"]) == next(
        float(r["value"]) for r in figs if r["trial"] == best["trial"] and r["target"] == "R"
    )
    md = (reference / "calibration.md").read_text()
    assert f"**{best['demand.daily_requests']}**" in md and "| R |" in md and "| C |" in md
    assert (reference / "fit.png").read_bytes()[:4] == b"\x89PNG"


def test_one_worker_gives_the_same_trials(reference, tmp_path):
    r = cli(
        "calibrate",
        str(write_calibration(tmp_path)),
        "--workers",
        "1",
        "--out",
        str(tmp_path / "o"),
    )
    assert r.returncode == 0, r.stderr
    for name in FILES:
        assert (tmp_path / "o" / name).read_bytes() == (reference / name).read_bytes(), name


def test_killed_calibration_resumes(reference, tmp_path):
    out = tmp_path / "out"
    path = write_calibration(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_sim.py"), "calibrate", str(path), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while len(list((out / "runs").glob("0*"))) < 6 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((out / "runs").glob("0*")))
    assert 6 <= done < 16, "the calibration was not killed half-way"
    assert not (out / "best.yaml").exists()
    if (out / "trials.csv").exists():  # the batches finished before the kill, whole
        partial = (out / "trials.csv").read_text().splitlines()
        assert len(partial) - 1 in (4, 8, 12)
        assert partial == (reference / "trials.csv").read_text().splitlines()[: len(partial)]
    r = cli("calibrate", str(path), "--workers", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    computed, skipped = counts(r.stdout)
    assert skipped >= done and computed + skipped == 16
    for name in FILES:
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    r = cli("calibrate", str(path), "--out", str(out))  # finished: nothing to compute
    assert counts(r.stdout) == (0, 16)


def bad_case(tmp_path: Path, spec: dict, targets: list[str] | None = None) -> list[str]:
    """Run calibrate on a broken file: exit 2, nothing written; returns the error lines."""
    (tmp_path / "city.yaml").write_text(yaml.safe_dump(small(duration="4h")), encoding="utf-8")
    rows = targets or ["R,summary,,requests,mean,,,,1000,50,x"]
    (tmp_path / "t.csv").write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    full = {"base": "city.yaml", "targets": "t.csv", **spec}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(full), encoding="utf-8")
    r = cli("calibrate", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "out"))
    assert r.returncode == 2, r.stderr
    assert not (tmp_path / "out").exists() and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert all(x.startswith("error: ") for x in lines), lines
    return lines


def test_bad_calibration_file(tmp_path):
    lines = bad_case(
        tmp_path,
        {
            "trials": 0,
            "wrong": 1,
            "params": {
                "fleet.drivers": {"low": 50, "high": 10, "type": "int"},
                "dispatch.policy": {"choices": []},
                "x": {"low": 1},
            },
        },
    )
    assert len(lines) == 5, lines
    text = "\n".join(lines)
    for part in (
        "c.yaml: trials: Input should be greater than or equal to 1",
        "c.yaml: wrong: unknown key",
        "params.fleet.drivers: low must be below high",
        "params.dispatch.policy.choices",
        "params.x: give a range (low and high) or a list of choices",
    ):
        assert part in text, part


def test_a_first_trial_is_tried_first_and_is_checked(tmp_path):
    path = write_calibration(
        tmp_path, trials=4, startup_trials=4, first_trial={"demand.daily_requests": TRUTH}
    )
    r = cli("calibrate", str(path), "--workers", "1", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    rows = trials(tmp_path / "out")
    assert int(rows[0]["demand.daily_requests"]) == TRUTH  # the truth itself: no loss
    assert float(rows[0]["loss"]) == min(float(r["loss"]) for r in rows) == 0.0
    (tmp_path / "bad").mkdir()
    lines = bad_case(
        tmp_path / "bad",
        {
            "params": {"demand.daily_requests": {"low": 1000, "high": 20000, "type": "int"}},
            "first_trial": {"demand.daily_requests": 50, "fleet.drivers": 10},
        },
    )
    assert len(lines) == 2, lines
    assert "first_trial.demand.daily_requests: outside the range 1000 to 20000 (got 50)" in lines[0]
    assert "first_trial.fleet.drivers: not a parameter of this calibration" in lines[1]


def test_a_list_of_first_trials_is_tried_in_its_order_and_each_point_is_checked(tmp_path):
    points = [{"demand.daily_requests": 9000}, {"demand.daily_requests": TRUTH}]
    path = write_calibration(tmp_path, trials=2, startup_trials=2, first_trial=points)
    r = cli("calibrate", str(path), "--workers", "1", "--out", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    rows = sorted(trials(tmp_path / "out"), key=lambda row: int(row["trial"]))
    assert [int(row["demand.daily_requests"]) for row in rows] == [9000, TRUTH]
    assert float(rows[1]["loss"]) == 0.0 < float(rows[0]["loss"])
    (tmp_path / "bad").mkdir()
    lines = bad_case(
        tmp_path / "bad",
        {
            "trials": 1,
            "params": {"demand.daily_requests": {"low": 1000, "high": 20000, "type": "int"}},
            "first_trial": [{"demand.daily_requests": 2000}, {"demand.daily_requests": 50}],
        },
    )
    assert len(lines) == 2, lines
    assert "first_trial: 2 points to try first, more than the 1 trials" in lines[0]
    assert "first_trial.1.demand.daily_requests: outside the range 1000 to 20000" in lines[1]


def test_bad_targets_file(tmp_path):
    lines = bad_case(
        tmp_path,
        {"params": {"fleet.drivers": {"low": 10, "high": 50, "type": "int"}}},
        [
            "R,summary,,requests,median,,,,1000,0,x",
            "R,daily,rail=cash,rides_paid,sum,2013-12-40,,,abc,5,x",
            "S,daily,rail,rides_paid,sum,2013-12-02,,,5,5,x",
            "U,daily,,rides_paid,sum,,2013-12-02,,5,5,x",
        ],
    )
    assert lines == [
        "error: " + str(tmp_path / "t.csv") + ": line 2: agg: one of mean, sum, min, max, "
        "first, last (got 'median')",
        f"error: {tmp_path / 't.csv'}: line 2: tolerance: must be above 0 (the loss divides "
        "by it) (got '0')",
        f"error: {tmp_path / 't.csv'}: line 3: value: must be a number (got 'abc')",
        f"error: {tmp_path / 't.csv'}: line 3: period: a date or FIRST..LAST "
        "(2014-01-20..2014-01-31) (got '2013-12-40')",
        f"error: {tmp_path / 't.csv'}: line 4: where: column=value pairs joined by & (got 'rail')",
        f"error: {tmp_path / 't.csv'}: line 5: ratio_to: a growth ratio needs a period to divide",
    ]


def test_targets_that_a_run_cannot_give(tmp_path):
    """Paths, periods, tables, columns and where-values are checked before any trial."""
    lines = bad_case(
        tmp_path,
        {
            "params": {
                "fleet.driverz": {"low": 10, "high": 50},
                "fleet.drivers": {"low": -5, "high": 5},
            }
        },
        [
            "R,summary,,requests,mean,2013-12-09,,,1000,50,x",
        ],
    )
    text = "\n".join(lines)
    assert "params.fleet.driverz: unknown key" in text
    assert "params.fleet.drivers: Input should be greater than or equal to 1 (got -5.0)" in text
    assert "line 2: period: 2013-12-09 is outside the run (2013-12-02 to 2013-12-02)" in text
    lines = bad_case(
        tmp_path,
        {"params": {"fleet.drivers": {"low": 10, "high": 50, "type": "int"}}},
        [
            "A,dayly,,rides_paid,sum,,,,1,1,x",
            "B,daily,rail=alipya,ride_paid,sum,,,,1,1,x",
            "C,daily,,rail,first,,,,1,1,x",
            "D,daily,day=x,rides_paid,sum,,,,1,1,x",
        ],
    )
    text = "\n".join(lines)
    assert "line 2: table: a run writes no such table (tables: summary, daily," in text
    assert "line 3: metric: daily has no column 'ride_paid'" in text
    assert "line 3: where: no row has rail=alipya (rail: alipay, cash, wechat_pay)" in text
    assert "line 4: metric: daily.rail is not a number" in text
    assert "line 5: where: daily.day holds numbers (got 'x')" in text
