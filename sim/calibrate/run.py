"""``run_sim.py calibrate``: the targets' loss as the search's objective, then the tables,
the fitted scenario, the figure and the report section of the fit."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sim.calibrate.outputs import OUTPUTS, write_outputs, write_trials
from sim.calibrate.spec import Calibration, read_calibration
from sim.calibrate.targets import Tables, Target, figure, loss
from sim.search.study import SearchPlan, SearchResult, run_search
from sim.sweep.directory import identity


@dataclass(frozen=True)
class TargetLoss:
    """The objective of a calibration: each target's figure in each replication, their
    mean over replications (common seeds across trials), and the tolerance-scaled loss."""

    targets: list[Target]

    def __call__(self, run_dirs: list[Path]) -> tuple[float, dict[str, Any]]:
        per_run = []
        for d in run_dirs:
            tables = Tables(d)
            per_run.append({t.id: figure(t, tables) for t in self.targets})
        mean = {t.id: float(np.mean([r[t.id] for r in per_run])) for t in self.targets}
        return loss(self.targets, mean), {"mean": mean, "runs": per_run}


def run_calibration(
    path: str | Path,
    out: str | Path | None = None,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool = False,
    force: bool = False,
    log: Any = None,
) -> SearchResult:
    """Run (or resume) the calibration file at ``path`` into ``out`` (default
    ``runs/calibrate-NAME``) and write trials.csv, figures.csv, best.yaml, fit.png and
    calibration.md there. Raises ``ScenarioError`` for a bad file (nothing written) and
    ``OutputExists`` for a directory that is another sweep's or search's."""
    path = Path(path)
    cal = read_calibration(path)
    out = Path(out) if out is not None else Path("runs") / f"calibrate-{path.stem}"
    spec = cal.spec
    plan = SearchPlan(
        base=cal.base,
        space=dict(spec.params),
        seed=spec.seed,
        trials=spec.trials,
        batch=spec.batch,
        replications=spec.replications,
        startup_trials=spec.startup_trials,
        source=cal.source,
        first=tuple(dict(point) for point in spec.first_points),
    )
    t0 = time.perf_counter()
    result = run_search(
        plan,
        TargetLoss(cal.targets),
        out,
        owner=identity(str(path)),
        record={"calibration": spec.model_dump(mode="json", by_alias=True)},
        outputs=OUTPUTS,
        workers=workers,
        scheduler=scheduler,
        client=client,
        progress=progress,
        force=force,
        log=log,
        on_batch=lambda trials: write_trials(out, cal, trials),
    )
    write_outputs(out, cal, result)
    if log is not None:
        best = result.ranked()[0] if result.ranked() else None
        score = f"best loss {best.value:.4g} (trial {best.number})" if best else "no trial finished"
        log(
            f"calibrate: {len(result.trials)} trials x {spec.replications} replications: "
            f"{result.computed} runs computed, {result.skipped} already complete, "
            f"{result.failed} trials failed; {score} in {time.perf_counter() - t0:.1f} s"
        )
    return result


__all__ = ["Calibration", "TargetLoss", "run_calibration"]
