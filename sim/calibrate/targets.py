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
import json
import math
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import Problem
from sim.io.files import read_columns
from sim.records.summary import flatten

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
AGGS = {
    "mean": np.mean,
    "sum": np.sum,
    "min": np.min,
    "max": np.max,
    "first": lambda v: v[0],
    "last": lambda v: v[-1],
}


@dataclass(frozen=True)
class Target:
    id: str
    table: str
    where: tuple[tuple[str, str], ...]
    metric: str
    agg: str
    period: tuple[date, date] | None
    ratio_to: tuple[date, date] | None
    scale: float
    value: float
    tolerance: float
    source: str
    line: int

    def label(self) -> str:
        """How the model's figure is read, in one line of a report."""
        where = ", ".join(f"{k}={v}" for k, v in self.where)
        text = f"{self.agg} of {self.table}.{self.metric}" + (f" [{where}]" if where else "")
        text += f" over {_period_text(self.period)}" if self.period else ""
        if self.ratio_to:
            text += f" / the same over {_period_text(self.ratio_to)}"
        return text + (f" x {self.scale:g}" if self.scale != 1 else "")

    def days(self) -> list[date]:
        return [d for p in (self.period, self.ratio_to) if p for d in (p[0], p[1])]


def _period_text(p: tuple[date, date]) -> str:
    return p[0].isoformat() if p[0] == p[1] else f"{p[0].isoformat()}..{p[1].isoformat()}"


def parse_period(text: str) -> tuple[date, date] | None:
    """``2014-01-20..2014-01-31`` or one date; empty is None. Raises ValueError."""
    text = text.strip()
    if not text:
        return None
    first, _, last = text.partition("..")
    a = date.fromisoformat(first.strip())
    b = date.fromisoformat(last.strip()) if last else a
    if b < a:
        raise ValueError("ends before it starts")
    return a, b


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


class Tables:
    """The tables of one run directory, each read once."""

    def __init__(self, run_dir: Path) -> None:
        self.dir = Path(run_dir)
        self._cache: dict[str, dict[str, np.ndarray]] = {}

    def has(self, name: str) -> bool:
        if name == "summary":
            return (self.dir / "summary.json").is_file()
        return any((self.dir / f"{name}.{ext}").is_file() for ext in ("csv", "parquet"))

    def get(self, name: str) -> dict[str, np.ndarray]:
        if name not in self._cache:
            if name == "summary":
                flat = flatten(json.loads((self.dir / "summary.json").read_text("utf-8")))
                self._cache[name] = {
                    k: np.array([v], dtype=float)
                    for k, v in flat.items()
                    if isinstance(v, int | float) and not isinstance(v, bool)
                }
            else:
                self._cache[name] = read_columns(self.dir, name)
        return self._cache[name]


def row_days(table: dict[str, np.ndarray]) -> np.ndarray | None:
    """Each row's day as ``YYYY-MM-DD`` text: the ``date`` column, or the day of ``time``."""
    if "date" in table:
        return table["date"].astype(str)
    if "time" in table:
        return np.array([str(t)[:10] for t in table["time"]])
    return None


def figure(t: Target, tables: Tables) -> float:
    """The model's figure for target ``t`` in one run; raises ValueError when the run has
    no row to compute it from."""
    data = tables.get(t.table)
    if t.metric not in data:
        raise ValueError(f"target {t.id}: {t.table} has no column {t.metric!r}")
    mask = np.ones(len(data[t.metric]), dtype=bool)
    for key, wanted in t.where:
        if key not in data:
            raise ValueError(f"target {t.id}: {t.table} has no column {key!r}")
        col = data[key]
        mask &= (col.astype(str) == wanted) if col.dtype.kind in "US" else (col == float(wanted))

    def over(period: tuple[date, date] | None) -> float:
        m = mask
        if period is not None:
            days = row_days(data)
            if days is None:
                raise ValueError(f"target {t.id}: {t.table} has no date: leave period empty")
            m = m & (days >= period[0].isoformat()) & (days <= period[1].isoformat())
        values = np.asarray(data[t.metric][m], dtype=float)
        values = values[~np.isnan(values)]
        if values.size == 0:
            raise ValueError(f"target {t.id}: no row of {t.table} in its period and where")
        agg: Any = AGGS[t.agg]
        return float(agg(values))

    figure = over(t.period)
    if t.ratio_to is not None:
        below = over(t.ratio_to)
        if below == 0:
            raise ValueError(f"target {t.id}: the figure over ratio_to is 0")
        figure /= below
    return figure * t.scale


def loss(targets: list[Target], model: dict[str, float]) -> float:
    """Sum over targets of the squared error in units of the target's tolerance."""
    return float(sum(((model[t.id] - t.value) / t.tolerance) ** 2 for t in targets))


def run_days(start: Any, duration_s: float) -> tuple[date, date]:
    """First and last day a run covers."""
    last = start + timedelta(seconds=duration_s) - timedelta(microseconds=1)
    return start.date(), last.date()
