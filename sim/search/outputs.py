"""What every search writes the same way: numbers as table cells, tables replaced whole,
and scenarios that extend the base with a trial's values."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

from sim.io import files as io
from sim.scenario.load import apply_override


def num(v: Any) -> str:
    """A number as a CSV or table cell: repr of the float (exact and stable), blank for NaN."""
    if v is None or (isinstance(v, float) and v != v):
        return ""
    return repr(v) if isinstance(v, float) else str(v)


def write_csv(path: Path, columns: list[str], rows: list[list[Any]]) -> None:
    """A table replaced whole (a reader never sees half of it)."""
    tmp = path.parent / f".{path.name}.tmp"
    io.write_csv(tmp, columns, rows)
    os.replace(tmp, path)


def write_text(path: Path, text: str) -> None:
    io.write_file(path, lambda p: p.write_text(text, "utf-8"))


def fitted_mapping(base: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The values as a nested mapping to merge over the base: a path through a list
    (``policies.0.amount_yuan``) carries the base's whole list, as ``extends`` replaces
    lists rather than merging them."""
    out: dict[str, Any] = {}
    for path, value in params.items():
        keys = path.split(".")
        node, src = out, base
        for i, key in enumerate(keys[:-1]):
            child = src.get(key) if isinstance(src, dict) else None
            if isinstance(child, list):
                node.setdefault(key, copy.deepcopy(child))
                apply_override(node, keys[i:], value)
                break
            node = node.setdefault(key, {})
            src = child if isinstance(child, dict) else {}
        else:
            node[keys[-1]] = value
    return out


def extends_yaml(out: Path, base_path: Path, base: dict[str, Any], params: dict[str, Any]) -> str:
    """A scenario file to write in directory ``out`` that extends the scenario file at
    ``base_path`` (``base`` as loaded, without overrides) with ``params``."""
    rel = os.path.relpath(Path(base_path).resolve(), Path(out).resolve())
    body = {"extends": rel, **fitted_mapping(base, params)}
    return yaml.safe_dump(body, sort_keys=False, allow_unicode=True)
