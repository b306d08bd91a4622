"""How scenario files compose: a file ``extends`` another, sections merge key by key,
``name+`` appends to a list, and a relative ``city.path`` is relative to the file that
writes it. The result is one mapping, validated by ``sim.scenario.load``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sim.errors import Problem, ScenarioError, short_value
from sim.registry import unknown_name
from sim.scenario.spec import Scenario
from sim.scenario.yamlfile import read_yaml_file


def default_at(keys: list[str]) -> Any:
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


def _read(path: Path) -> dict[str, Any]:
    data = read_yaml_file(path)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError(
            [Problem(str(path), "", "must be a mapping of fields", type(data).__name__, True)]
        )
    return data


def appended(path: str, current: Any, extra: Any, how: str) -> list[Any]:
    """``current`` (the list at ``path``) followed by the items of ``extra``; ``ValueError``
    saying why when either is not a list (``how`` says where the ``+`` was written)."""
    if not isinstance(extra, list):
        raise ValueError(
            f"{how} {path}+: give a list of items to append (got {short_value(extra)})"
        )
    if not isinstance(current, list):
        known = _known_keys(path.split(".")[:-1])
        if current is None and known is not None and path.rpartition(".")[2] not in known:
            raise ValueError(f"{how} {path}+: {_unknown_key(path, known)}")
        kind = (
            "a section"
            if isinstance(current, dict)
            else "true or false"
            if isinstance(current, bool)
            else "a number"
            if isinstance(current, int | float)
            else "text"
            if isinstance(current, str)
            else "not a list"
        )
        raise ValueError(f"{how} {path}+: {path} is {kind}, not a list; only lists take +")
    return [*current, *extra]


def _known_keys(keys: list[str]) -> list[str] | None:
    """The keys a scenario section has by default (None when ``keys`` is no section)."""
    node = default_at(keys) if keys else Scenario().model_dump(mode="json")
    return list(node) if isinstance(node, dict) else None


def _unknown_key(path: str, known: list[str]) -> str:
    return unknown_name("key", path.rpartition(".")[2], known)


def merge(
    base: dict[str, Any],
    child: dict[str, Any],
    at: tuple[str, ...] = (),
    problems: list[str] | None = None,
) -> dict[str, Any]:
    """``child`` over ``base``: mappings merge key by key, anything else is replaced; a key
    ``name+`` appends its list to the base's ``name`` (the default's, if the base has none).
    A ``+`` on something that is not a list is a ``ValueError`` (one line per problem), or
    a line added to ``problems`` when the caller collects them."""
    collect = problems if problems is not None else []
    out = dict(base)
    for key, value in child.items():
        if isinstance(key, str) and key.endswith("+"):
            name = key[:-1]
            path = ".".join([*at, name])
            current = out.get(name)
            if current is None:
                current = default_at(path.split("."))
            try:
                if name in child:
                    raise ValueError(f"{path}+: give {name} or {name}+, not both")
                out[name] = appended(path, current, value, "")
            except ValueError as exc:
                collect.append(str(exc).strip())
        elif isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value, (*at, str(key)), collect)
        elif isinstance(value, dict) and out.get(key) is None:
            out[key] = merge({}, value, (*at, str(key)), collect)  # + may be used inside
        else:
            out[key] = value
    if problems is None and collect:
        raise ValueError("\n".join(collect))
    return out


def anchor_city(keys: list[str], value: Any, folder: Path) -> Any:
    """``value`` set at ``keys`` with a relative ``city.path`` made relative to ``folder``
    (the file that wrote it), so a GraphML file is found from any working directory."""
    if keys == ["city", "path"] and isinstance(value, str):
        return _absolute(value, folder)
    if keys == ["city"] and isinstance(value, dict) and isinstance(value.get("path"), str):
        return {**value, "path": _absolute(value["path"], folder)}
    return value


def _absolute(path: str, folder: Path) -> str:
    if not path or Path(path).expanduser().is_absolute():
        return path
    return os.path.normpath(folder.absolute() / path)


MAX_EXTENDS = 32  # files in one extends chain


def _chain(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """A file and the files it extends, nearest first, each read once; a loop, a missing
    base or a chain longer than ``MAX_EXTENDS`` is a problem of the file that says so."""
    chain = [(path, _read(path))]
    while True:
        here, data = chain[-1]
        parent = data.get("extends")
        if parent is None:
            return chain
        if not isinstance(parent, str):
            raise ScenarioError(
                [Problem(str(here), "extends", "must be a file name", parent, True)]
            )
        base = (here.parent / parent).resolve()
        if not base.is_file():
            raise ScenarioError(
                [Problem(str(here), "extends", f"no scenario file {base}", parent, True)]
            )
        if base in {p.resolve() for p, _ in chain}:
            raise ScenarioError(
                [Problem(str(here), "extends", "files extend each other in a loop", parent, True)]
            )
        if len(chain) == MAX_EXTENDS:
            raise ScenarioError(
                [
                    Problem(
                        str(path),
                        "extends",
                        f"a chain of more than {MAX_EXTENDS} files extending each other",
                    )
                ]
            )
        chain.append((base, _read(base)))


def read_extended(path: Path) -> dict[str, Any]:
    """A file's mapping with its ``extends: other.yaml`` chain merged underneath; each
    file's ``city.path`` is relative to that file."""
    merged: dict[str, Any] = {}
    for here, data in reversed(_chain(path)):
        own = {k: v for k, v in data.items() if k != "extends"}
        if "city" in own:
            own["city"] = anchor_city(["city"], own["city"], here.parent)
        problems: list[str] = []
        merged = merge(merged, own, (), problems)
        if problems:
            raise ScenarioError(
                [Problem(str(here), *line.partition(": ")[::2]) for line in problems]
            )
    return merged


def input_files(path: str | Path) -> list[Path]:
    """A scenario file and every file its ``extends`` chain reads, nearest first."""
    return [p for p, _ in _chain(Path(path))]
