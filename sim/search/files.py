"""A search's file (a calibration, an optimisation, a game): read, validated by its model
and resolved against its base scenario, every problem one line naming the file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import Problem, ScenarioError
from sim.scenario.load import load_base, load_yaml, plain_numbers

M = TypeVar("M", bound=BaseModel)


def read_spec(path: Path, model: type[M], keys: str) -> M:
    """The file at ``path`` validated by ``model``; raises ``ScenarioError`` with every
    problem (``keys`` names what a mapping should hold, for a file that is not one)."""
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
        raise ScenarioError([Problem(src, "", f"must be a mapping with {keys}")])
    try:
        return model.model_validate(plain_numbers(data))
    except ValidationError as exc:
        raise ScenarioError([problem(src, err) for err in exc.errors()]) from None


def problem(src: str, err: Mapping[str, Any]) -> Problem:
    """A pydantic error as a problem of the file, located by its dotted path."""
    path = ".".join(str(p) for p in err["loc"] if p not in ("list[...]", "dict[...]"))
    msg = {
        "extra_forbidden": "unknown key",
        "missing": "required field is missing",
        "string_pattern_mismatch": "must be a dotted path such as fleet.drivers",
    }.get(err["type"], err["msg"].removeprefix("Value error, "))
    has = err["type"] != "missing" and not isinstance(err.get("input"), dict | list)
    return Problem(src, path, msg, err.get("input"), has)


def base_scenario(src: str, base_path: Path, overrides: list[str]) -> Any:
    """The base scenario with the file's overrides, a relative ``city.path`` in them being
    the file's (``sim.scenario.load.load_base``)."""
    return load_base(src, base_path, overrides, Path(src).parent)
