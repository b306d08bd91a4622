"""Calibration targets: a CSV file, one figure of the record per row, read from a run
directory's tables the same way for every trial.

    id,table,where,metric,agg,period,ratio_to,scale,value,tolerance,source
    T1,daily,rail=alipay,drivers_accepting_share,mean,2013-12-05,,66000,5000,1000,"..."
    D1,daily,rail=wechat_pay,riders_installed_share,mean,2014-02-10,2014-01-06,,2.0,0.4,"..."

A figure is ``agg`` of column ``metric`` over the rows of ``table`` (``daily`` reads
``daily.csv`` or ``.parquet``; ``summary`` is summary.json flattened, one row) that match
``where`` (``column=value`` pairs joined by ``&``) and whose day lies in ``period`` (a date
or ``FIRST..LAST``, both included; empty: every row); divided by the same over
``ratio_to`` when given (a growth ratio), then times ``scale`` (default 1: a share times
66,000 taxis is a count of taxis).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sim.errors import Problem
from sim.search.figures import (
    AGGS,
    Reading,
    Tables,
    figure,
    parse_period,
    row_days,
    run_days,
)

__all__ = ["Reading", "Tables", "Target", "figure", "loss", "read_targets", "row_days", "run_days"]

COLUMNS = (
    "id",
    "table",
    "where",
    "metric",
    "agg",
    "period",
    "ratio_to",
    "scale",
    "value",
    "tolerance",
    "source",
)
REQUIRED = ("id", "table", "metric", "agg", "value", "tolerance")


@dataclass(frozen=True)
class Target(Reading):
    """A figure of the record: how the model reads it, its value, tolerance and source."""

    value: float
    tolerance: float
    source: str
    line: int

    def name(self) -> str:
        return f"target {self.id}"


def read_targets(path: Path) -> tuple[list[Target], list[Problem]]:
    """Targets of a CSV file and its problems, one per line and field."""
    src = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], [Problem(src, "", "file not found")]
    except (OSError, UnicodeDecodeError) as exc:
        return [], [Problem(src, "", f"cannot read: {exc}")]
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        return [], [
            Problem(src, "", f"empty: the first line names the columns {', '.join(COLUMNS)}")
        ]
    header = [h.strip() for h in rows[0]]
    problems = [
        Problem(src, "", f"unknown column {h!r} (columns: {', '.join(COLUMNS)})")
        for h in header
        if h not in COLUMNS
    ]
    problems += [Problem(src, "", f"missing column {c!r}") for c in REQUIRED if c not in header]
    if problems:
        return [], problems
    targets: list[Target] = []
    seen: set[str] = set()
    for n, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(
                Problem(src, f"line {n}", f"{len(row)} fields, the header has {len(header)}")
            )
            continue
        got = {h: cell.strip() for h, cell in zip(header, row, strict=True)}
        t, bad = _target(got, n, src)
        problems += bad
        if t is not None:
            if t.id in seen:
                problems.append(Problem(src, f"line {n}: id", "used twice", t.id, True))
            seen.add(t.id)
            targets.append(t)
    if not targets and not problems:
        problems.append(Problem(src, "", "no targets"))
    return targets, problems


def _target(got: dict[str, str], n: int, src: str) -> tuple[Target | None, list[Problem]]:
    problems: list[Problem] = []

    def bad(col: str, msg: str, value: Any = None) -> None:
        problems.append(Problem(src, f"line {n}: {col}", msg, value, value is not None))

    for col in ("id", "table", "metric"):
        if not got.get(col):
            bad(col, "required")
    if got.get("agg", "") not in AGGS:
        bad("agg", f"one of {', '.join(AGGS)}", got.get("agg", ""))
    nums: dict[str, float] = {}
    for col, default in (("value", None), ("tolerance", None), ("scale", 1.0)):
        text = got.get(col, "")
        if not text and default is not None:
            nums[col] = default
            continue
        try:
            nums[col] = float(text)
        except ValueError:
            bad(col, "must be a number", text)
            continue
        if not math.isfinite(nums[col]):
            bad(col, "must be finite", text)
    if "tolerance" in nums and not nums["tolerance"] > 0:
        bad("tolerance", "must be above 0 (the loss divides by it)", got["tolerance"])
    periods: dict[str, tuple[date, date] | None] = {}
    for col in ("period", "ratio_to"):
        try:
            periods[col] = parse_period(got.get(col, ""))
        except ValueError as exc:
            msg = (
                str(exc)
                if "ends before" in str(exc)
                else "a date or FIRST..LAST (2014-01-20..2014-01-31)"
            )
            bad(col, msg, got[col])
    if got.get("ratio_to") and not got.get("period"):
        bad("ratio_to", "a growth ratio needs a period to divide")
    where = []
    for part in filter(None, (p.strip() for p in got.get("where", "").split("&"))):
        key, eq, value = part.partition("=")
        if not eq or not key.strip():
            bad("where", "column=value pairs joined by &", got["where"])
            break
        where.append((key.strip(), value.strip()))
    if problems:
        return None, problems
    return (
        Target(
            got["id"],
            got["table"],
            tuple(where),
            got["metric"],
            got["agg"],
            periods["period"],
            periods["ratio_to"],
            nums["scale"],
            nums["value"],
            nums["tolerance"],
            got.get("source", ""),
            n,
        ),
        [],
    )


def loss(targets: list[Target], model: dict[str, float]) -> float:
    """Sum over targets of the squared error in units of the target's tolerance."""
    return float(sum(((model[t.id] - t.value) / t.tolerance) ** 2 for t in targets))
