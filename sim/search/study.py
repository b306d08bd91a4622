"""The search loop: optuna proposes trials in fixed batches, each trial's replications run
as sweep runs on Dask, the objective scores each trial from its run directories.

Why it is reproducible: the sampler is seeded, a batch's size is fixed by the file (not by
the number of workers), run seeds are those of the sweep (replication ``r`` of every trial
gets ``run_seed(seed, r)``: common random numbers, so trials differ by their parameters and
not by their luck), and results are told to the sampler in trial order once the whole batch
is in. So the proposals depend only on the file. Why it resumes: a rerun replays the same
proposals, finds each finished run directory (same scenario hash) and computes only the
rest, exactly as a sweep does.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sim.errors import ScenarioError
from sim.io import files as io
from sim.search.space import Param, apply
from sim.sweep.cluster import compute, dask_client, is_complete
from sim.sweep.directory import SWEEP_FILE, check_out, clear_staging, lock, prune, recorded
from sim.sweep.runner import RunTask, run_seed, scenario_hash


class Objective(Protocol):
    """Scores a trial from the run directories of its replications (in replication order):
    returns the value to minimise (a list of values with several objectives) and what to
    record of it; with constraints, ``details["constraints"]`` lists values that are at
    most 0 when the trial meets them. Raising ``ValueError``, ``KeyError`` or ``OSError``
    fails the trial with that message."""

    def __call__(self, run_dirs: list[Path]) -> tuple[float | list[float], dict[str, Any]]: ...


@dataclass(frozen=True)
class SearchPlan:
    """What a search explores and how: the resolved base scenario (JSON-ready), the
    parameters, the seed, the budget, trials per batch, replications, and the random
    trials the sampler starts with."""

    base: dict[str, Any]
    space: dict[str, Param]
    seed: int
    trials: int
    batch: int = 4
    replications: int = 1
    startup_trials: int = 10
    source: str = "<search>"
    objectives: int = 1  # values to minimise together (a Pareto front from 2)
    constrained: bool = False  # the objective's details hold "constraints"
    sampler: str = "tpe"  # tpe, nsga2 or grid
    first: tuple[dict[str, Any], ...] = ()  # points tried first (a grid tries its own)


@dataclass
class Trial:
    number: int
    params: dict[str, Any]
    seeds: list[int]
    dirs: list[Path]
    status: str = "ok"  # ok / error
    value: float = math.nan
    values: list[float] = field(default_factory=list)
    error: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class SearchResult:
    dir: Path
    trials: list[Trial]
    computed: int
    skipped: int
    failed: int
    wall_s: float
    reference: Trial | None = None

    def ranked(self) -> list[Trial]:
        """Finished trials, best first (ties by trial number)."""
        ok = [t for t in self.trials if t.status == "ok" and not math.isnan(t.value)]
        return sorted(ok, key=lambda t: (t.value, t.number))


def _sampler(plan: SearchPlan) -> Any:
    """TPE by default: it takes floats, log ranges, integers and choices in one space,
    learns from a few dozen noisy trials (Gaussian processes or CMA-ES need more, or no
    choices), handles constraints and several objectives, and is deterministic under a
    seed. NSGA-II (generations of ``batch`` trials) for long multi-objective searches.
    A grid search is TPE told to try every point of the grid first (``grid_points``)."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if plan.sampler == "nsga2":
        return optuna.samplers.NSGAIISampler(population_size=max(plan.batch, 2), seed=plan.seed)
    return optuna.samplers.TPESampler(seed=plan.seed, n_startup_trials=plan.startup_trials)


def grid_points(plan: SearchPlan) -> list[dict[str, Any]]:
    """Every point of a grid search, in the order of the parameters' values (none for
    other samplers): optuna's GridSampler stops the study when the grid is exhausted,
    which an ask-and-tell loop cannot take, so the points are queued instead."""
    if plan.sampler != "grid":
        return []
    paths = list(plan.space)
    values = [plan.space[p].grid() for p in paths]
    return [dict(zip(paths, combo, strict=True)) for combo in itertools.product(*values)]


def run_search(
    plan: SearchPlan,
    objective: Objective,
    out: Path,
    *,
    owner: str | None,
    record: dict[str, Any],
    outputs: tuple[str, ...] = (),
    workers: int = 2,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool = False,
    force: bool = False,
    log: Callable[[str], Any] | None = None,
    on_batch: Callable[[list[Trial]], Any] | None = None,
    shared: dict[str, Path] | None = None,
    reference: Path | None = None,
) -> SearchResult:
    """Run (or resume) the search in ``out``: its runs under ``out/runs``, its record in
    ``out/sweep.json`` (``owner`` is the file's absolute path, ``record`` the file as
    validated). A directory of another sweep or search is refused unless ``force``; then
    its runs and the files named in ``outputs`` are removed. ``on_batch`` gets the trials
    scored so far after each batch. ``shared`` maps scenario hashes to finished run
    directories of earlier searches (a game's rounds) that this one reads instead of
    running them again; it gets this search's finished runs. ``reference``: a directory
    for the runs of the base scenario itself on the search's seeds (computed with the
    first batch, kept when complete), to compare the answer with; unscored."""
    import optuna

    out = Path(out)
    check_out(out, owner, force)
    t0 = time.perf_counter()
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    held = lock(out)
    try:
        check_out(out, owner, force)
        _take_over(out, owner, outputs)
        manifest = {
            "sweep_file": owner,
            "kind": "search",
            "spec": record,
            "params": list(plan.space),
            "points": plan.trials,
            "runs": plan.trials * plan.replications,
        }
        _write_json(out / SWEEP_FILE, manifest)
        (out / "runs").mkdir(exist_ok=True)
        clear_staging(out)
        names = {f"{i:05d}" for i in range(plan.trials * plan.replications)}
        prune(out, names)  # runs of a larger budget, or of the search this one replaced
        study = optuna.create_study(
            directions=["minimize"] * plan.objectives, sampler=_sampler(plan)
        )
        dists = {p: param.distribution() for p, param in plan.space.items()}
        for params in grid_points(plan) or plan.first:
            study.enqueue_trial(params)
        seeds = [run_seed(plan.seed, r) for r in range(plan.replications)]
        trials: list[Trial] = []
        computed = skipped = 0
        # scenario hash: its first run (-1: a finished run of an earlier search)
        first_runs = {h: (-1, d) for h, d in (shared or {}).items() if is_complete(d, h)}
        seen: dict[int, dict[str, Any]] = {}
        with contextlib.ExitStack() as stack:
            dask = client
            ref, ref_tasks = _reference(plan, seeds, reference)
            for first in range(0, plan.trials, plan.batch):
                asked = [study.ask(dists) for _ in range(min(plan.batch, plan.trials - first))]
                batch = [_trial(plan, a.number, a.params, seeds, out / "runs") for a in asked]
                tasks, aliases = _unique(batch, first_runs)
                tasks += ref_tasks if first == 0 else []
                todo = [t for t in tasks if not is_complete(Path(t.dir), t.hash)]
                skipped += len(tasks) - len(todo)
                if todo and dask is None:
                    dask = stack.enter_context(dask_client(workers, scheduler, None, True))
                outcomes = compute(todo, dask, progress) if todo else {}
                computed += sum(1 for o in outcomes.values() if o.get("status") == "ok")
                seen.update(outcomes)
                if ref is not None and first == 0:
                    _score(ref, outcomes, None, plan.replications)
                outcomes.update({i: seen[j] for i, j in aliases.items() if j in seen})
                for a, (trial, _) in zip(asked, batch, strict=True):
                    _score(trial, outcomes, objective, plan.replications)
                    if trial.status == "ok":
                        if plan.constrained:  # the samplers favour trials that meet them
                            for i, excess in enumerate(trial.details["constraints"]):
                                a.set_constraint(f"c{i}", excess)
                        study.tell(a, trial.values if plan.objectives > 1 else trial.value)
                    else:
                        study.tell(a, state=optuna.trial.TrialState.FAIL)
                    trials.append(trial)
                if on_batch is not None:
                    on_batch(list(trials))
                if log is not None:
                    best = min((t.value for t in trials if t.status == "ok"), default=math.nan)
                    log(f"trials {first + 1}-{len(trials)} of {plan.trials}: best {best:.6g}")
        clear_staging(out)  # left by a worker that was lost mid-run
        if shared is not None:
            shared.update({h: d for h, (_, d) in first_runs.items() if is_complete(d, h)})
        result = SearchResult(
            out,
            trials,
            computed,
            skipped,
            sum(t.status != "ok" for t in trials),
            round(time.perf_counter() - t0, 3),
            ref,
        )
        manifest["last"] = {
            "computed": computed,
            "skipped": skipped,
            "failed": result.failed,
            "workers": None if (client or scheduler) else workers,
            "wall_s": result.wall_s,
        }
        _write_json(out / SWEEP_FILE, manifest)
    except BaseException:
        names = {p.name for p in out.iterdir()}
        if created and names <= {".lock", SWEEP_FILE, "runs"} and not _has_runs(out):
            shutil.rmtree(out, ignore_errors=True)  # nothing of value was written
        raise
    finally:
        held.close()
    return result


def _trial(
    plan: SearchPlan, number: int, params: dict[str, Any], seeds: list[int], runs: Path
) -> tuple[Trial, list[RunTask]]:
    """A trial and its runs under ``runs`` (none when its parameters make an invalid
    scenario: the trial then fails with the scenario's own message)."""
    dirs = [runs / f"{number * plan.replications + r:05d}" for r in range(len(seeds))]
    trial = Trial(number, dict(params), seeds, dirs)
    try:
        resolved = apply(plan.base, params, plan.source)
    except ScenarioError as exc:
        trial.status, trial.error = (
            "error",
            "; ".join(str(p).removeprefix("error: ") for p in exc.problems),
        )
        return trial, []
    tasks = []
    for r, seed in enumerate(seeds):
        scenario = {**resolved, "seed": seed}
        index = number * plan.replications + r
        tasks.append(
            RunTask(
                index,
                number,
                r,
                params,
                seed,
                scenario,
                scenario_hash(scenario, seed),
                str(dirs[r]),
            )
        )
    return trial, tasks


def _reference(
    plan: SearchPlan, seeds: list[int], where: Path | None
) -> tuple[Trial | None, list[RunTask]]:
    """The base scenario's runs in ``where`` (indices below 0, apart from the trials')."""
    if where is None:
        return None, []
    where.mkdir(parents=True, exist_ok=True)
    trial, tasks = _trial(plan, 0, {}, seeds, where)
    trial.number = -1
    tasks = [dataclasses.replace(t, index=-1 - t.replication, point=-1) for t in tasks]
    return trial, tasks


def _unique(
    batch: list[tuple[Trial, list[RunTask]]], first_runs: dict[str, tuple[int, Path]]
) -> tuple[list[RunTask], dict[int, int]]:
    """The runs a batch has to compute: a trial that repeats an earlier one's values (a
    sampler may, in a discrete space) reads the earlier trial's runs, which are the same
    scenario on the same seeds. Returns the tasks and, per repeated run, the run it reads."""
    tasks, aliases = [], {}
    for trial, ts in batch:
        for t in ts:
            first = first_runs.get(t.hash)
            if first is None:
                first_runs[t.hash] = (t.index, Path(t.dir))
                tasks.append(t)
            else:
                trial.dirs[t.replication] = first[1]
                aliases[t.index] = first[0]
    return tasks, aliases


def _score(
    trial: Trial, outcomes: dict[int, dict[str, Any]], objective: Objective | None, reps: int
) -> None:
    """The trial's value, or its failure; only the runs' outcome without an objective."""
    if trial.status != "ok":
        return
    for r in range(reps):
        o = outcomes.get(trial.number * reps + r if trial.number >= 0 else -1 - r)
        if o is not None and o.get("status") != "ok":
            trial.status, trial.error = "error", " ".join(str(o.get("error", "")).split())
            return
    if objective is None:
        return
    try:
        value, details = objective(trial.dirs)
    except (ValueError, KeyError, OSError) as exc:  # a table or column the run lacks
        trial.status, trial.error = "error", f"{type(exc).__name__}: {exc}"
        return
    values = [float(v) for v in (value if isinstance(value, list) else [value])]
    if any(math.isnan(v) for v in values):
        trial.status, trial.error = "error", "the objective is not a number"
        return
    trial.value, trial.values, trial.details = values[0], values, details


def _has_runs(out: Path) -> bool:
    return (out / "runs").is_dir() and any((out / "runs").glob("[0-9]*"))


def _take_over(out: Path, owner: str | None, outputs: tuple[str, ...]) -> None:
    """Another sweep's or search's results go when this search takes its directory over
    (with ``force``); its runs go with ``prune`` at the end."""
    info = recorded(out)
    if info is None or info.get("sweep_file") == owner:
        return
    for name in (*outputs, "runs.csv", "aggregate.csv", "timing.csv", "failures.json"):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "plots", ignore_errors=True)


def _write_json(path: Path, data: Any) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    io.write_json(tmp, data)
    os.replace(tmp, path)
