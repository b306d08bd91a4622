"""The calibration file: a base scenario, parameters with ranges, a targets file and a
budget, all checked before any run; problems are one line each."""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sim.calibrate.targets import Tables, Target, read_targets, row_days, run_days
from sim.errors import Problem, ScenarioError
from sim.records.summary import renamed_metric
from sim.scenario.load import load_scenario, load_yaml, plain_numbers
from sim.search.space import PATH, Param, check_space


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
    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError([Problem(src, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(src, "", f"cannot read: {exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ScenarioError([Problem(src, "", f"YAML syntax error: {where}invalid YAML")]) from None
    except (ValueError, RecursionError) as exc:
        raise ScenarioError([Problem(src, "", f"invalid value in the YAML: {exc}")]) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(src, "", "must be a mapping with base, targets, params, ...")])
    try:
        spec = CalibrationSpec.model_validate(plain_numbers(data))
    except ValidationError as exc:
        raise ScenarioError([_problem(src, err) for err in exc.errors()]) from None
    base_path = path.parent / spec.base
    targets_path = path.parent / spec.targets
    problems: list[Problem] = []
    if not base_path.is_file():
        problems.append(Problem(src, "base", f"no scenario file {base_path}", spec.base, True))
    targets, bad = read_targets(targets_path)
    problems += bad
    if problems:
        raise ScenarioError(problems)
    load_scenario(base_path)  # the base file's own problems name the base file
    try:
        scenario = load_scenario(base_path, spec.overrides)
    except ScenarioError as exc:
        raise ScenarioError(
            [
                Problem(
                    src,
                    f"overrides: {p.path}" if p.path else "overrides",
                    p.message,
                    p.value,
                    p.has_value,
                )
                for p in exc.problems
            ]
        ) from None
    base = scenario.model_dump(mode="json")
    problems = check_space(base, dict(spec.params), src)
    first, last = run_days(scenario.start, scenario.duration_s)
    tsrc = str(targets_path)
    for t in targets:
        for day in t.days():
            if not first <= day <= last:
                problems.append(
                    Problem(
                        tsrc,
                        f"line {t.line}: period",
                        f"{day} is outside the run ({first} to {last})",
                    )
                )
                break
    if not problems and probe:
        problems += probe_targets(base, targets, tsrc)
    if problems:
        raise ScenarioError(problems)
    return Calibration(spec, src, base_path, targets_path, base, targets)


def _problem(src: str, err: Mapping[str, Any]) -> Problem:
    path = ".".join(str(p) for p in err["loc"] if p not in ("list[...]", "dict[...]"))
    msg = {
        "extra_forbidden": "unknown key",
        "missing": "required field is missing",
        "string_pattern_mismatch": "must be a dotted path such as fleet.drivers",
    }.get(err["type"], err["msg"].removeprefix("Value error, "))
    has = err["type"] != "missing" and not isinstance(err.get("input"), dict | list)
    return Problem(src, path, msg, err.get("input"), has)


def probe_targets(base: dict[str, Any], targets: list[Target], src: str) -> list[Problem]:
    """Tables, columns and ``where`` values of the targets, checked on a five-day run of a
    tiny sample of the base (a typo then costs no calibration). Nothing is checked when
    the shrunken scenario cannot run: the trials will say what is wrong."""
    from sim.api import run
    from sim.scenario.load import apply_override, scenario_from_dict

    data = yaml.safe_load(yaml.safe_dump(base))
    try:
        apply_override(data, ["duration"], "5d")  # long enough for every summary figure
        sample = data.get("population", {}).get("sample", 1.0)
        apply_override(data, ["population", "sample"], min(float(sample), 1e-4))
        apply_override(data, ["outputs", "plots"], False)
        scn = scenario_from_dict(data, "<probe>")
        with tempfile.TemporaryDirectory(prefix="taxisim-probe-") as tmp:
            run(scn, Path(tmp) / "run")
            tables = Tables(Path(tmp) / "run")
            return [p for t in targets for p in _check(t, tables, src)]
    except Exception:
        return []


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check(t: Target, tables: Tables, src: str) -> list[Problem]:
    at = f"line {t.line}"
    if not tables.has(t.table):
        names = sorted({p.stem for p in tables.dir.iterdir() if p.suffix in (".csv", ".parquet")})
        return [
            Problem(
                src,
                f"{at}: table",
                f"a run writes no such table (tables: {', '.join(['summary', *names])})",
                t.table,
                True,
            )
        ]
    data = tables.get(t.table)
    problems = []
    for col in (t.metric, *(k for k, _ in t.where)):
        if col not in data:
            field = "metric" if col == t.metric else "where"
            new = renamed_metric(col, set(data)) if t.table == "summary" else None
            was = f" (renamed {new!r})" if new else ""
            problems.append(Problem(src, f"{at}: {field}", f"{t.table} has no column {col!r}{was}"))
    if t.metric in data and data[t.metric].dtype.kind in "US":
        problems.append(Problem(src, f"{at}: metric", f"{t.table}.{t.metric} is not a number"))
    for key, value in t.where:
        column = data.get(key)
        if column is None:
            continue
        if column.dtype.kind in "US" and value not in set(column.tolist()):
            seen = ", ".join(sorted(set(column.tolist()))[:6])
            problems.append(
                Problem(src, f"{at}: where", f"no row has {key}={value} ({key}: {seen})")
            )
        elif column.dtype.kind not in "US" and not _is_number(value):
            msg = f"{t.table}.{key} holds numbers"
            problems.append(Problem(src, f"{at}: where", msg, value, True))
    if (t.period or t.ratio_to) and row_days(data) is None:
        problems.append(Problem(src, f"{at}: period", f"{t.table} has no date: leave it empty"))
    return problems
