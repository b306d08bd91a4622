"""Sweeps as users run them: the CLI on a real Dask cluster, killed and resumed, and the
Python API on a shared cluster for the rest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.errors import OutputExists, SweepError
from sim.io.files import read_table
from sim.sweep.runner import plan, run_seed, run_sweep
from sim.sweep.spec import spec_from_dict
from tests.conftest import ROOT, run_cli, small

GRID = {"fleet.drivers": [30, 60], "demand.daily_requests": [3000, 6000, 9000]}


def write_sweep(folder: Path, **over) -> Path:
    """A 2 x 3 grid, 3 replications, of two-hour runs of the small test city."""
    (folder / "city.yaml").write_text(yaml.safe_dump(small()), encoding="utf-8")
    spec = {
        "base": "city.yaml",
        "seed": 11,
        "replications": 3,
        "grid": GRID,
        "overrides": ["duration=2h"],
        "metrics": ["pickup_wait_s.mean", "completed_share"],
        **over,
    }
    path = folder / "sweep.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    return path


cli = run_cli


def counts(stdout: str) -> tuple[int, int, int]:
    """(computed, already complete, failed) from the sweep's closing line."""
    line = next(x for x in stdout.splitlines() if x.startswith("sweep:"))
    words = line.split(": ", 1)[1].split()
    return (
        int(words[words.index("computed,") - 1]),
        int(words[words.index("already") - 1]),
        int(words[words.index("failed") - 1]),
    )


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

    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
    )
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def test_tables_of_a_sweep(reference):
    runs = read_table(reference / "runs.csv")
    assert len(runs["index"]) == 18 and set(runs["status"]) == {"ok"}
    assert list(runs["index"]) == list(range(18))
    assert len(set(runs["seed"])) == 18  # one seed per run, none shared
    pairs = {
        (d, q) for d, q in zip(runs["fleet.drivers"], runs["demand.daily_requests"], strict=True)
    }
    assert pairs == {(d, q) for d in GRID["fleet.drivers"] for q in GRID["demand.daily_requests"]}
    for i in (0, 7, 17):  # each run got its parameters and its seed
        scn = json.loads((reference / "runs" / f"{i:05d}" / "manifest.json").read_text())
        assert scn["scenario"]["fleet"]["drivers"] == runs["fleet.drivers"][i]
        assert scn["scenario"]["demand"]["daily_requests"] == runs["demand.daily_requests"][i]
        assert scn["seed"] == runs["seed"][i] == run_seed(11, i)
    assert "wall_s" not in runs and "pickup_wait_s.mean" in runs
    agg = read_table(reference / "aggregate.csv")
    wait = agg["metric"] == "pickup_wait_s.mean"
    assert wait.sum() == 6 and set(agg["n"][wait]) == {3}
    m, lo, hi = agg["mean"][wait], agg["ci_lo"][wait], agg["ci_hi"][wait]
    assert np.all(lo <= m) and np.all(m <= hi) and np.all(lo < hi)
    assert (reference / "plots" / "pickup_wait_s.mean.png").stat().st_size > 0
    assert json.loads((reference / "failures.json").read_text()) == []


def test_one_worker_gives_identical_tables(reference, tmp_path):
    r = cli(
        "sweep",
        str(write_sweep(tmp_path)),
        "--workers",
        "1",
        "--out",
        str(tmp_path / "out"),
        "--quiet",
    )
    assert r.returncode == 0, r.stderr
    for name in ("runs.csv", "aggregate.csv"):
        assert (tmp_path / "out" / name).read_bytes() == (reference / name).read_bytes(), name


def test_killed_sweep_resumes_with_only_the_missing_runs(reference, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run_sim.py"),
            "sweep",
            str(write_sweep(tmp_path)),
            "--workers",
            "2",
            "--out",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
    t = threading.Thread(
        target=lambda: done.update(
            r=run_sweep(spec, tmp_path / "out", client=client, root=tmp_path)
        )
    )
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
    r = cli("sweep", str(f), "--scheduler", client.scheduler.address, "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert counts(r.stdout) == (2, 0, 0)
    assert json.loads((out / "sweep.json").read_text())["last"]["workers"] is None


def test_failed_run_is_recorded_and_the_sweep_goes_on(tmp_path, client):
    spec = yaml.safe_load(write_sweep(tmp_path).read_text())
    spec.update(
        replications=1,
        grid={"city": [small()["city"], {"kind": "graphml", "path": "missing.graphml"}]},
    )
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
    zipped = spec_from_dict(
        {
            "base": "city.yaml",
            "grid": {"fleet.drivers": [10, 20]},
            "zip": {"demand.daily_requests": [1000, 2000, 3000], "demand.boarding_s": [10, 20, 30]},
        }
    )
    tasks = plan(zipped, tmp_path, "s", tmp_path / "o")
    assert len(tasks) == 6
    assert {(t.params["demand.daily_requests"], t.params["demand.boarding_s"]) for t in tasks} == {
        (1000, 10),
        (2000, 20),
        (3000, 30),
    }
    assert len({t.hash for t in tasks}) == 6


def test_bad_sweep_file_exit_2_one_line_each_nothing_written(tmp_path):
    f = write_sweep(tmp_path, grid={"fleet.drivers": [30, -5], "fleet.driverz": [1]})
    out = tmp_path / "out"
    r = cli("sweep", str(f), "--out", str(out))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 2 and r.stdout == "", r.stderr
    assert lines[0].startswith(f"error: {f}: grid.fleet.drivers: ") and "(got -5)" in lines[0]
    assert lines[1] == (
        f"error: {f}: grid.fleet.driverz: unknown key 'driverz' (did you mean 'drivers'?);"
        " known: drivers, shifts, idle (got 1)"
    )
    assert not out.exists()


def test_a_bad_path_is_reported_once_whatever_its_values(tmp_path):
    f = tmp_path / "sweep.yaml"
    got = problems(
        tmp_path,
        grid={
            "fleet.nosuch": [1, 2, 3],
            "fleet.drivers": [-1, -2, 30],
            "policies.7.amount_yuan": [1, 2],
        },
    )
    assert got == [
        f"error: {f}: grid.fleet.nosuch: unknown key 'nosuch'; known: drivers, shifts, idle"
        " (got 1, 2, 3)",
        f"error: {f}: grid.fleet.drivers: Input should be greater than or equal to 1 (got -1, -2)",
        f"error: {f}: grid.policies.7.amount_yuan: no list item 7; the list is empty",
    ]


def test_unknown_metrics_are_refused_before_any_run(tmp_path):
    metrics = ["pickup_wait_s.mean", "pickup_wait.mean", "no.such.metric", "wait_s.p90"]
    f = write_sweep(tmp_path, metrics=[*metrics, "dispatch.street.wait_s.mean"])
    out = tmp_path / "out"
    r = cli("sweep", str(f), "--out", str(out))
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and r.stdout == "" and len(lines) == 4, r.stderr
    assert lines[0].startswith(
        f"error: {f}: metrics: unknown metric 'pickup_wait.mean' (did you mean"
        " 'pickup_wait_s.mean' or "
    )
    assert lines[1].startswith(
        f"error: {f}: metrics: unknown metric 'no.such.metric'; known: "
    ) and lines[1].endswith(
        "in all, such as completed_share, pickup_wait_s.mean, money.subsidy_total_yuan,"
        " adoption.final.alipay.riders_bound"
    )
    assert lines[2].startswith(
        f"error: {f}: metrics: unknown metric 'wait_s.p90' (renamed 'pickup_wait_s.p90');"
    )
    assert lines[3].startswith(
        f"error: {f}: metrics: unknown metric 'dispatch.street.wait_s.mean'"
        " (renamed 'dispatch.street.match_wait_s.mean');"
    )
    assert not out.exists()


def test_probe_knows_every_metric_a_run_reports(reference):
    from sim.sweep.probe import probe_metrics
    from sim.sweep.spec import read_spec

    spec = read_spec(reference.parent / "sweep.yaml")
    tasks = plan(spec, reference.parent, "s", reference)
    names = probe_metrics(tasks[0].scenario)
    columns = (reference / "runs.csv").read_text().splitlines()[0].split(",")
    reported = set(columns[columns.index("error") + 1 :])
    assert reported and reported <= names
    assert "adoption.bass_fit.alipay.riders_bound.p" in names  # runs of five days have it


def problems(tmp_path: Path, **over) -> list[str]:
    from sim.sweep.spec import read_spec

    f = write_sweep(tmp_path, **over)
    with pytest.raises(SweepError) as exc:
        plan(read_spec(f), tmp_path, str(f), tmp_path / "out")
    return [str(p) for p in exc.value.problems]


def test_sweep_file_problems_name_their_path(tmp_path):
    f = tmp_path / "sweep.yaml"
    got = problems(tmp_path, replications=0, bogus=1, zip={"a.b": [1, 2], "c.d": [1]})
    assert got == [
        f"error: {f}: replications: Input should be greater than or equal to 1 (got 0)",
        f"error: {f}: zip: zipped lists must have equal lengths (got [1, 2])",
        f"error: {f}: bogus: unknown key 'bogus'; known: base, seed, replications, grid, zip,"
        " metrics, overrides, common_seeds (got 1)",
    ]
    assert problems(tmp_path, base="nowhere.yaml") == [
        f"error: {f}: base: no scenario file {tmp_path / 'nowhere.yaml'} (got 'nowhere.yaml')"
    ]
    got = problems(tmp_path, overrides=["duration=0h"])
    assert len(got) == 1 and got[0].startswith(f"error: {f}: overrides: duration: ")
    assert problems(tmp_path, grid={"seed": [1, 2]}) == [
        f"error: {f}: grid.seed: set by the sweep for each run"
    ]
    with pytest.raises(SweepError):
        spec_from_dict({"base": "x.yaml", "grid": {"not a path": [1]}})


def test_local_sweep_leaves_port_8787_alone(tmp_path):
    """The scheduler's HTTP server takes a free port, so a second cluster never warns."""
    import contextlib
    import socket

    held = socket.socket()
    with contextlib.suppress(OSError):  # if something has it already: the same situation
        held.bind(("127.0.0.1", 8787))  # a dashboard of another cluster, as far as Dask knows
    try:
        f = write_sweep(tmp_path, replications=1, grid={"fleet.drivers": [30]})
        r = cli("sweep", str(f), "--workers", "1", "--out", str(tmp_path / "out"), "--quiet")
    finally:
        held.close()
    assert r.returncode == 0 and r.stderr == "", r.stderr


def test_a_locked_directory_is_refused_before_a_cluster_starts(tmp_path):
    import fcntl

    write_sweep(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    with open(out / ".lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        code = (
            "import sys\nfrom sim.errors import OutputExists\nfrom sim.sweep import run_sweep\n"
            "try:\n    run_sweep('sweep.yaml', 'out', workers=1)\n"
            "except OutputExists as exc:\n    print(exc)\n"
            "print('distributed' in sys.modules)\n"
        )
        r = subprocess.run(
            [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
        )
    assert r.stdout.splitlines() == ["out: another sweep is running in this directory", "False"], (
        r.stdout + r.stderr
    )
    assert sorted(p.name for p in out.iterdir()) == [".lock"]


def test_another_sweeps_directory_is_refused_unless_forced(tmp_path, client):
    first = write_sweep(tmp_path, replications=1, grid={"fleet.drivers": [30, 60]})
    second = tmp_path / "other.yaml"
    second.write_text(
        yaml.safe_dump({**yaml.safe_load(first.read_text()), "grid": {"fleet.drivers": [45]}}),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    r = cli("sweep", str(first), "--scheduler", client.scheduler.address, "--out", str(out))
    assert r.returncode == 0, r.stderr
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    r = cli("sweep", str(second), "--scheduler", client.scheduler.address, "--out", str(out))
    assert r.returncode == 2 and r.stderr == (
        f"error: {second}: {out}: holds the results of another sweep (sweep file "
        f"{first}); use another --out, or --force to replace them\n"
    ), r.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    with pytest.raises(OutputExists):
        run_sweep(yaml.safe_load(second.read_text()), out, client=client, root=tmp_path)
    r = cli(
        "sweep", str(second), "--scheduler", client.scheduler.address, "--out", str(out), "--force"
    )
    assert r.returncode == 0 and counts(r.stdout) == (1, 0, 0), r.stderr
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["00000"]
    assert read_table(out / "runs.csv")["fleet.drivers"].tolist() == [45]
    assert json.loads((out / "sweep.json").read_text())["sweep_file"] == str(second)
    again = cli(
        "sweep", str(second), "--scheduler", client.scheduler.address, "--out", str(out)
    )  # its own directory now: resumed
    assert again.returncode == 0 and counts(again.stdout) == (0, 1, 0), again.stderr


def test_a_smaller_grid_leaves_no_old_runs_behind(tmp_path, client):
    spec = yaml.safe_load(write_sweep(tmp_path, replications=1).read_text())
    out = tmp_path / "out"
    assert run_sweep(spec, out, client=client, root=tmp_path).runs == 6
    spec["grid"] = {"fleet.drivers": [30, 60]}
    res = run_sweep(spec, out, client=client, root=tmp_path)
    assert res.runs == 2
    assert sorted(p.name for p in (out / "runs").iterdir()) == ["00000", "00001"]
    assert len(read_table(out / "runs.csv")["index"]) == 2


def test_a_script_without_main_guard_gets_one_clear_error(tmp_path):
    write_sweep(tmp_path, replications=1, grid={"fleet.drivers": [30]})
    script = tmp_path / "my_sweep.py"
    script.write_text(
        "from sim.sweep import run_sweep\nres = run_sweep('sweep.yaml', 'out', workers=1)\n",
        encoding="utf-8",
    )
    r = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=180
    )
    assert r.returncode == 1 and r.stdout == ""
    assert r.stderr.count("Traceback") == 1 and len(r.stderr.splitlines()) < 15, r.stderr
    assert r.stderr.splitlines()[-1] == (
        f"sim.errors.SweepError: error: {script}: the local Dask cluster's worker processes "
        'failed to start: call run_sweep under `if __name__ == "__main__":` in this script '
        "(each worker process imports the script again)"
    )
    assert not (tmp_path / "out").exists()


def figure_fits(fig) -> None:
    """Every text of a figure (title, axis labels, ticks, legends) lies inside it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    box = fig.bbox
    for ext in [
        *(t.get_window_extent(renderer) for t in fig.texts),  # the title
        *(ax.get_tightbbox(renderer) for ax in fig.axes),
    ]:  # labels, ticks, legend
        assert box.x0 - 1 <= ext.x0 and ext.x1 <= box.x1 + 1, ext
        assert box.y0 - 1 <= ext.y0 and ext.y1 <= box.y1 + 1, ext


def test_plot_text_fits_and_pooled_lines_say_so():
    from sim.sweep.results import MAX_LINES, sweep_figure

    metric = "adoption.final.alipay.riders_bound"
    amounts = {"policies.0.amount_yuan": [0, 2, 5, 10], "policies.1.amount_yuan": [0, 2, 5, 10]}
    one_axis = spec_from_dict({"base": "x.yaml", "zip": amounts})  # sweeps/subsidy_amount.yaml
    fig = sweep_figure(one_axis, fake_records(one_axis, metric), metric)
    figure_fits(fig)
    assert fig.get_suptitle().startswith("adoption.final.alipay.")
    spec = spec_from_dict(
        {
            "base": "x.yaml",
            "grid": {
                "fleet.drivers": [8000, 10000, 12000],
                "dispatch.policy": ["nearest", "batch"],
            },
            "zip": {p: v[:3] for p, v in amounts.items()},
        }
    )  # the README's
    fig = sweep_figure(spec, fake_records(spec, metric), metric)
    figure_fits(fig)
    assert all(ax.get_legend() for ax in fig.axes)
    policy_panel = fig.axes[1]  # its others take 3 x 3 > MAX_LINES values: pooled
    assert MAX_LINES < 9 and len(policy_panel.lines) > 0
    (label,) = policy_panel.get_legend_handles_labels()[1]
    assert label.startswith("all 9 combinations of") and label.endswith("pooled")
    assert len(fig.axes[0].get_legend_handles_labels()[1]) == 6  # one per other value pair


def fake_records(spec, metric: str) -> list[dict]:
    """Three successful runs per grid point of ``spec`` (scenarios left unresolved)."""
    return [
        {"task": t, "status": "ok", "metrics": {metric: 0.1 * (t.index % 7)}}
        for t in plan_free(spec)
    ]


def plan_free(spec):
    """The tasks of ``spec`` without resolving scenarios (for plots only)."""
    import itertools

    from sim.sweep.runner import RunTask

    axes = spec.axes()
    out = []
    for point, combo in enumerate(itertools.product(*(rows for _, _, rows in axes))):
        params = {
            p: v
            for (_, paths, _), row in zip(axes, combo, strict=True)
            for p, v in zip(paths, row, strict=True)
        }
        for rep in range(3):
            out.append(RunTask(len(out), point, rep, params, len(out), {}, "", ""))
    return out


def test_refuses_a_directory_that_is_not_a_sweep(tmp_path):
    write_sweep(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("keep")
    with pytest.raises(OutputExists):
        run_sweep({"base": "city.yaml"}, tmp_path / "out", root=tmp_path)
    assert (tmp_path / "out" / "notes.txt").read_text() == "keep"


def test_a_folder_of_runs_without_sweep_json_is_not_taken_even_with_force(tmp_path):
    """A directory that merely has runs/ and a runs.csv is somebody's own: never pruned."""
    write_sweep(tmp_path)
    out = tmp_path / "mine"
    (out / "runs" / "20131228").mkdir(parents=True)
    (out / "runs.csv").write_text("mine")
    (out / "plots").mkdir()
    (out / "plots" / "my_figure.png").write_text("mine")
    before = sorted(str(p.relative_to(out)) for p in out.rglob("*"))
    for force in (False, True):
        with pytest.raises(OutputExists, match="not a sweep directory"):
            run_sweep({"base": "city.yaml"}, out, root=tmp_path, force=force)
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == before


def test_a_sweep_refuses_the_current_directory(tmp_path, monkeypatch):
    write_sweep(tmp_path)
    (tmp_path / "runs" / "12345").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    for out in (".", str(tmp_path.parent)):
        with pytest.raises(OutputExists, match="current directory"):
            run_sweep({"base": "city.yaml"}, out, root=tmp_path, force=True)
    assert (tmp_path / "runs" / "12345").is_dir()


def test_an_old_relative_owner_is_matched_by_path_not_name(tmp_path, monkeypatch):
    from sim.sweep.directory import check_out, identity

    for d in ("A", "B"):
        (tmp_path / d).mkdir()
        (tmp_path / d / "sweep.yaml").write_text("base: x.yaml")
    out = tmp_path / "o"
    out.mkdir()
    (out / "sweep.json").write_text(
        json.dumps({"sweep_file": "A/sweep.yaml", "spec": {}, "runs": 0})
    )
    monkeypatch.chdir(tmp_path)
    check_out(out, identity("A/sweep.yaml"))  # the same file: resumed
    with pytest.raises(OutputExists, match="another sweep"):
        check_out(out, identity("B/sweep.yaml"))  # same name, another file


@pytest.mark.parametrize("path", sorted((ROOT / "sweeps").glob("*.yaml")), ids=lambda p: p.stem)
def test_shipped_sweep_files_resolve(path, tmp_path):
    from sim.sweep.spec import read_spec

    spec = read_spec(path)
    tasks = plan(spec, path.parent, str(path), tmp_path)
    assert len(tasks) == spec.replications * len(
        {tuple(map(str, t.params.values())) for t in tasks}
    )


def test_validate_checks_every_run_of_a_sweep_file(tmp_path):
    good = write_sweep(tmp_path, replications=2, grid={"fleet.drivers": [30, 60]})
    r = cli("validate", str(good))
    assert r.returncode == 0 and "sweep of 4 runs (2 points x 2 replications)" in r.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        yaml.safe_dump(
            {
                **yaml.safe_load(good.read_text()),
                "grid": {"fleet.drivers": [30, -5]},
                "metrics": ["wait.mean"],
            }
        ),
        encoding="utf-8",
    )
    r = cli("validate", str(bad))
    assert r.returncode == 2 and r.stderr.startswith(f"error: {bad}: grid.fleet.drivers"), r.stderr
    assert "Traceback" not in r.stderr
    bad.write_text(
        yaml.safe_dump({**yaml.safe_load(good.read_text()), "metrics": ["wait.mean"]}),
        encoding="utf-8",
    )
    r = cli("validate", str(bad))
    assert r.returncode == 2 and "unknown metric 'wait.mean'" in r.stderr, r.stderr


def test_probe_names_do_not_depend_on_what_a_tiny_run_happened_to_see():
    """A broadcast channel reports its grab race even when a tiny probe pushed nothing."""
    from sim.sweep.probe import probe_metrics

    scenario = {
        **small(),
        "dispatch": {"policy": "broadcast"},
        "population": {"riders_apps": {"didi": 0.01, "kuaidi": 0.01}},
    }
    names = probe_metrics(scenario)
    assert names is not None
    for platform in ("didi", "kuaidi"):
        assert f"dispatch.app:{platform}.grab_race.grabs_per_push" in names


def test_a_users_own_sweep_json_is_not_a_sweep_record(tmp_path):
    write_sweep(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "sweep.json").write_text(json.dumps({"base": "city.yaml", "my": "config"}))
    (out / "runs.csv").write_text("mine")
    (out / "plots").mkdir()
    (out / "plots" / "fig1.png").write_text("mine")
    before = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    for force in (False, True):
        with pytest.raises(OutputExists, match="not a sweep directory"):
            run_sweep({"base": "city.yaml"}, out, root=tmp_path, force=force)
    assert {
        str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()
    } == before


def test_a_sweep_interrupted_before_it_wrote_its_record_resumes(tmp_path, client):
    """Older versions wrote sweep.json only at the end: a folder of finished runs and the
    lock is resumed, its runs kept."""
    spec = yaml.safe_load(
        write_sweep(tmp_path, replications=1, grid={"fleet.drivers": [30, 60]}).read_text()
    )
    out = tmp_path / "out"
    assert run_sweep(spec, out, client=client, root=tmp_path).computed == 2
    for name in ("sweep.json", "runs.csv", "aggregate.csv", "timing.csv", "failures.json"):
        (out / name).unlink()
    shutil.rmtree(out / "plots")
    shutil.rmtree(out / "runs" / "00001")  # not finished when it stopped
    res = run_sweep(spec, out, client=client, root=tmp_path)
    assert (res.computed, res.skipped) == (1, 1)


def test_numpy_grid_values_from_python(tmp_path):
    import numpy as np

    from sim.sweep.spec import spec_from_dict

    for values in (np.arange(30, 61, 30), list(np.arange(30, 61, 30))):
        spec = spec_from_dict({"base": "city.yaml", "grid": {"fleet.drivers": values}})
        assert spec.model_dump(mode="json")["grid"]["fleet.drivers"] == [30, 60]


def test_ctrl_c_at_the_terminal_gives_one_line_and_keeps_finished_runs(tmp_path):
    """Ctrl-C reaches the whole process group: the workers ignore it, the sweep closes."""
    import signal
    import time

    f = write_sweep(tmp_path, replications=6, overrides=["duration=3d"])
    out = tmp_path / "out"
    p = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "run_sim.py"),
            "sweep",
            str(f),
            "--workers",
            "2",
            "--out",
            str(out),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not list(out.glob("runs/*/sweep_run.json")) and time.monotonic() < deadline:
        time.sleep(0.1)
    os.killpg(p.pid, signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130, err
    assert err.splitlines() == [
        "interrupted: finished runs are kept; run the sweep again to resume it"
    ], err
    assert list(out.glob("runs/*/sweep_run.json"))
