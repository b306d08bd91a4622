"""The space a search explores: dotted scenario paths (as ``--set`` writes them), each with
a range or a list of choices, turned into optuna distributions and checked against the base
scenario before any run."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.errors import Problem, ScenarioError
from sim.scenario.load import apply_override, scenario_from_dict

PATH = r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$"
Scalar = str | bool | int | float | None


class Param(BaseModel):
    """``{low, high}`` (a float), ``{low, high, type: int}``, either with ``log: true`` for a
    range searched on a log scale and an optional ``step``; or ``{choices: [...]}``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    low: float | None = None
    high: float | None = None
    kind: Literal["float", "int"] = Field(default="float", alias="type")
    log: bool = False
    step: float | None = Field(default=None, gt=0)
    choices: list[Scalar] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_form(self) -> Param:
        if self.choices is not None:
            if self.low is not None or self.high is not None or self.log or self.step:
                raise ValueError("give either choices or a range (low, high), not both")
            return self
        if self.low is None or self.high is None:
            raise ValueError("give a range (low and high) or a list of choices")
        if self.low >= self.high:
            raise ValueError(f"low must be below high (got {self.low} and {self.high})")
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0 (got {self.low})")
        if self.log and self.step:
            raise ValueError("a log range cannot have a step")
        if self.kind == "int" and not (self.low.is_integer() and self.high.is_integer()):
            raise ValueError("an int range needs whole low and high")
        if self.kind == "int" and self.step is not None and not self.step.is_integer():
            raise ValueError("an int range needs a whole step")
        return self

    def distribution(self) -> Any:
        """The optuna distribution of this parameter."""
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.choices is not None:
            return CategoricalDistribution(self.choices)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            step = int(self.step or 1)
            return IntDistribution(int(self.low), int(self.high), log=self.log, step=step)
        return FloatDistribution(self.low, self.high, log=self.log, step=self.step)

    def grid(self) -> list[Any]:
        """Every value of a discrete parameter (choices, or a range with a step), for a grid
        search; raises ValueError for a continuous range."""
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            return list(range(int(self.low), int(self.high) + 1, int(self.step or 1)))
        if not self.step:
            raise ValueError("a grid needs choices, an int range or a step")
        n = int(round((self.high - self.low) / self.step))
        return [round(self.low + i * self.step, 12) for i in range(n + 1)]

    def corners(self) -> list[Any]:
        """The values that bound the range (every choice): each must make a valid scenario."""
        if self.choices is not None:
            return list(self.choices)
        assert self.low is not None and self.high is not None
        if self.kind == "int":
            return [int(self.low), int(self.high)]
        return [self.low, self.high]

    def describe(self) -> str:
        """The range as a table cell: ``1 to 5 (log)``, ``int 10 to 20``, ``a, b``."""
        if self.choices is not None:
            return ", ".join(str(c) for c in self.choices)
        scale = " (log)" if self.log else ""
        kind = "int " if self.kind == "int" else ""
        step = f" step {self.step:g}" if self.step else ""
        return f"{kind}{self.low:g} to {self.high:g}{scale}{step}"


def apply(base: dict[str, Any], params: dict[str, Any], source: str) -> dict[str, Any]:
    """The resolved scenario (as JSON-ready data) of ``base`` with ``params`` set; raises
    ``ScenarioError`` naming ``source``."""
    data = json.loads(json.dumps(base))
    for path, value in params.items():
        try:
            apply_override(data, path.split("."), value)
        except ValueError as exc:
            raise ScenarioError([Problem(source, path, str(exc).split(": ", 1)[-1])]) from None
    return scenario_from_dict(data, source).model_dump(mode="json")


def check_space(
    base: dict[str, Any], space: dict[str, Param], source: str, section: str = "params"
) -> list[Problem]:
    """Each parameter's bounds (each choice) set alone on the base must be a valid scenario:
    one problem per path and message, naming ``section.path``."""
    problems: dict[str, Problem] = {}
    for path, param in space.items():
        if path in ("seed", "name"):
            problems[path] = Problem(source, f"{section}.{path}", "set by the search itself")
            continue
        for value in param.corners():
            try:
                apply(base, {path: value}, source)
            except ScenarioError as exc:
                for p in exc.problems:
                    where = f"{section}.{path}"
                    inner = p.path[len(path) + 1 :] if p.path.startswith(path + ".") else ""
                    q = Problem(
                        source, f"{where}.{inner}" if inner else where, p.message, value, True
                    )
                    problems.setdefault(f"{q.path}: {q.message}", q)
    return list(problems.values())
