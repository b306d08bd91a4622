"""Load a scenario file into a validated, frozen ``Scenario``.

Every problem in a file becomes one ``Problem`` (file, dotted path, message, value) and
all of them are raised together as ``ScenarioError``, so the CLI can print one line each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.schema import Scenario

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required field is missing",
    "finite_number": "must be a finite number",
}


@dataclass(frozen=True)
class Problem:
    source: str
    path: str
    message: str
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        path = _printable(self.path)
        where = f"{self.source}: {path}: " if path else f"{self.source}: "
        got = f" (got {_short(self.value)})" if self.has_value else ""
        return f"error: {where}{_printable(self.message)}{got}"


class ScenarioError(Exception):
    """One or more problems with a scenario; ``problems`` lists each of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def _printable(text: str) -> str:
    """Keys from a file may hold newlines or control characters: escape them, so one
    problem is always one line."""
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``dotted.path=value``; the value is read as YAML ("5" -> 5, "[1, 2]" -> list)."""
    if "=" not in text:
        raise ValueError(f"--set needs dotted.path=value (got {text!r})")
    path, raw = text.split("=", 1)
    keys = path.strip().split(".")
    if not all(keys):
        raise ValueError(f"--set: empty key in {path!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return keys, value


def _default_at(keys: list[str]) -> Any:
    """The default value at a dotted path, so ``--set payment.rails.1.fee_rate=0`` works on
    a file that never spelled out the rails."""
    node: Any = Scenario().model_dump(mode="json")
    for key in keys:
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return None
    return node


def apply_override(data: dict[str, Any], keys: list[str], value: Any) -> None:
    """Set ``value`` at ``keys`` inside nested dicts and lists, filling in defaults on the way."""
    node: Any = data
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                raise ValueError(f"--set {'.'.join(keys)}: no list item {key}")
            idx = int(key)
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[key] = value
            else:
                if not isinstance(node.get(key), dict | list):
                    default = _default_at(keys[: i + 1])
                    node[key] = default if isinstance(default, dict | list) else {}
                node = node[key]
        else:
            raise ValueError(f"--set {'.'.join(keys)}: {'.'.join(keys[:i])} is not a mapping")


def _read(path: Path) -> dict[str, Any]:
    src = str(path)
    if not path.exists():
        raise ScenarioError([Problem(src, "", "file not found")])
    if path.is_dir():
        raise ScenarioError([Problem(src, "", "is a directory, not a scenario file")])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(src, "", f"cannot read: {exc}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ScenarioError([Problem(src, "", f"YAML syntax error: {where}{problem}")]) from None
    except RecursionError:
        raise ScenarioError([Problem(src, "", "YAML nested too deeply")]) from None
    if data is None:
        data = {}
    try:
        size = _expanded_size(data, {})
    except RecursionError:
        raise ScenarioError([Problem(src, "", "YAML nested too deeply")]) from None
    if size > MAX_VALUES:
        raise ScenarioError([Problem(src, "", f"expands to more than {MAX_VALUES:,} values"
                                     " (YAML aliases nested too deep?)")])
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(src, "", "must be a mapping of fields", type(data).__name__, True)]
        )
    return data


MAX_VALUES = 200_000


def _expanded_size(node: Any, memo: dict[int, int]) -> int:
    """How many values ``node`` holds once YAML aliases are expanded, without expanding
    them (a shared node is sized once), so an alias bomb is refused, not walked."""
    if not isinstance(node, dict | list):
        return 1
    known = memo.get(id(node))
    if known is None:
        children = node.values() if isinstance(node, dict) else node
        known = memo[id(node)] = 1 + sum(_expanded_size(c, memo) for c in children)
    return known


def _check_finite(data: Any, path: str, src: str, out: list[Problem]) -> None:
    """YAML's .nan/.inf are refused everywhere, also where a field accepts any number."""
    if isinstance(data, float) and not math.isfinite(data):
        out.append(Problem(src, path, "must be a finite number", data, True))
    elif isinstance(data, dict):
        for k, v in data.items():
            _check_finite(v, f"{path}.{k}" if path else str(k), src, out)
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _check_finite(v, f"{path}.{i}" if path else str(i), src, out)


def _problems(exc: ValidationError, src: str) -> list[Problem]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"]]
        # Drop the discriminator tag pydantic puts in union paths (city.grid.rows).
        if len(loc) >= 2 and loc[0] == "city" and loc[1] in ("grid", "ring_radial", "graphml"):
            loc.pop(1)
        msg = _MESSAGES.get(err["type"], err["msg"])
        msg = msg.removeprefix("Value error, ")
        path = ".".join(loc)
        has_value = err["type"] not in ("missing",) and "input" in err
        value = err.get("input")
        if err["type"] == "value_error" and ": " in msg and not path:
            # Cross-field checks name their own paths, one per line ("demand.hotspots...").
            for line in msg.splitlines():
                where, _, what = line.partition(": ")
                out.append(Problem(src, where, what))
            continue
        if isinstance(value, dict) and err["type"] != "extra_forbidden":
            has_value = False
        out.append(Problem(src, path, msg, value, has_value))
    return out


def merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """``child`` over ``base``: mappings merge key by key, anything else is replaced."""
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def _read_extended(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    """A file's mapping with its ``extends: other.yaml`` chain merged underneath."""
    data = _read(path)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ScenarioError([Problem(str(path), "extends", "must be a file name", parent, True)])
    base = (path.parent / parent).resolve()
    if base in seen or base == path.resolve():
        raise ScenarioError([Problem(str(path), "extends", "files extend each other in a loop",
                                     parent, True)])
    return merge(_read_extended(base, (*seen, path.resolve())), data)


def load_scenario(
    path: str | Path, overrides: list[str] | None = None, seed: int | None = None
) -> Scenario:
    """Read, override and validate a scenario file; raise ``ScenarioError`` on any problem.

    A file may start from another with ``extends: base.yaml`` (relative to itself) and
    change only what differs; lists such as ``policies`` are replaced, not appended.
    """
    path = Path(path)
    data = _read_extended(path)
    return scenario_from_dict(data, str(path), overrides, seed)


def scenario_from_dict(
    data: dict[str, Any],
    source: str = "<scenario>",
    overrides: list[str] | None = None,
    seed: int | None = None,
) -> Scenario:
    """Validate a scenario given as a mapping (as read from YAML), after ``--set`` overrides."""
    problems: list[Problem] = []
    data = _deep_copy(data)
    for text in overrides or []:
        try:
            keys, value = parse_override(text)
            apply_override(data, keys, value)
        except ValueError as exc:
            problems.append(Problem(source, "", str(exc)))
    if seed is not None:
        data["seed"] = seed
    if problems:
        raise ScenarioError(problems)
    non_finite: list[Problem] = []
    _check_finite(data, "", source, non_finite)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, source)
    except RecursionError:
        raise ScenarioError([Problem(source, "", "scenario nested too deeply")]) from None
    seen = {p.path for p in problems}
    problems += [p for p in non_finite if p.path not in seen]
    if problems:
        raise ScenarioError(problems)
    return scenario


def _deep_copy(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _deep_copy(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_deep_copy(v) for v in data]
    return data
