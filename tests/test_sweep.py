"""Sweeps as users run them: the CLI on a real Dask cluster, killed and resumed, and the
Python API on a shared cluster for the rest."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.io import OutputExists, read_table
from sim.sweep import SweepError, plan, run_seed, run_sweep, spec_from_dict
from tests.conftest import ROOT, small

GRID = {"fleet.drivers": [30, 60], "demand.daily_requests": [3000, 6000, 9000]}


def write_sweep(folder: Path, **over) -> Path:
    """A 2 x 3 grid, 3 replications, of two-hour runs of the small test city."""
    (folder / "city.yaml").write_text(yaml.safe_dump(small()), encoding="utf-8")
    spec = {"base": "city.yaml", "seed": 11, "replications": 3, "grid": GRID,
            "overrides": ["duration=2h"], "metrics": ["wait_s.mean", "completed_share"], **over}
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "run_sim.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())


def counts(stdout: str) -> tuple[int, int, int]:
    """(computed, already complete, failed) from the sweep's closing line."""
    line = next(x for x in stdout.splitlines() if x.startswith("sweep:"))
    words = line.split(": ", 1)[1].split()
    return (int(words[words.index("computed,") - 1]), int(words[words.index("already") - 1]),
            int(words[words.index("failed") - 1]))


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """The sweep on two worker processes, uninterrupted: the tables every other run must match."""
    folder = tmp_path_factory.mktemp("ref")
    r = cli("sweep", str(write_sweep(folder)), "--workers", "2", "--out", str(folder / "out"))
    assert r.returncode == 0, r.stderr
    assert counts(r.stdout) == (18, 0, 0)
    return folder / "out"


@pytest.fixture(scope="module")
def client():
    """One local cluster of two processes for the Python-API tests."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_tables_of_a_sweep(reference):
    runs = read_table(reference / "runs.csv")
    assert len(runs["index"]) == 18 and set(runs["status"]) == {"ok"}
    assert list(runs["index"]) == list(range(18))
    assert len(set(runs["seed"])) == 18  # one seed per run, none shared
    pairs = {(d, q) for d, q in zip(runs["fleet.drivers"], runs["demand.daily_requests"],
                                    strict=True)}
    assert pairs == {(d, q) for d in GRID["fleet.drivers"]
                     for q in GRID["demand.daily_requests"]}
    for i in (0, 7, 17):  # each run got its parameters and its seed
        scn = json.loads((reference / "runs" / f"{i:05d}" / "manifest.json").read_text())
        assert scn["scenario"]["fleet"]["drivers"] == runs["fleet.drivers"][i]
        assert scn["scenario"]["demand"]["daily_requests"] == runs["demand.daily_requests"][i]
        assert scn["seed"] == runs["seed"][i] == run_seed(11, i)
    assert "wall_s" not in runs and "wait_s.mean" in runs
    agg = read_table(reference / "aggregate.csv")
    wait = agg["metric"] == "wait_s.mean"
    assert wait.sum() == 6 and set(agg["n"][wait]) == {3}
    m, lo, hi = agg["mean"][wait], agg["ci_lo"][wait], agg["ci_hi"][wait]
    assert np.all(lo <= m) and np.all(m <= hi) and np.all(lo < hi)
    assert (reference / "plots" / "wait_s.mean.png").stat().st_size > 0
    assert json.loads((reference / "failures.json").read_text()) == []


def test_one_worker_gives_identical_tables(reference, tmp_path):
    r = cli("sweep", str(write_sweep(tmp_path)), "--workers", "1", "--out",
            str(tmp_path / "out"), "--quiet")
    assert r.returncode == 0, r.stderr
    for name in ("runs.csv", "aggregate.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (reference / name).read_bytes(), name


def test_killed_sweep_resumes_with_only_the_missing_runs(reference, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([sys.executable, str(ROOT / "run_sim.py"), "sweep",
                             str(write_sweep(tmp_path)), "--workers", "2", "--out", str(out)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(list((out / "runs").glob("0*"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = len(list((out / "runs").glob("0*")))
    assert 4 <= done < 18, "the sweep was not killed half-way"
    assert not (out / "runs.csv").exists()
    r = cli("sweep", str(tmp_path / "sweep.yaml"), "--workers", "2", "--out", str(out))
    assert r.returncode == 0, r.stderr
    computed, skipped, failed = counts(r.stdout)
    assert skipped >= done and computed == 18 - skipped and failed == 0
    assert json.loads((out / "sweep.json").read_text())["last"]["computed"] == computed
    for name in ("runs.csv", "aggregate.csv"):
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    assert not [p for p in (out / "runs").iterdir() if p.name.startswith(".")]


def test_lost_worker_is_retried(reference, tmp_path, client):
    spec = yaml.safe_load(write_sweep(tmp_path).read_text())
    done: dict = {}
    t = threading.Thread(target=lambda: done.update(
        r=run_sweep(spec, tmp_path / "out", client=client, root=tmp_path)))
    t.start()
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        busy = [w for w, keys in client.processing().items() if keys]
        if busy and list((tmp_path / "out" / "runs").glob("0*")):
            victim = client.run(os.getpid, workers=[busy[0]])[busy[0]]
        time.sleep(0.01)
    assert victim is not None
    os.kill(victim, signal.SIGKILL)
    t.join(timeout=180)
    assert done["r"].failed == 0 and done["r"].computed == 18
    assert (tmp_path / "out" / "runs.csv").read_bytes() == (reference / "runs.csv").read_bytes()


def test_cli_on_a_running_scheduler(tmp_path, client):
    f = write_sweep(tmp_path, replications=1, grid={"fleet.drivers": [30, 60]})
    out = tmp_path / "out"
    r = cli("sweep", str(f), "--scheduler", client.scheduler.address, "--out", str(out),
            "--quiet")
    assert r.returncode == 0, r.stderr
    assert counts(r.stdout) == (2, 0, 0)
    assert json.loads((out / "sweep.json").read_text())["last"]["workers"] is None


def test_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path, client):
    spec = yaml.safe_load(write_sweep(tmp_path).read_text())
    spec.update(replications=1, grid={"city": [small()["city"],
                                               {"kind": "graphml", "path": "missing.graphml"}]})
    res = run_sweep(spec, tmp_path / "out", client=client, root=tmp_path)
    assert (res.runs, res.computed, res.failed) == (2, 1, 1)
    runs = read_table(tmp_path / "out" / "runs.csv")
    assert list(runs["status"]) == ["ok", "error"]
    assert "missing.graphml" in runs["error"][1] and runs["error"][0] == ""
    fail = json.loads((tmp_path / "out" / "failures.json").read_text())
    assert fail[0]["index"] == 1 and fail[0]["params"]["city"]["kind"] == "graphml"
    assert "Traceback" in fail[0]["traceback"]
    again = run_sweep(spec, tmp_path / "out", client=client, root=tmp_path)
    assert (again.computed, again.skipped, again.failed) == (0, 1, 1)  # failures are retried


def test_changed_scenario_is_recomputed(tmp_path, client):
    spec = yaml.safe_load(write_sweep(tmp_path).read_text())
    spec.update(replications=2, grid={})
    out = tmp_path / "out"
    assert run_sweep(spec, out, client=client, root=tmp_path).computed == 2
    assert run_sweep(spec, out, client=client, root=tmp_path).computed == 0
    spec["overrides"] = ["duration=1h"]  # same seeds, another scenario: its hash differs
    assert run_sweep(spec, out, client=client, root=tmp_path).computed == 2
    assert read_table(out / "runs.csv")["simulated_days"][0] == pytest.approx(1 / 24, abs=1e-3)


def test_seeds_come_from_the_index_only(tmp_path):
    write_sweep(tmp_path)
    spec = spec_from_dict({"base": "city.yaml", "seed": 5, "replications": 2, "grid": GRID})
    tasks = plan(spec, tmp_path, "s", tmp_path / "o")
    assert [t.seed for t in tasks] == [run_seed(5, i) for i in range(12)]
    assert run_seed(5, 3) == int(np.random.SeedSequence(5, spawn_key=(3,)).generate_state(1)[0])
    common = plan(spec.model_copy(update={"common_seeds": True}), tmp_path, "s", tmp_path / "o")
    assert {t.seed for t in common if t.replication == 1} == {run_seed(5, 1)}
    zipped = spec_from_dict({"base": "city.yaml", "grid": {"fleet.drivers": [10, 20]},
                             "zip": {"demand.daily_requests": [1000, 2000, 3000],
                                     "demand.boarding_s": [10, 20, 30]}})
    tasks = plan(zipped, tmp_path, "s", tmp_path / "o")
    assert len(tasks) == 6
    assert {(t.params["demand.daily_requests"], t.params["demand.boarding_s"])
            for t in tasks} == {(1000, 10), (2000, 20), (3000, 30)}
    assert len({t.hash for t in tasks}) == 6


def test_bad_sweep_file_exit_2_one_line_each_nothing_written(tmp_path):
    f = write_sweep(tmp_path, grid={"fleet.drivers": [30, -5], "fleet.driverz": [1]})
    out = tmp_path / "out"
    r = cli("sweep", str(f), "--out", str(out))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 2 and r.stdout == "", r.stderr
    assert lines[0].startswith(f"error: {f}: grid.fleet.drivers: ") and "(got -5)" in lines[0]
    assert lines[1] == f"error: {f}: grid.fleet.driverz: unknown key (got 1)"
    assert not out.exists()


def problems(tmp_path: Path, **over) -> list[str]:
    from sim.sweep import read_spec

    f = write_sweep(tmp_path, **over)
    with pytest.raises(SweepError) as exc:
        plan(read_spec(f), tmp_path, str(f), tmp_path / "out")
    return [str(p) for p in exc.value.problems]


def test_sweep_file_problems_name_their_path(tmp_path):
    f = tmp_path / "sweep.yaml"
    got = problems(tmp_path, replications=0, bogus=1, zip={"a.b": [1, 2], "c.d": [1]})
    assert got == [f"error: {f}: replications: Input should be greater than or equal to 1"
                   " (got 0)",
                   f"error: {f}: zip: zipped lists must have equal lengths (got [1, 2])",
                   f"error: {f}: bogus: unknown key (got 1)"]
    assert problems(tmp_path, base="nowhere.yaml") == [
        f"error: {f}: base: no scenario file {tmp_path / 'nowhere.yaml'} (got 'nowhere.yaml')"]
    got = problems(tmp_path, overrides=["duration=0h"])
    assert len(got) == 1 and got[0].startswith(f"error: {f}: overrides: duration: ")
    assert problems(tmp_path, grid={"seed": [1, 2]}) == [
        f"error: {f}: grid.seed: set by the sweep for each run"]
    with pytest.raises(SweepError):
        spec_from_dict({"base": "x.yaml", "grid": {"not a path": [1]}})


def test_refuses_a_directory_that_is_not_a_sweep(tmp_path):
    write_sweep(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("keep")
    with pytest.raises(OutputExists):
        run_sweep({"base": "city.yaml"}, tmp_path / "out", root=tmp_path)
    assert (tmp_path / "out" / "notes.txt").read_text() == "keep"


@pytest.mark.parametrize("path", sorted((ROOT / "sweeps").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_sweep_files_resolve(path, tmp_path):
    from sim.sweep import read_spec

    spec = read_spec(path)
    tasks = plan(spec, path.parent, str(path), tmp_path)
    assert len(tasks) == spec.replications * len(
        {tuple(map(str, t.params.values())) for t in tasks})
