"""The calibration file: a base scenario, parameters with ranges, a targets file and a
budget, all checked before any run; problems are one line each."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from sim.calibrate.targets import Tables, Target, read_targets
from sim.errors import Problem, ScenarioError
from sim.search.figures import check_reading, outside_run
from sim.search.figures import probe as probe_run
from sim.search.files import base_scenario, read_spec
from sim.search.space import PATH, Param, check_space

Point = dict[str, float | int | str | bool | None]
"""Values of some of a calibration's parameters, by path."""


class CalibrationSpec(BaseModel):
    """A calibration file, validated: unknown keys are errors, as in scenarios."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base: str
    targets: str
    params: Annotated[dict[Annotated[str, Field(pattern=PATH)], Param], Field(min_length=1)]
    seed: int = Field(default=0, ge=0, lt=2**63)
    trials: int = Field(default=40, ge=1, le=100_000)
    batch: int = Field(default=4, ge=1, le=1_000)  # trials proposed together (not workers)
    replications: int = Field(default=1, ge=1, le=1_000)
    startup_trials: int = Field(default=10, ge=0)  # random trials before TPE models the loss
    band_trials: int = Field(default=5, ge=1)  # best trials whose runs make fit.png's bands
    overrides: list[str] = Field(default_factory=list)
    # A point tried first, e.g. an earlier fit: the search then never ends worse than it.
    # A list of points is tried in its order (rival fits judged on the same seeds).
    first_trial: Point | list[Point] = Field(default_factory=dict)

    @property
    def first_points(self) -> list[Point]:
        """The points tried first, in order."""
        if isinstance(self.first_trial, list):
            return list(self.first_trial)
        return [self.first_trial] if self.first_trial else []


@dataclass(frozen=True)
class Calibration:
    spec: CalibrationSpec
    source: str
    base_path: Path
    targets_path: Path
    base: dict[str, Any]  # resolved, with the overrides
    targets: list[Target]


def read_calibration(path: str | Path, probe: bool = True) -> Calibration:
    """Read and check a calibration file, its base scenario and its targets; raise
    ``ScenarioError`` with every problem. ``probe`` checks the targets' tables and
    columns on a tiny run of the base."""
    path = Path(path)
    src = str(path)
    spec = read_spec(path, CalibrationSpec, "base, targets, params, ...")
    base_path = path.parent / spec.base
    targets_path = path.parent / spec.targets
    problems: list[Problem] = []
    if not base_path.is_file():
        problems.append(Problem(src, "base", f"no scenario file {base_path}", spec.base, True))
    targets, bad = read_targets(targets_path)
    problems += bad
    if problems:
        raise ScenarioError(problems)
    scenario = base_scenario(src, base_path, spec.overrides)
    base = scenario.model_dump(mode="json")
    problems = check_space(base, dict(spec.params), src)
    problems += _check_first_trial(spec, src)
    tsrc = str(targets_path)
    lines = {t.id: t.line for t in targets}
    problems += [
        Problem(tsrc, f"line {lines[p.path]}: period", p.message)
        for p in outside_run(list(targets), scenario.start, scenario.duration_s)
    ]
    if not problems and probe:
        problems += probe_targets(base, targets, tsrc)
    if problems:
        raise ScenarioError(problems)
    return Calibration(spec, src, base_path, targets_path, base, targets)


def _check_first_trial(spec: CalibrationSpec, src: str) -> list[Problem]:
    """Each value of ``first_trial`` names a parameter and lies in its range or choices,
    and there are no more points than trials."""
    points = spec.first_points
    listed = isinstance(spec.first_trial, list)
    problems = []
    if len(points) > spec.trials:
        msg = f"{len(points)} points to try first, more than the {spec.trials} trials"
        problems.append(Problem(src, "first_trial", msg))
    for i, point in enumerate(points):
        where = f"first_trial.{i}" if listed else "first_trial"
        problems += _check_point(spec, point, where, src)
    return problems


def _check_point(spec: CalibrationSpec, point: Point, where: str, src: str) -> list[Problem]:
    problems = []
    for path, value in point.items():
        param = spec.params.get(path)
        if param is None:
            msg = f"not a parameter of this calibration ({', '.join(spec.params)})"
        elif param.choices is not None:
            msg = "" if value in param.choices else f"not one of {param.choices}"
        elif not isinstance(value, int | float) or isinstance(value, bool):
            msg = "must be a number"
        else:
            assert param.low is not None and param.high is not None
            inside = param.low <= value <= param.high
            msg = "" if inside else f"outside the range {param.low:g} to {param.high:g}"
        if msg:
            problems.append(Problem(src, f"{where}.{path}", msg, value, True))
    return problems


def probe_targets(base: dict[str, Any], targets: list[Target], src: str) -> list[Problem]:
    """Tables, columns and ``where`` values of the targets, checked on a tiny run."""
    return probe_run(base, lambda tables: [p for t in targets for p in _check(t, tables, src)])


def _check(t: Target, tables: Tables, src: str) -> list[Problem]:
    return check_reading(t, tables, src, f"line {t.line}")
