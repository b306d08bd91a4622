"""convergence.png (one objective) and pareto.png (two): every trial, feasible or not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.io import files as io
from sim.policy.measure import feasible
from sim.policy.optimize import Outcome
from sim.policy.spec import Loaded
from sim.search.study import Trial


def _figure(size: tuple[float, float]) -> tuple[Any, Any]:
    """A figure without pyplot: a notebook's backend (inline plots) is left as it is."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=size)
    return fig, fig.subplots()


def _save(fig: Any, path: Path) -> None:
    fig.tight_layout()
    io.write_file(
        path, lambda p: fig.savefig(p, format="png", dpi=110, metadata={"Software": None})
    )


def _mean(t: Trial, name: str) -> float:
    return float(t.details["stats"][name]["mean"])


def write_convergence(path: Path, loaded: Loaded, trials: list[Trial], found: Outcome) -> None:
    """The objective of each trial in order (feasible dots, infeasible crosses) and the
    best feasible value so far."""
    goal = loaded.spec.objectives[0]
    name = goal.label()
    fig, ax = _figure((7, 4))
    ok = [t for t in trials if feasible(t.details)]
    bad = [t for t in trials if not feasible(t.details)]
    ax.scatter([t.number for t in ok], [_mean(t, name) for t in ok], label="meets the constraints")
    ax.scatter(
        [t.number for t in bad],
        [_mean(t, name) for t in bad],
        marker="x",
        color="0.5",
        label="does not",
    )
    best, xs, ys = None, [], []
    pick = min if goal.goal == "minimize" else max
    for t in sorted(trials, key=lambda t: t.number):
        if feasible(t.details):
            v = _mean(t, name)
            best = v if best is None else pick(best, v)
        if best is not None:
            xs.append(t.number)
            ys.append(best)
    if xs:
        ax.step(xs, ys, where="post", color="tab:red", label="best feasible so far")
    if found.base is not None and found.base.status == "ok":
        ax.axhline(_mean(found.base, name), color="0.3", ls="--", lw=1, label="base scenario")
    ax.set(xlabel="trial", ylabel=f"{name} ({goal.goal}, mean)")
    title = (
        "infeasible: no trial meets the constraints"
        if found.status == "infeasible"
        else (f"optimal: trial {found.best.number}" if found.best else found.status)
    )
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    _save(fig, path)


def write_pareto(path: Path, loaded: Loaded, trials: list[Trial], found: Outcome) -> None:
    """The two objectives of every trial, the Pareto front of the feasible ones joined."""
    a, b = (g.label() for g in loaded.spec.objectives)
    fig, ax = _figure((6.5, 4.5))
    ok = [t for t in trials if feasible(t.details)]
    bad = [t for t in trials if not feasible(t.details)]
    ax.scatter(
        [_mean(t, a) for t in ok],
        [_mean(t, b) for t in ok],
        color="tab:blue",
        alpha=0.5,
        label="trials",
    )
    if bad:
        ax.scatter(
            [_mean(t, a) for t in bad],
            [_mean(t, b) for t in bad],
            marker="x",
            color="0.5",
            label="infeasible",
        )
    front = sorted(found.front, key=lambda t: _mean(t, a))
    ax.plot(
        [_mean(t, a) for t in front],
        [_mean(t, b) for t in front],
        "o-",
        color="tab:red",
        label="Pareto front",
    )
    if found.base is not None and found.base.status == "ok":
        ax.scatter(
            [_mean(found.base, a)], [_mean(found.base, b)], marker="D", color="k", label="base"
        )
    g1, g2 = (g.goal for g in loaded.spec.objectives)
    ax.set(xlabel=f"{a} ({g1})", ylabel=f"{b} ({g2})")
    ax.legend(fontsize=8)
    _save(fig, path)
