"""``run_sim.py optimize``: the cheapest (or best) policy that meets the file's
constraints, by the search loop of ``sim.search``; the base scenario is run on the same
seeds so the answer is compared with it."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.policy.measure import PolicyValue, feasible, pareto, violation
from sim.policy.spec import Loaded, read_optimize
from sim.search.study import SearchPlan, SearchResult, Trial, grid_points, run_search
from sim.sweep.directory import identity


@dataclass
class Outcome:
    """What a search found: ``status`` is ``optimal`` (one objective), ``front`` (two),
    ``infeasible`` (no finished trial meets the constraints: ``nearest`` is the trial
    closest to meeting them, not an answer) or ``failed`` (no trial finished)."""

    status: str
    best: Trial | None = None
    front: list[Trial] = field(default_factory=list)
    nearest: Trial | None = None
    base: Trial | None = None


def plan_of(loaded: Loaded, space: dict[str, Any] | None = None, **over: Any) -> SearchPlan:
    """The search plan of a checked file (``space`` and fields replaced for a game)."""
    spec = loaded.spec
    fields: dict[str, Any] = {
        "base": loaded.base,
        "space": dict(space if space is not None else spec.params),
        "seed": spec.seed,
        "trials": spec.trials,
        "batch": spec.batch,
        "replications": spec.replications,
        "startup_trials": spec.startup_trials,
        "source": loaded.source,
        "sampler": spec.sampler,
    }
    plan = SearchPlan(**{**fields, **over})
    if plan.sampler == "grid":  # every point, whatever the file's budget
        plan = dataclasses.replace(plan, trials=len(grid_points(plan)))
    return plan


def outcome(trials: list[Trial], objectives: int) -> Outcome:
    """The answer of a finished search: feasibility on the replication means."""
    ok = [t for t in trials if t.status == "ok"]
    if not ok:
        return Outcome("failed")
    good = [t for t in ok if feasible(t.details)]
    if not good:
        nearest = min(ok, key=lambda t: (violation(t.details), t.value, t.number))
        return Outcome("infeasible", nearest=nearest)
    if objectives == 1:
        return Outcome("optimal", best=min(good, key=lambda t: (t.value, t.number)))
    front = [good[i] for i in pareto([tuple(t.values) for t in good])]
    return Outcome("front", front=sorted(front, key=lambda t: (t.values, t.number)))


def run_optimize(
    path: str | Path,
    out: str | Path | None = None,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool = False,
    force: bool = False,
    log: Any = None,
) -> tuple[SearchResult, Outcome]:
    """Run (or resume) the optimisation file at ``path`` into ``out`` (default
    ``runs/optimize-NAME``) and write its outputs there. Raises ``ScenarioError`` for a
    bad file (nothing written) and ``OutputExists`` for another search's directory."""
    from sim.policy.outputs import OUTPUTS, write_outputs, write_trials

    path = Path(path)
    loaded = read_optimize(path)
    spec = loaded.spec
    out = Path(out) if out is not None else Path("runs") / f"optimize-{path.stem}"
    plan = plan_of(loaded, objectives=len(spec.objectives), constrained=bool(spec.constraints))
    value = PolicyValue(list(spec.objectives), list(spec.constraints))
    t0 = time.perf_counter()
    result = run_search(
        plan,
        value,
        out,
        owner=identity(str(path)),
        record={"optimize": spec.model_dump(mode="json")},
        outputs=OUTPUTS,
        workers=workers,
        scheduler=scheduler,
        client=client,
        progress=progress,
        force=force,
        on_batch=lambda trials: write_trials(out, loaded, trials),
        reference=out / "base",
    )
    base = result.reference
    if base is not None and base.status == "ok":
        try:
            _, base.details = value(base.dirs)
        except (ValueError, KeyError, OSError) as exc:
            base.status, base.error = "error", str(exc)
    found = outcome(result.trials, len(spec.objectives))
    found.base = base
    write_outputs(out, loaded, result, found)
    if log is not None:
        for line in summary_lines(loaded, result, found, time.perf_counter() - t0):
            log(line)
    return result, found


def _g(v: float) -> str:
    if isinstance(v, float) and math.isnan(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def figure_text(stats: dict[str, Any]) -> str:
    """``12,345 (sd 230, n 2)``: a figure's mean over replications and its spread."""
    return f"{_g(stats['mean'])} (sd {_g(stats['sd'])}, n {stats['n']})"


def trial_lines(loaded: Loaded, t: Trial) -> list[str]:
    """A trial's values and figures, one per line, for the terminal."""
    spec = loaded.spec
    lines = [f"  {p} = {v}" for p, v in t.params.items()]
    stats = t.details["stats"]
    for g in spec.objectives:
        lines.append(f"  {g.goal} {g.label()}: {figure_text(stats[g.label()])}")
    for c, e in zip(spec.constraints, t.details["constraints"], strict=True):
        state = "met" if e <= 0 else "NOT met"
        lines.append(f"  {c.describe()}: {figure_text(stats[c.label()])}: {state}")
    return lines


def summary_lines(loaded: Loaded, res: SearchResult, found: Outcome, wall: float) -> list[str]:
    spec = loaded.spec
    lines = [
        f"optimize: {len(res.trials)} trials x {spec.replications} replications: "
        f"{res.computed} runs computed, {res.skipped} already complete, {res.failed} trials "
        f"failed in {wall:.1f} s; constraints judged on the mean over replications"
    ]
    if found.status == "optimal" and found.best is not None:
        lines += [f"optimal: trial {found.best.number}", *trial_lines(loaded, found.best)]
    elif found.status == "front":
        lines.append(f"Pareto front: {len(found.front)} trials")
        for t in found.front:
            lines += [f"trial {t.number}:", *trial_lines(loaded, t)]
    elif found.status == "infeasible" and found.nearest is not None:
        lines += [
            f"infeasible: no trial of {len(res.trials)} meets the constraints",
            f"nearest trial {found.nearest.number} (it does NOT meet them; not an answer):",
            *trial_lines(loaded, found.nearest),
        ]
    else:
        lines.append("failed: no trial finished")
    if found.base is not None and found.base.status == "ok":
        lines += ["base scenario (same seeds):", *trial_lines(loaded, found.base)[0:]]
    return lines
