"""A sweep file as data: its fields validated (unknown keys are errors, as in scenarios),
and the command line's overrides added to it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.errors import SweepError
from sim.registry import unknown_name
from sim.scenario.load import Problem, ScenarioError, anchor_override, load_scenario, plain_numbers
from sim.scenario.yamlfile import read_yaml_file

_PATH = r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$"


_METRIC = r"^[^.\s]+(\.[^.\s]+)*$"  # summary keys may hold ':' (dispatch.app:didi.requests)


Values = Annotated[list[Any], Field(min_length=1)]


class SweepSpec(BaseModel):
    """A sweep file, validated: unknown keys are errors, as in scenarios."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    base: str
    seed: int = Field(default=0, ge=0, lt=2**63)
    replications: int = Field(default=1, ge=1, le=100_000)
    grid: dict[Annotated[str, Field(pattern=_PATH)], Values] = Field(default_factory=dict)
    zipped: (
        dict[Annotated[str, Field(pattern=_PATH)], Values]
        | list[dict[Annotated[str, Field(pattern=_PATH)], Values]]
    ) = Field(default_factory=dict, alias="zip")
    metrics: list[Annotated[str, Field(pattern=_METRIC)]] = Field(default_factory=list)
    overrides: list[str] = Field(default_factory=list)
    common_seeds: bool = False  # replication r of every grid point shares one seed

    @field_validator("zipped")
    @classmethod
    def _equal_lengths(cls, v: Any) -> Any:
        for group in v if isinstance(v, list) else [v]:
            lengths = {len(vals) for vals in group.values()}
            if len(lengths) > 1:
                raise ValueError(f"zipped lists must have equal lengths (got {sorted(lengths)})")
        return v

    @model_validator(mode="after")
    def _each_path_once(self) -> SweepSpec:
        paths = self.params()
        twice = sorted({p for p in paths if paths.count(p) > 1})
        if twice:
            raise ValueError(f"swept in more than one place: {', '.join(twice)}")
        return self

    def axes(self) -> list[tuple[str, list[str], list[tuple[Any, ...]]]]:
        """Each independent axis: (section, paths, rows of values); the sweep crosses them."""
        out = [("grid", [p], [(v,) for v in vals]) for p, vals in self.grid.items()]
        groups = self.zipped if isinstance(self.zipped, list) else [self.zipped]
        for i, group in enumerate(g for g in groups if g):
            name = "zip" if isinstance(self.zipped, dict) else f"zip.{i}"
            out.append((name, list(group), list(zip(*group.values(), strict=True))))
        return out

    def params(self) -> list[str]:
        return [p for _, paths, _ in self.axes() for p in paths]


def read_spec(path: str | Path) -> SweepSpec:
    """Read and validate a sweep file; raise ``SweepError`` with one problem per line."""
    path = Path(path)
    return spec_from_dict(read_yaml_file(path, SweepError), str(path))


def spec_from_dict(data: Any, source: str = "<sweep>") -> SweepSpec:
    """Validate a sweep given as a mapping; problems name ``source`` and the field."""
    if not isinstance(data, dict):
        raise SweepError(
            [
                Problem(
                    source, "", "must be a mapping with base, grid, ...", type(data).__name__, True
                )
            ]
        )
    try:
        return SweepSpec.model_validate(plain_numbers(data))  # numpy grid values too
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"] if p not in ("list[...]", "dict[...]"))
            msg = {
                "extra_forbidden": unknown_name("key", path, _sweep_keys())
                if len(err["loc"]) == 1
                else "unknown key",
                "missing": "required field is missing",
                "string_pattern_mismatch": "must be a dotted path such as fleet.drivers",
            }.get(err["type"], err["msg"].removeprefix("Value error, "))
            has = err["type"] != "missing" and not isinstance(err.get("input"), dict | list)
            problems.append(Problem(source, path, msg, err.get("input"), has))
        raise SweepError(problems) from None


def _sweep_keys() -> list[str]:
    return [f.alias or name for name, f in SweepSpec.model_fields.items()]


def with_overrides(spec: SweepSpec, root: Path, source: str, overrides: list[str]) -> SweepSpec:
    """``spec`` with command-line overrides after its own, each checked on the base as
    ``run --set`` checks it (a relative ``city.path`` is one of the working directory);
    a swept path, the seed or the name is refused: the sweep sets them for each run."""
    swept = {p: sec for sec, paths, _ in spec.axes() for p in paths}
    problems = []
    for text in overrides:
        path = text.split("=", 1)[0].strip().removesuffix("+")
        if path in swept:
            msg = f"{path} is swept by {swept[path]}.{path}; change the sweep file instead"
        elif path in ("seed", "name"):
            msg = f"{path} is set by the sweep for each run (from the sweep file's seed)"
        else:
            continue
        problems.append(Problem(source, "", f"--set {text}: {msg}"))
    if problems:
        raise SweepError(problems)
    base_path = Path(os.path.normpath(root / spec.base))
    own = [anchor_override(o, root) for o in spec.overrides]
    try:
        load_scenario(base_path, own)
    except ScenarioError:
        pass  # the sweep file's own problems, said by plan in its words
    else:
        load_scenario(base_path, [*own, *overrides])  # as run BASE --set ... says them
    extra = [anchor_override(o, Path.cwd()) for o in overrides]
    return spec.model_copy(update={"overrides": [*spec.overrides, *extra]})
