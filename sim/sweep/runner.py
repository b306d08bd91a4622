"""Parameter sweeps: a base scenario, a grid of overrides and replications, run on Dask.

Every run's seed derives from the sweep seed and the run's index alone, each run writes its
own directory atomically, and every table is rebuilt from those directories on disk. So the
tables do not depend on how many workers ran the sweep, in which order runs finished, or
whether the sweep was killed and resumed.

    base: ../scenarios/default.yaml        # relative to the sweep file
    seed: 7
    replications: 3
    grid: {fleet.drivers: [5000, 10000]}   # cartesian product of the lists
    zip: {policies.0.amount_yuan: [0, 5], policies.1.amount_yuan: [0, 5]}  # side by side
    overrides: [duration=10d]              # applied to every run
    metrics: [pickup_wait_s.mean]          # plotted against each swept parameter
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import SweepError
from sim.io import files as io
from sim.scenario.load import (
    Problem,
    ScenarioError,
    anchor_city,
    apply_override,
    load_base,
    scenario_from_dict,
)
from sim.sweep.cluster import compute, dask_client, importing_main, is_complete
from sim.sweep.directory import (
    SWEEP_FILE,
    check_out,
    clear_staging,
    identity,
    lock,
    prune,
    take_over,
)
from sim.sweep.probe import probe_metrics
from sim.sweep.results import cell, unknown_metrics, write_results
from sim.sweep.spec import SweepSpec, read_spec, spec_from_dict, with_overrides


@dataclass(frozen=True)
class RunTask:
    """One run of a sweep, everything a worker needs to compute it."""

    index: int
    point: int
    replication: int
    params: dict[str, Any]
    seed: int
    scenario: dict[str, Any]
    hash: str
    dir: str


@dataclass
class SweepResult:
    """A finished sweep: its directory, its runs and what this invocation did."""

    dir: Path
    runs: int
    computed: int
    skipped: int
    failed: int
    wall_s: float


def run_seed(sweep_seed: int, key: int) -> int:
    """A run's seed from the sweep seed and the run's index (or replication), never a worker."""
    return int(np.random.SeedSequence(sweep_seed, spawn_key=(key,)).generate_state(1)[0])


def scenario_hash(scenario: dict[str, Any], seed: int, inputs: dict[str, str] | None = None) -> str:
    """What a finished run is recognised by on resume: sha256 of the resolved scenario and
    seed, the content hash of every file the run reads (its GraphML), and the package
    version and git commit that computed it, so a changed road network or program
    recomputes. (Files a scenario extends are in the resolved scenario already.)"""
    text = json.dumps(
        {
            "scenario": scenario,
            "seed": seed,
            "inputs": inputs or {},
            "version": io.package_version(),
            "commit": io.git_commit(),
        },
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(text.encode()).hexdigest()


def _read_inputs(scenario: dict[str, Any], seen: dict[str, str]) -> dict[str, str]:
    """sha256 of the files a run of ``scenario`` reads (its GraphML), each hashed once."""
    city = scenario.get("city", {})
    if city.get("kind") != "graphml":
        return {}
    path = str(Path(city["path"]).expanduser())
    if path not in seen:
        try:
            seen[path] = io.file_sha256(path)
        except OSError:
            seen[path] = ""  # the run reports the missing file
    return {path: seen[path]}


def plan(spec: SweepSpec, root: Path, source: str, out: Path) -> list[RunTask]:
    """Every run of the sweep, each scenario validated; all problems raised together."""
    base_path = root / spec.base
    if not base_path.is_file():
        raise SweepError(
            [Problem(source, "base", f"no scenario file {base_path}", spec.base, True)]
        )
    try:
        base = load_base(source, base_path, spec.overrides, root).model_dump(mode="json")
    except ScenarioError as exc:
        raise SweepError(exc.problems) from None
    axes = spec.axes()
    sections = {p: sec for sec, paths, _ in axes for p in paths}
    problems: dict[str, Problem] = {}
    for path, sec in sections.items():
        if path in ("seed", "name"):
            problems[path] = Problem(source, f"{sec}.{path}", "set by the sweep for each run")
    swept: dict[tuple[str, str], list[Any]] = {}  # (path, message) -> the values it hit
    points: list[tuple[dict[str, Any], dict[str, Any]]] = []
    for combo in itertools.product(*(rows for _, _, rows in axes)):
        params = {
            p: v
            for (_, paths, _), row in zip(axes, combo, strict=True)
            for p, v in zip(paths, row, strict=True)
        }
        data = json.loads(json.dumps(base))
        broken = False
        for path, value in params.items():
            try:
                apply_override(data, path.split("."), anchor_city(path.split("."), value, root))
            except ValueError as exc:  # "--set a.b: no list item 5": say where instead
                swept.setdefault((f"{sections[path]}.{path}", str(exc).split(": ", 1)[-1]), [])
                broken = True
        try:
            resolved = scenario_from_dict(data, source).model_dump(mode="json")
        except ScenarioError as exc:
            for p in exc.problems:
                at = next((s for s in params if p.path == s or p.path.startswith(s + ".")), None)
                if at is not None:
                    hits = swept.setdefault((f"{sections[at]}.{at}", p.message), [])
                    if p.has_value and p.value not in hits:
                        hits.append(p.value)
                else:
                    where = ", ".join(f"{k}={cell(v)}" for k, v in params.items())
                    q = Problem(source, p.path, f"{p.message} (at {where})", p.value, p.has_value)
                    problems[str(q)] = q
            continue
        if not broken:
            points.append((params, resolved))
    for (path, msg), hits in swept.items():  # one line per path and problem, not per value
        q = (
            Problem(source, path, msg, hits[0], True)
            if len(hits) == 1
            else Problem(source, path, f"{msg} (got {_values(hits)})")
            if hits
            else Problem(source, path, msg)
        )
        problems[str(q)] = q
    if problems:  # in the order of the sweep file's parameters
        order = {f"{sec}.{p}": i for i, (p, sec) in enumerate(sections.items())}
        raise SweepError(sorted(problems.values(), key=lambda q: order.get(q.path, len(order))))
    tasks = []
    hashed: dict[str, str] = {}
    for point, (params, resolved) in enumerate(points):
        inputs = _read_inputs(resolved, hashed)
        for rep in range(spec.replications):
            index = point * spec.replications + rep
            seed = run_seed(spec.seed, rep if spec.common_seeds else index)
            scenario = {**resolved, "seed": seed}
            tasks.append(
                RunTask(
                    index,
                    point,
                    rep,
                    params,
                    seed,
                    scenario,
                    scenario_hash(scenario, seed, inputs),
                    str(out / "runs" / f"{index:05d}"),
                )
            )
    return tasks


def _values(values: list[Any]) -> str:
    text = ", ".join(repr(v) for v in values)
    return text if len(text) <= 60 else text[:57] + "..."


def run_sweep(
    spec: SweepSpec | dict | str | Path,
    out: str | Path | None = None,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool = False,
    root: str | Path | None = None,
    force: bool = False,
    log: Any = None,
    overrides: list[str] | None = None,
) -> SweepResult:
    """Run (or resume) a sweep and write runs.csv, aggregate.csv and plots/ under ``out``.

    ``spec`` is a sweep file, a mapping or a ``SweepSpec``; a mapping's ``base`` is relative
    to ``root`` (default: the current directory). Runs go to ``client`` if given, else to the
    scheduler at ``scheduler``, else to a local cluster of ``workers`` processes. ``out``
    may hold this sweep's earlier results (resumed), not another sweep's unless ``force``
    (its runs that are not runs of this sweep are removed). Raises ``SweepError`` for a bad
    sweep or unknown metrics, ``OutputExists`` for a directory that is not this sweep's or
    is in use, and ``BadInput`` for a scheduler that cannot be reached, all before writing
    anything. ``overrides`` (``run_sim.py sweep --set``) are applied to the base of every
    run after the sweep file's own, and are recorded with them in ``sweep.json``. Call it
    under ``if __name__ == "__main__":`` in a script: the local cluster's worker processes
    import the script again.
    """
    if importing_main():
        raise SystemExit(1)  # a worker process importing an unguarded script: see sim.sweep.cluster
    source = "<sweep>"
    if isinstance(spec, str | Path):
        source, root = str(spec), Path(spec).parent
        spec = read_spec(spec)
    elif isinstance(spec, dict):
        spec = spec_from_dict(spec)
    root = Path(root) if root is not None else Path.cwd()
    if overrides:
        spec = with_overrides(spec, root, source, overrides)
    if out is None:
        import tempfile

        out = Path(tempfile.mkdtemp(prefix="taxisim-sweep-"))
    out = Path(out)
    tasks = plan(spec, root, source, out.resolve())
    check_metrics(spec, tasks, source)
    owner = identity(None if source == "<sweep>" else source)
    check_out(out, owner, force)
    t0 = time.perf_counter()
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    held = lock(out)  # before the cluster starts: a second sweep here stops at once
    try:
        check_out(out, owner, force)  # again, now that no other sweep can write it
        todo = [t for t in tasks if not is_complete(Path(t.dir), t.hash)]
        with dask_client(workers, scheduler, client, bool(todo)) as dask:
            manifest = {
                "sweep_file": owner,
                "spec": spec.model_dump(mode="json", by_alias=True),
                "params": spec.params(),
                "points": len(tasks) // spec.replications,
                "runs": len(tasks),
                "last": take_over(out, owner),
            }
            _write_json(out / SWEEP_FILE, manifest)  # whose directory this is, from the start
            (out / "runs").mkdir(exist_ok=True)
            clear_staging(out)
            prune(out, {Path(t.dir).name for t in tasks})
            outcomes = compute(todo, dask, progress) if todo else {}
        clear_staging(out)  # left by a worker that was lost mid-run
        failures = [
            {
                "index": t.index,
                "params": t.params,
                "seed": t.seed,
                "error": outcomes[t.index]["error"],
                "traceback": outcomes[t.index]["traceback"],
            }
            for t in todo
            if outcomes[t.index]["status"] != "ok"
        ]
        computed = sum(1 for o in outcomes.values() if o.get("computed"))
        write_results(out, spec, tasks, failures, {t.index for t in todo})
        result = SweepResult(
            out,
            len(tasks),
            computed,
            len(tasks) - len(todo),
            len(failures),
            round(time.perf_counter() - t0, 3),
        )
        manifest["last"] = {
            "computed": computed,
            "skipped": result.skipped,
            "failed": len(failures),
            "workers": None if (client or scheduler) else workers,
            "wall_s": result.wall_s,
        }
        _write_json(out / SWEEP_FILE, manifest)
    except BaseException:
        if created and {p.name for p in out.iterdir()} <= {".lock"}:  # nothing else written
            shutil.rmtree(out, ignore_errors=True)
        raise
    finally:
        held.close()
    if log is not None:
        log(
            f"sweep: {len(tasks)} runs ({len(tasks) // spec.replications} points x "
            f"{spec.replications} replications): {computed} computed, {result.skipped} already "
            f"complete, {len(failures)} failed in {result.wall_s:.1f} s"
        )
    return result


def check_metrics(spec: SweepSpec, tasks: list[RunTask], source: str) -> None:
    """Every metric the sweep file names must be one its runs report: checked on a tiny
    run of the first grid point (then of the last), so a typo costs no sweep."""
    wanted = list(dict.fromkeys(spec.metrics))
    known: set[str] = set()
    for i in sorted({0, len(tasks) - 1}) if tasks and wanted else ():
        names = probe_metrics(tasks[i].scenario)
        if names is None:
            return  # cannot tell before running: the sweep warns after it instead
        known |= names
        if not unknown_metrics(wanted, known):
            return
    if known:
        raise SweepError(
            [Problem(source, "metrics", msg) for msg in unknown_metrics(wanted, known)]
        )


def _write_json(path: Path, data: Any) -> None:
    tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
    io.write_json(tmp, data)
    os.replace(tmp, path)
