"""What a policy trial is worth: each metric in each replication, their mean, standard
deviation and count, the objectives to minimise and the constraints' excesses.
Feasibility is judged on the mean over replications (common seeds across trials)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.policy.spec import Constraint, Goal, Metric
from sim.search.figures import Tables, figure


def spread(values: list[float]) -> dict[str, float]:
    """Mean, sample standard deviation (NaN for one value) and count."""
    arr = np.asarray(values, dtype=float)
    sd = float(arr.std(ddof=1)) if arr.size > 1 else math.nan
    return {"mean": float(arr.mean()), "sd": sd, "n": int(arr.size)}


def read_all(metrics: list[Metric], run_dirs: list[Path]) -> dict[str, list[float]]:
    """Each metric's figure in each run, by the metric's label."""
    tables = [Tables(d) for d in run_dirs]
    return {m.label(): [figure(m.reading(), t) for t in tables] for m in metrics}


@dataclass(frozen=True)
class PolicyValue:
    """The objective of ``optimize``: objectives as values to minimise (a maximised
    metric negated), constraints as excesses over their bounds."""

    objectives: list[Goal]
    constraints: list[Constraint]

    def __call__(self, run_dirs: list[Path]) -> tuple[float | list[float], dict[str, Any]]:
        runs = read_all([*self.objectives, *self.constraints], run_dirs)
        stats = {name: spread(v) for name, v in runs.items()}
        values = [
            stats[g.label()]["mean"] * (1 if g.goal == "minimize" else -1) for g in self.objectives
        ]
        excess = [c.excess(stats[c.label()]["mean"]) for c in self.constraints]
        details = {"runs": runs, "stats": stats, "constraints": excess}
        return (values if len(values) > 1 else values[0]), details


def feasible(details: dict[str, Any]) -> bool:
    return all(e <= 0 for e in details.get("constraints", []))


def violation(details: dict[str, Any]) -> float:
    """How far a trial is from meeting every constraint (0 when it does)."""
    return float(sum(max(e, 0.0) for e in details.get("constraints", [])))


def pareto(points: list[tuple[float, ...]]) -> list[int]:
    """Indices of the points no other point dominates (every value minimised)."""
    front = []
    for i, p in enumerate(points):
        dominated = any(
            all(a <= b for a, b in zip(q, p, strict=True)) and q != p
            for j, q in enumerate(points)
            if j != i
        )
        if not dominated:
            front.append(i)
    return front
