"""Reading a run directory back, where every damage is ``BadInput`` naming the file and
how it is damaged (not JSON, a list where a mapping belongs, a truncated or binary CSV, a
directory where a file belongs), so ``report`` and ``compare`` answer in one line."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sim.errors import BadInput


def damaged(path: Path, how: str) -> BadInput:
    return BadInput(f"{path}: {how}")


def _kind(value: Any) -> str:
    names: dict[type, str] = {dict: "a mapping", list: "a list", str: "text"}
    return names.get(type(value), type(value).__name__)


def read_json(path: str | Path, want: type = dict) -> Any:
    """A JSON file of a run directory, which must hold a ``want`` (a mapping by default)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise damaged(path, "missing") from None
    except IsADirectoryError:
        raise damaged(path, "is a directory, not a file") from None
    except UnicodeDecodeError:
        raise damaged(path, "damaged: not UTF-8 text") from None
    except OSError as exc:
        raise damaged(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        why = exc.msg if isinstance(exc, json.JSONDecodeError) else str(exc)
        where = f" at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise damaged(path, f"damaged: not valid JSON ({why}{where})") from None
    except RecursionError:
        raise damaged(path, "damaged: JSON nested too deeply") from None
    if not isinstance(data, want):
        raise damaged(path, f"damaged: holds {_kind(data)}, not {_kind(want())}")
    return data


def _cut_short(raw) -> bool:
    """Does a non-empty file not end with a line break (every table line has one)?"""
    size = raw.seek(0, 2)
    if size == 0:
        return False
    raw.seek(size - 1)
    last = raw.read(1)
    raw.seek(0)
    return last != b"\n"


def csv_rows(path: Path) -> tuple[list[str], Iterator[list[str]]]:
    """The header and the rows of a CSV table; every row must have the header's width
    (a shorter last line is a truncated file)."""
    if path.is_dir():
        raise damaged(path, "is a directory, not a file")
    try:
        f = open(path, newline="", encoding="utf-8")  # noqa: SIM115 (closed by the rows)
    except FileNotFoundError:
        raise damaged(path, "missing") from None
    except OSError as exc:
        raise damaged(path, f"cannot read: {exc.strerror or exc}") from None
    if _cut_short(f.buffer):
        f.close()
        raise damaged(path, "damaged: the last line is cut short (truncated?)")
    reader = csv.reader(f)
    try:
        header = next(reader, None)
    except (UnicodeDecodeError, csv.Error):
        f.close()
        raise damaged(path, "damaged: not a CSV text table") from None
    if not header:
        f.close()
        raise damaged(path, "damaged: empty, no header line")

    def rows() -> Iterator[list[str]]:
        with f:
            try:
                for row in reader:
                    if len(row) != len(header):
                        raise damaged(
                            path,
                            f"damaged: line {reader.line_num} has {len(row)} fields, the"
                            f" header {len(header)} (truncated?)",
                        )
                    yield row
            except (UnicodeDecodeError, csv.Error):
                raise damaged(path, f"damaged: not CSV text after line {reader.line_num}") from None

    return header, rows()
