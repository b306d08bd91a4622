"""The optimisation and game files: a base scenario, decision variables (dotted paths
with ranges or choices), metrics read from the runs, a budget; all checked before any
run, every problem one line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from sim.errors import Problem, ScenarioError
from sim.scenario.base import Frozen
from sim.search.figures import Reading, check_reading, outside_run, parse_period
from sim.search.figures import probe as probe_run
from sim.search.files import base_scenario, read_spec
from sim.search.space import PATH, Param, check_space


def _text(value: Any) -> Any:
    """A YAML date (``period: 2014-01-09``) or number (``where: day=3``) read as its text."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value


def _period(text: str) -> str:
    try:
        parse_period(text)
    except ValueError as exc:
        if "ends before" in str(exc):
            raise
        raise ValueError("a date or FIRST..LAST (2014-01-20..2014-01-31)") from None
    return text


def _where(text: str) -> str:
    for part in filter(None, (p.strip() for p in text.split("&"))):
        key, eq, _ = part.partition("=")
        if not eq or not key.strip():
            raise ValueError("column=value pairs joined by &")
    return text


Text = Annotated[str, BeforeValidator(_text)]
Space = Annotated[dict[Annotated[str, Field(pattern=PATH)], Param], Field(min_length=1)]


class Metric(Frozen):
    """One figure of a run: ``agg`` of ``table.metric`` over the rows matching ``where``
    whose day is in ``period`` (a date or FIRST..LAST; empty: every row), times ``scale``.
    The default table is summary.json, flattened to dotted names."""

    metric: str = Field(min_length=1)
    name: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    table: str = "summary"
    where: Annotated[Text, BeforeValidator(_text)] = ""
    agg: Literal["mean", "sum", "min", "max", "first", "last"] = "mean"
    period: Text = ""
    scale: float = 1.0

    @model_validator(mode="after")
    def _check(self) -> Metric:
        _where(self.where)
        _period(self.period)
        return self

    def label(self) -> str:
        return self.name or self.metric

    def reading(self) -> Reading:
        where = []
        for part in filter(None, (p.strip() for p in self.where.split("&"))):
            key, _, value = part.partition("=")
            where.append((key.strip(), value.strip()))
        return Reading(
            self.label(),
            self.table,
            tuple(where),
            self.metric,
            self.agg,
            parse_period(self.period),
            None,
            self.scale,
        )


class Goal(Metric):
    goal: Literal["minimize", "maximize"] = "minimize"


class Constraint(Metric):
    """Met when the figure's mean over replications is ``at_least`` / ``at_most``."""

    at_least: float | None = None
    at_most: float | None = None

    @model_validator(mode="after")
    def _bound(self) -> Constraint:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("give one bound: at_least or at_most")
        return self

    def excess(self, value: float) -> float:
        """At most 0 when met: how far the figure is on the wrong side of its bound."""
        return self.at_least - value if self.at_least is not None else value - self.at_most  # type: ignore[operator]

    def describe(self) -> str:
        op, bound = (">=", self.at_least) if self.at_least is not None else ("<=", self.at_most)
        return f"{self.reading().label()} {op} {bound:g}"


class Budget(Frozen):
    seed: int = Field(default=0, ge=0, lt=2**63)
    trials: int = Field(default=40, ge=1, le=100_000)
    batch: int = Field(default=4, ge=1, le=1_000)  # trials proposed together (not workers)
    replications: int = Field(default=2, ge=1, le=1_000)
    startup_trials: int = Field(default=10, ge=0)  # random trials before the sampler learns
    sampler: Literal["tpe", "nsga2", "grid"] = "tpe"
    overrides: list[str] = Field(default_factory=list)


class OptimizeSpec(Budget):
    base: str
    params: Space
    objectives: list[Goal] = Field(min_length=1, max_length=2)
    constraints: list[Constraint] = Field(default_factory=list)


class Term(Metric):
    weight: float = 1.0


class Player(Frozen):
    params: Space
    payoff: list[Term] = Field(min_length=1)  # maximised: the sum of weight x figure


class GameSpec(Budget):
    base: str
    rounds: int = Field(default=6, ge=1, le=100)
    tolerance: float = Field(default=0.05, ge=0, le=1)  # a move, as a share of each range
    players: Annotated[dict[str, Player], Field(min_length=2, max_length=2)]


@dataclass(frozen=True)
class Loaded:
    """A file as checked: its spec, source, base path, and the resolved base (with the
    file's overrides) as JSON-ready data."""

    spec: Any
    source: str
    base_path: Path
    base: dict[str, Any]


def _load(path: Path, model: Any, keys: str, metrics: list[tuple[str, Metric]], probe: bool):
    src = str(path)
    spec = read_spec(path, model, keys)
    base_path = path.parent / spec.base
    if not base_path.is_file():
        raise ScenarioError(
            [Problem(src, "base", f"no scenario file {base_path}", spec.base, True)]
        )
    metrics = metrics or _metrics(spec)
    scenario = base_scenario(src, base_path, spec.overrides)
    base = scenario.model_dump(mode="json")
    problems: list[Problem] = []
    for section, space in _spaces(spec):
        problems += check_space(base, space, src, section)
        if spec.sampler == "grid":
            for p, param in space.items():
                if param.choices is None and param.kind != "int" and not param.step:
                    problems.append(
                        Problem(src, f"{section}.{p}", "a grid needs choices, ints or a step")
                    )
    if isinstance(spec, GameSpec):
        a, b = (set(p.params) for p in spec.players.values())
        if a & b:
            problems.append(Problem(src, "players", f"both players set {', '.join(sorted(a & b))}"))
    seen: set[tuple[str, str]] = set()
    for where, m in metrics:  # a name is a column of trials.csv (per player in a game)
        key = (where.rsplit(".", 2)[0] if where.startswith("players.") else "", m.label())
        if key in seen:
            problems.append(Problem(src, where, f"{m.label()!r} is used twice: give a name"))
        seen.add(key)
    located = {m.label(): where for where, m in metrics}
    problems += [
        Problem(src, f"{located[p.path]}.period", p.message)
        for p in outside_run([m.reading() for _, m in metrics], scenario.start, scenario.duration_s)
    ]
    if not problems and probe:
        problems += probe_run(
            base,
            lambda tables: [
                q for where, m in metrics for q in check_reading(m.reading(), tables, src, where)
            ],
        )
    if problems:
        raise ScenarioError(problems)
    return Loaded(spec, src, base_path, base)


def _spaces(spec: Any) -> list[tuple[str, dict[str, Param]]]:
    if isinstance(spec, GameSpec):
        return [(f"players.{n}.params", dict(p.params)) for n, p in spec.players.items()]
    return [("params", dict(spec.params))]


def _metrics(spec: Any) -> list[tuple[str, Metric]]:
    if isinstance(spec, GameSpec):
        return [
            (f"players.{n}.payoff.{i}", t)
            for n, p in spec.players.items()
            for i, t in enumerate(p.payoff)
        ]
    return [(f"objectives.{i}", g) for i, g in enumerate(spec.objectives)] + [
        (f"constraints.{i}", c) for i, c in enumerate(spec.constraints)
    ]


def read_optimize(path: str | Path, probe: bool = True) -> Loaded:
    """Read and check an optimisation file and its base; raise ``ScenarioError`` with
    every problem. ``probe`` checks the metrics' tables and columns on a tiny run."""
    return _load(Path(path), OptimizeSpec, "base, params, objectives, ...", [], probe)


def read_game(path: str | Path, probe: bool = True) -> Loaded:
    """Read and check a game file and its base; the two players' parameters must differ."""
    return _load(Path(path), GameSpec, "base, players, ...", [], probe)
