"""Figures of a run directory: ``agg`` of a column of one of its tables (``summary`` is
summary.json flattened to dotted names, one row) over the rows that match ``where`` and
whose day lies in a period. Calibration's targets and optimisation's objectives and
constraints read runs the same way, so both are checked and computed here."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import Problem
from sim.io.files import read_columns
from sim.records.summary import flatten, renamed_metric

AGGS = {
    "mean": np.mean,
    "sum": np.sum,
    "min": np.min,
    "max": np.max,
    "first": lambda v: v[0],
    "last": lambda v: v[-1],
}


@dataclass(frozen=True)
class Reading:
    """How one figure is read from a run: the figure is ``agg`` of ``table.metric`` over
    the rows matching ``where`` in ``period`` (every row when None), divided by the same
    over ``ratio_to`` when given, times ``scale``."""

    id: str
    table: str
    where: tuple[tuple[str, str], ...]
    metric: str
    agg: str
    period: tuple[date, date] | None
    ratio_to: tuple[date, date] | None
    scale: float

    def label(self) -> str:
        """How the model's figure is read, in one line of a report."""
        where = ", ".join(f"{k}={v}" for k, v in self.where)
        text = f"{self.agg} of {self.table}.{self.metric}" + (f" [{where}]" if where else "")
        text += f" over {period_text(self.period)}" if self.period else ""
        if self.ratio_to:
            text += f" / the same over {period_text(self.ratio_to)}"
        return text + (f" x {self.scale:g}" if self.scale != 1 else "")

    def days(self) -> list[date]:
        return [d for p in (self.period, self.ratio_to) if p for d in (p[0], p[1])]

    def name(self) -> str:
        """How an error message names this figure."""
        return self.id


def period_text(p: tuple[date, date]) -> str:
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


def figure(t: Reading, tables: Tables) -> float:
    """The model's figure ``t`` in one run; raises ValueError when the run has no row to
    compute it from."""
    data = tables.get(t.table)
    if t.metric not in data:
        raise ValueError(f"{t.name()}: {t.table} has no column {t.metric!r}")
    mask = np.ones(len(data[t.metric]), dtype=bool)
    for key, wanted in t.where:
        if key not in data:
            raise ValueError(f"{t.name()}: {t.table} has no column {key!r}")
        col = data[key]
        mask &= (col.astype(str) == wanted) if col.dtype.kind in "US" else (col == float(wanted))

    def over(period: tuple[date, date] | None) -> float:
        m = mask
        if period is not None:
            days = row_days(data)
            if days is None:
                raise ValueError(f"{t.name()}: {t.table} has no date: leave period empty")
            m = m & (days >= period[0].isoformat()) & (days <= period[1].isoformat())
        values = np.asarray(data[t.metric][m], dtype=float)
        values = values[~np.isnan(values)]
        if values.size == 0:
            raise ValueError(f"{t.name()}: no row of {t.table} in its period and where")
        agg: Any = AGGS[t.agg]
        return float(agg(values))

    value = over(t.period)
    if t.ratio_to is not None:
        below = over(t.ratio_to)
        if below == 0:
            raise ValueError(f"{t.name()}: the figure over ratio_to is 0")
        value /= below
    return value * t.scale


def run_days(start: Any, duration_s: float) -> tuple[date, date]:
    """First and last day a run covers."""
    last = start + timedelta(seconds=duration_s) - timedelta(microseconds=1)
    return start.date(), last.date()


def outside_run(readings: list[Reading], start: Any, duration_s: float) -> list[Problem]:
    """A problem (source and path left for the caller) per reading with a day outside
    the run's days, naming its first such day."""
    first, last = run_days(start, duration_s)
    out = []
    for t in readings:
        bad = [d for d in t.days() if not first <= d <= last]
        if bad:
            out.append(Problem("", t.id, f"{bad[0]} is outside the run ({first} to {last})"))
    return out


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def check_reading(t: Reading, tables: Tables, src: str, at: str) -> list[Problem]:
    """The table, columns and ``where`` values of ``t`` checked on one run's tables; each
    problem located at ``at`` (``line 3``, ``objective``)."""
    if not tables.has(t.table):
        names = sorted({p.stem for p in tables.dir.iterdir() if p.suffix in (".csv", ".parquet")})
        return [
            Problem(
                src,
                f"{at}: table",
                f"a run writes no such table (tables: {', '.join(['summary', *names])})",
                t.table,
                True,
            )
        ]
    data = tables.get(t.table)
    problems = []
    for col in (t.metric, *(k for k, _ in t.where)):
        if col not in data:
            field = "metric" if col == t.metric else "where"
            new = renamed_metric(col, set(data)) if t.table == "summary" else None
            was = f" (renamed {new!r})" if new else ""
            problems.append(Problem(src, f"{at}: {field}", f"{t.table} has no column {col!r}{was}"))
    if t.metric in data and data[t.metric].dtype.kind in "US":
        problems.append(Problem(src, f"{at}: metric", f"{t.table}.{t.metric} is not a number"))
    for key, value in t.where:
        column = data.get(key)
        if column is None:
            continue
        if column.dtype.kind in "US" and value not in set(column.tolist()):
            seen = ", ".join(sorted(set(column.tolist()))[:6])
            problems.append(
                Problem(src, f"{at}: where", f"no row has {key}={value} ({key}: {seen})")
            )
        elif column.dtype.kind not in "US" and not _is_number(value):
            msg = f"{t.table}.{key} holds numbers"
            problems.append(Problem(src, f"{at}: where", msg, value, True))
    if (t.period or t.ratio_to) and row_days(data) is None:
        problems.append(Problem(src, f"{at}: period", f"{t.table} has no date: leave it empty"))
    return problems


def probe(base: dict[str, Any], check: Callable[[Tables], list[Problem]]) -> list[Problem]:
    """``check`` on the tables of a five-day run of a tiny sample of ``base`` (a typo in a
    metric then costs no search). Nothing is checked when the shrunken scenario cannot
    run: the trials will say what is wrong."""
    import yaml

    from sim.api import run
    from sim.scenario.load import apply_override, scenario_from_dict

    data = yaml.safe_load(yaml.safe_dump(base))
    try:
        apply_override(data, ["duration"], "5d")  # long enough for every summary figure
        sample = data.get("population", {}).get("sample", 1.0)
        apply_override(data, ["population", "sample"], min(float(sample), 1e-4))
        apply_override(data, ["outputs", "plots"], False)
        scn = scenario_from_dict(data, "<probe>")
        with tempfile.TemporaryDirectory(prefix="taxisim-probe-") as tmp:
            run(scn, Path(tmp) / "run")
            return check(Tables(Path(tmp) / "run"))
    except Exception:
        return []
