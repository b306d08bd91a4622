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
    returns the value to minimise and what to record of it. Raising ``ValueError``,
    ``KeyError`` or ``OSError`` fails the trial with that message."""

    def __call__(self, run_dirs: list[Path]) -> tuple[float, dict[str, Any]]: ...


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


@dataclass
class Trial:
    number: int
    params: dict[str, Any]
    seeds: list[int]
    dirs: list[Path]
    status: str = "ok"  # ok / error
    value: float = math.nan
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

    def ranked(self) -> list[Trial]:
        """Finished trials, best first (ties by trial number)."""
        ok = [t for t in self.trials if t.status == "ok" and not math.isnan(t.value)]
        return sorted(ok, key=lambda t: (t.value, t.number))


def _sampler(plan: SearchPlan) -> Any:
    """TPE: it takes floats, log ranges, integers and choices in one space, learns from a
    few dozen noisy trials (Gaussian processes or CMA-ES need more, or no choices), and is
    deterministic under a seed."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.samplers.TPESampler(seed=plan.seed, n_startup_trials=plan.startup_trials)


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
) -> SearchResult:
    """Run (or resume) the search in ``out``: its runs under ``out/runs``, its record in
    ``out/sweep.json`` (``owner`` is the file's absolute path, ``record`` the file as
    validated). A directory of another sweep or search is refused unless ``force``; then
    its runs and the files named in ``outputs`` are removed. ``on_batch`` gets the trials
    scored so far after each batch."""
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
        study = optuna.create_study(direction="minimize", sampler=_sampler(plan))
        dists = {p: param.distribution() for p, param in plan.space.items()}
        seeds = [run_seed(plan.seed, r) for r in range(plan.replications)]
        trials: list[Trial] = []
        computed = skipped = 0
        with contextlib.ExitStack() as stack:
            dask = client
            for first in range(0, plan.trials, plan.batch):
                asked = [study.ask(dists) for _ in range(min(plan.batch, plan.trials - first))]
                batch = [_trial(plan, a.number, a.params, seeds, out) for a in asked]
                tasks = [t for trial in batch for t in trial[1]]
                todo = [t for t in tasks if not is_complete(Path(t.dir), t.hash)]
                skipped += len(tasks) - len(todo)
                if todo and dask is None:
                    dask = stack.enter_context(dask_client(workers, scheduler, None, True))
                outcomes = compute(todo, dask, progress) if todo else {}
                computed += sum(1 for o in outcomes.values() if o.get("status") == "ok")
                for a, (trial, _) in zip(asked, batch, strict=True):
                    _score(trial, outcomes, objective, plan.replications)
                    if trial.status == "ok":
                        study.tell(a, trial.value)
                    else:
                        study.tell(a, state=optuna.trial.TrialState.FAIL)
                    trials.append(trial)
                if on_batch is not None:
                    on_batch(list(trials))
                if log is not None:
                    best = min((t.value for t in trials if t.status == "ok"), default=math.nan)
                    log(f"trials {first + 1}-{len(trials)} of {plan.trials}: best {best:.6g}")
        clear_staging(out)  # left by a worker that was lost mid-run
        result = SearchResult(
            out,
            trials,
            computed,
            skipped,
            sum(t.status != "ok" for t in trials),
            round(time.perf_counter() - t0, 3),
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
    plan: SearchPlan, number: int, params: dict[str, Any], seeds: list[int], out: Path
) -> tuple[Trial, list[RunTask]]:
    """A trial and its runs (none when its parameters make an invalid scenario: the trial
    then fails with the scenario's own message)."""
    dirs = [out / "runs" / f"{number * plan.replications + r:05d}" for r in range(len(seeds))]
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


def _score(
    trial: Trial, outcomes: dict[int, dict[str, Any]], objective: Objective, reps: int
) -> None:
    if trial.status != "ok":
        return
    for r in range(reps):
        o = outcomes.get(trial.number * reps + r)
        if o is not None and o.get("status") != "ok":
            trial.status, trial.error = "error", " ".join(str(o.get("error", "")).split())
            return
    try:
        value, details = objective(trial.dirs)
    except (ValueError, KeyError, OSError) as exc:  # a table or column the run lacks
        trial.status, trial.error = "error", f"{type(exc).__name__}: {exc}"
        return
    if math.isnan(value):
        trial.status, trial.error = "error", "the objective is not a number"
        return
    trial.value, trial.details = float(value), details


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
