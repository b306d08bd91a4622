"""Load a scenario file into a validated, frozen ``Scenario``.

Every problem in a file becomes one ``Problem`` (file, dotted path, message, value) and
all of them are raised together as ``ScenarioError``, so the CLI can print one line each.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from sim.errors import Problem, ScenarioError, short_value
from sim.registry import unknown_name
from sim.scenario.base import UNKNOWN_KEY
from sim.scenario.compose import (  # noqa: F401  (input_files, merge: part of this API)
    MAX_EXTENDS,
    anchor_city,
    appended,
    default_at,
    input_files,
    merge,
    read_extended,
)
from sim.scenario.spec import Scenario
from sim.scenario.yamlfile import MAX_VALUES, TooLarge, load_yaml, read_yaml_file  # noqa: F401

_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "required field is missing",
    "finite_number": "must be a finite number",
}
# Wrong types, by what was wanted; a union lists what each of its members wants.
_WANTED = {
    "int_type": "a whole number",
    "float_type": "a number",
    "string_type": "text",
    "bool_type": "true or false",
    "model_type": "a mapping",
    "dict_type": "a mapping",
    "model_attributes_type": "a mapping",
    "list_type": "a list",
    "none_required": "null",
}
_MESSAGES.update({kind: f"must be {wanted}" for kind, wanted in _WANTED.items()})


MAX_DEPTH = 32  # keys in a --set path


def parse_override(text: str) -> tuple[list[str], Any]:
    """Split ``dotted.path=value``; the value is read as YAML ("5" -> 5, "[1, 2]" -> list)."""
    if "=" not in text:
        raise ValueError(f"--set needs dotted.path=value (got {text!r})")
    path, raw = text.split("=", 1)
    keys = path.strip().split(".")
    if not all(keys):
        raise ValueError(f"--set: empty key in {short_value(path)}")
    if len(keys) > MAX_DEPTH:
        raise ValueError(
            f"--set {short_value(path)}: a path of {len(keys):,} keys; no field of a scenario"
            f" is more than {MAX_DEPTH} deep"
        )
    try:
        value = load_yaml(raw) if raw.strip() else ""
    except TooLarge as exc:
        raise ValueError(f"--set {path}: the value {exc}") from None
    except yaml.YAMLError as exc:
        why = getattr(exc, "problem", None) or "invalid YAML"
        raise ValueError(
            f"--set {text}: the value is not valid YAML ({why});"
            " quote text that starts with [ { ' \" @ or `"
        ) from None
    except ValueError as exc:  # read but not makeable, such as the date 2013-13-01
        raise ValueError(f"--set {text}: invalid value: {exc}") from None
    return keys, value


def apply_override(data: dict[str, Any], keys: list[str], value: Any) -> None:
    """Set ``value`` at ``keys`` inside nested dicts and lists, filling in defaults on the way;
    a last key ending in ``+`` (``policies+``) appends the list ``value`` to that list."""
    node: Any = data
    for i, key in enumerate(keys):
        last = i == len(keys) - 1
        if last and key.endswith("+") and isinstance(node, dict):
            name = key[:-1]
            current = node.get(name)
            if current is None:
                current = default_at([*keys[:-1], name])
            node[name] = appended(".".join([*keys[:-1], name]), current, value, "--set")
            return
        if isinstance(node, list):
            idx = _item(node, key, ".".join(keys))
            if last:
                node[idx] = value
            else:
                node = node[idx]
        elif isinstance(node, dict):
            if last:
                node[key] = value
            else:
                child = node.get(key)
                if child is None:  # absent or null: start from the default (or a new mapping)
                    child = default_at(keys[: i + 1])
                    child = {} if child is None else child
                if not isinstance(child, dict | list):
                    kind = (
                        "true or false"
                        if isinstance(child, bool)
                        else "a number"
                        if isinstance(child, int | float)
                        else "text"
                    )
                    raise ValueError(
                        f"{'.'.join(keys[: i + 1])} is {kind}, not a section"
                        f" (got --set {'.'.join(keys)}="
                        f"{value if isinstance(value, str) else short_value(value)})"
                    )
                node[key] = child
                node = child
        else:
            raise ValueError(f"--set {'.'.join(keys)}: {'.'.join(keys[:i])} is not a mapping")


def _item(items: list[Any], key: str, path: str) -> int:
    """The index of a list item named by its number or by its ``id`` (``policies.2``,
    ``policies.alipay_rider_5``); ``ValueError`` naming the items there are."""
    ids = [i.get("id") if isinstance(i, dict) else None for i in items]
    if key.isdigit() and int(key) < len(items):
        return int(key)
    if key in ids:
        return ids.index(key)
    named = [f"{n} ({i})" if isinstance(i, str) else str(n) for n, i in enumerate(ids)]
    there = f"; the list has {len(items)}: {', '.join(named)}" if items else "; the list is empty"
    if key.isdigit():
        return _no_item(f"--set {path}: no list item {key}{there}")
    known = [i for i in ids if isinstance(i, str)]
    if known:
        return _no_item(f"--set {path}: {unknown_name('id', key, known)} (or an item's number)")
    return _no_item(f"--set {path}: no list item {key}{there}")


def _no_item(message: str) -> int:
    raise ValueError(message)


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


def _user_path(loc: tuple[Any, ...], data: Any, missing: bool) -> tuple[list[str], list]:
    """An error's path as the user wrote it, walking ``data``: parts of ``loc`` not in the
    data are union member tags (``float``, ``AmountRange``, ``grid``) and are dropped, and
    returned as (position in the path, tag), outermost first."""
    path: list[str] = []
    unions: list[tuple[int, str]] = []
    node = data
    for i, part in enumerate(loc):
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if (isinstance(node, dict) and part in node) or in_list:
            node = node[part]
        elif part == "[key]" or (missing and i == len(loc) - 1):
            node = None  # a dict key's own error; a missing field's name
        else:
            unions.append((len(path), str(part)))
            continue
        path.append(str(part))
    return path, unions


def _pick(errs: list[dict[str, Any]], level: int = 0) -> list[dict[str, Any]]:
    """Errors in order, each union's replaced by those of the member the input was meant for
    (the number member for a number, the mapping member for a mapping), or by one error
    saying what the union takes when the input fits no member."""
    out: list[Any] = []
    unions: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for err in errs:
        if len(err["unions"]) <= level:
            out.append(err)
            continue
        key = tuple(err["path"][: err["unions"][level][0]])
        if key not in unions:
            out.append(unions.setdefault(key, []))
        unions[key].append(err)
    picked = []
    for item in out:
        if not isinstance(item, list):
            picked.append(item)
            continue
        members: dict[str, list[dict[str, Any]]] = {}
        for err in item:
            members.setdefault(err["unions"][level][1], []).append(err)
        meant = [
            m
            for m in members.values()
            if not all(len(e["path"]) == e["unions"][level][0] and e["type"] in _WANTED for e in m)
        ]
        if meant:
            picked += _pick(meant[0], level + 1)
        else:
            wanted = " or ".join(dict.fromkeys(_WANTED[e["type"]] for e in item))
            picked.append({**item[0], "type": "union", "msg": f"must be {wanted}"})
    return picked


def _problems(exc: ValidationError, src: str, data: Any) -> list[Problem]:
    errs = []
    for err in exc.errors():
        path, unions = _user_path(err["loc"], data, err["type"] == "missing")
        errs.append({**err, "path": path, "unions": unions})
    return [p for err in _pick(errs) for p in _problem(err, src)]


def _problem(err: dict[str, Any], src: str) -> list[Problem]:
    path, kind = err["path"], err["type"]
    msg = _MESSAGES.get(kind, err["msg"]).removeprefix("Value error, ")
    value = err.get("input")
    if kind == "value_error" and ": " in msg and not path:
        # Cross-field checks name their own paths, one per line ("demand.hotspots...").
        return [
            Problem(src, where, what)
            for where, _, what in (line.partition(": ") for line in msg.splitlines())
        ]
    if kind.startswith("union_tag_"):  # a tagged union: city.kind
        ctx = err.get("ctx", {})
        field = ctx.get("discriminator", "'kind'").strip("'")
        if kind == "union_tag_not_found":
            return [Problem(src, ".".join([*path, field]), _MESSAGES["missing"])]
        kinds = ctx.get("expected_tags", "").replace("'", "")
        msg = f"unknown {' '.join([*path[-1:], field])}, expected one of {kinds}"
        return [Problem(src, ".".join([*path, field]), msg, ctx.get("tag"), True)]
    field, _, rest = msg.partition(": ")
    if kind == "value_error" and rest and isinstance(value, dict) and field in value:
        # A section's own check names one of its fields: "riders_bound: unknown rail ..."
        return [Problem(src, ".".join([*path, field]), rest)]
    if path[-1:] == ["[key]"]:  # a key of a mapping, not its value
        path, msg = path[:-2], f"keys {msg}"
    # The value is shown unless it is a whole section or the message already says it.
    has_value = (
        kind != "missing"
        and "input" in err
        and "(got " not in msg
        and (kind in ("extra_forbidden", UNKNOWN_KEY) or not isinstance(value, dict))
    )
    return [Problem(src, ".".join(path), msg, value, has_value)]


def anchor_override(text: str, folder: Path) -> str:
    """A ``--set`` text whose relative ``city.path`` is made relative to ``folder`` (the
    sweep file that wrote it, or the working directory of a command line); any other text
    as it is (a bad one is reported where it is applied)."""
    try:
        keys, value = parse_override(text)
    except ValueError:
        return text
    anchored = anchor_city(keys, value, folder)
    return text if anchored is value else f"{'.'.join(keys)}={json.dumps(anchored)}"


def load_scenario(
    path: str | Path, overrides: list[str] | None = None, seed: int | None = None
) -> Scenario:
    """Read, override and validate a scenario file; raise ``ScenarioError`` on any problem.

    A file may start from another with ``extends: base.yaml`` (relative to itself) and
    change only what differs; lists such as ``policies`` are replaced, or appended to with
    ``policies+:``. A relative ``city.path`` is relative to the file that writes it.
    """
    path = Path(path)
    data = read_extended(path)
    return scenario_from_dict(data, str(path), overrides, seed)


def scenario_from_dict(
    data: dict[str, Any],
    source: str = "<scenario>",
    overrides: list[str] | None = None,
    seed: int | None = None,
) -> Scenario:
    """Validate a scenario given as a mapping (as read from YAML), after ``--set`` overrides."""
    problems: list[Problem] = []
    data = plain_numbers(data)  # a copy: overrides never change the caller's mapping
    for text in overrides or []:
        try:
            keys, value = parse_override(text)
            apply_override(data, keys, plain_numbers(value))
        except ValueError as exc:
            problems.append(Problem(source, "", str(exc)))
    if seed is not None:
        data["seed"] = plain_numbers(seed)
    if problems:
        raise ScenarioError(problems)
    non_finite: list[Problem] = []
    _check_finite(data, "", source, non_finite)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = _problems(exc, source, data)
    except RecursionError:
        raise ScenarioError([Problem(source, "", "scenario nested too deeply")]) from None
    seen = {p.path for p in problems}
    problems += [p for p in non_finite if p.path not in seen]
    if problems:
        raise ScenarioError(problems)
    return scenario


def plain_numbers(data: Any) -> Any:
    """A copy of plain containers, with numbers as Python's: numpy scalars (a seed from
    ``np.arange``) become ints and floats, and whole floats (``7.0``, ``1e3``) exactly
    representable ints, which the strict fields refuse otherwise; ``true`` and text stay
    as they are, and are refused."""
    if isinstance(data, dict):
        return {k: plain_numbers(v) for k, v in data.items()}
    if isinstance(data, list | tuple | np.ndarray):
        return [plain_numbers(v) for v in data]
    if isinstance(data, np.generic):
        data = data.item()
    if data.__class__ is float and data.is_integer() and abs(data) <= 2**53:
        return int(data)
    return data


def load_base(src: str, base_path: Path, overrides: list[str], folder: Path) -> Scenario:
    """The base scenario of a sweep or search file ``src`` with the file's overrides (a
    relative ``city.path`` in them is relative to ``folder``, the file's, as in its grid):
    the base file's own problems name the base file, a bad override names ``src``."""
    load_scenario(base_path)
    try:
        return load_scenario(base_path, [anchor_override(o, folder) for o in overrides])
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
