"""Records of a run: rides streamed to CSV in chunks, samples of the fleet, summaries.

Rows are formatted as they come and written in chunks of 50,000 (or, on days with a
free-ride lottery, at midnight once its winners are marked), so memory does not grow with
the number of rides. What the summary needs (waits, pickup times) is kept as
``Durations``, whose memory stops growing too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.core.samples import Durations
from sim.records.tables import ABANDONED_FIELDS, COMPLETED_FIELDS, RIDES, TIMESERIES, Row

RIDE_COLUMNS = RIDES.columns
TIMESERIES_COLUMNS = TIMESERIES.columns


TIME_COLUMNS = frozenset({"t_request", "t_match", "t_pickup", "t_dropoff", "t_paid", "t_abandon"})
METRE_COLUMNS = frozenset({"distance_m", "deadhead_m"})


def _field_format(column: str) -> str:
    """Times to the millisecond, road metres whole (the matrices store whole metres)."""
    if column in TIME_COLUMNS:
        return "%.3f"
    return "%.0f" if column in METRE_COLUMNS else "%s"


class RideLog:
    """Ride rows, formatted as they come and written to ``path`` in chunks (or dropped
    when ``path`` is None).

    A completed or abandoned ride's row is one %-format of a fixed template
    (``completed``, ``abandoned``): one C-level call per row, no list of fields kept.
    Other rows (rides still open at the end) go through ``add`` with None for blanks.
    """

    def __init__(self, path: Path | None, chunk: int = 50_000, hold: bool = False) -> None:
        self.lines: list[str] = []
        self.chunk = chunk
        self.hold = hold  # keep rows until the day's lottery has marked its winners
        self.path = path
        self._file = open(path, "w", encoding="utf-8") if path else None  # noqa: SIM115
        if self._file:
            self._file.write(",".join(RIDE_COLUMNS) + "\n")
        self._completed = _template([c not in COMPLETED_FIELDS for c in RIDE_COLUMNS])
        self._abandoned = _template([c not in ABANDONED_FIELDS for c in RIDE_COLUMNS])
        self._lottery: dict[object, int] = {}  # ride id -> its line, while held
        self.written = 0

    def completed(self, fields: Row, lottery: bool = False) -> None:
        """A completed ride's ``completed_row`` (free_ride last, 0: the lottery's
        ``mark_free`` relies on it)."""
        if self._file is not None:
            lines = self.lines
            if lottery:
                self._lottery[fields[0]] = len(lines)
            lines.append(self._completed % fields)
            if len(lines) >= self.chunk and not self.hold:
                self.flush()

    def abandoned(self, fields: Row) -> None:
        """An abandoned ride's ``abandoned_row``."""
        if self._file is not None:
            self._append(self._abandoned % fields)

    def add(self, row: list[Any]) -> None:
        """Any row (``open_row``): every column in order, None where blank."""
        if self._file is not None:
            present = tuple(v for v in row if v is not None)
            self._append(_template([v is None for v in row]) % present)

    def _append(self, line: str) -> None:
        lines = self.lines
        lines.append(line)
        if len(lines) >= self.chunk and not self.hold:
            self.flush()

    def mark_free(self, ride_id: int) -> None:
        """Set free_ride on a held row (the lottery drew it): its last field, written 0 by
        ``completed``, becomes 1."""
        if self._file is not None:
            i = self._lottery[ride_id]
            self.lines[i] = self.lines[i][:-2] + "1\n"

    def flush(self) -> None:
        if self._file and self.lines:
            self._file.write("".join(self.lines))
            self.written += len(self.lines)
        self.lines.clear()
        self._lottery.clear()

    def close(self) -> None:
        self.flush()
        if self._file:
            self._file.close()


def _template(blanks: list[bool]) -> str:
    """The %-format of a row with these blank columns: times to the millisecond, road
    metres whole (the matrices store whole metres), anything else as it prints."""
    fields = (
        "" if blank else _field_format(c) for c, blank in zip(RIDE_COLUMNS, blanks, strict=True)
    )
    return ",".join(fields) + "\n"


class Stats:
    """Running figures for ``summary.json`` that need more than a counter."""

    def __init__(self) -> None:
        self.wait = Durations()  # request -> pickup, completed rides
        self.match_wait = Durations()  # request -> match, matched rides
        self.pickup = Durations()  # match -> pickup, matched rides
        self.busy = Durations()  # match -> free, completed rides
        self.completed = 0
        self.abandoned = 0
        self.requests = 0
        self.open = 0
        self.cruise_m = 0.0  # metres idle taxis drove toward demand

    def durations(self) -> tuple[Durations, ...]:
        return self.wait, self.match_wait, self.pickup, self.busy


class ChannelStats:
    """Dispatch figures of one channel (street, one app platform, or prebooking)."""

    def __init__(self, name: str, ix: int) -> None:
        self.name = name
        self.ix = ix  # its place among the run's channels (the day book counts by it)
        self.matched = 0
        self.abandoned = 0
        self.open = 0
        self.match_wait = Durations()
        self.pickup = Durations()
        self.deadhead_m = 0.0
        self.busy_s = 0.0
        self.broadcast = False  # orders are pushed to drivers (the grab race)
        self.pushes = 0  # broadcast rounds
        self.reached = 0  # drivers a push reached
        self.grabs = 0

    def durations(self) -> tuple[Durations, ...]:
        return self.match_wait, self.pickup

    def summary(self, scale: float, on_duty_s: float) -> dict[str, Any]:
        requests = self.matched + self.abandoned + self.open
        out: dict[str, Any] = {
            "requests": round(requests * scale),
            "matched_share": round(self.matched / requests, 6) if requests else None,
            "abandoned_share": round(self.abandoned / requests, 6) if requests else None,
            "match_wait_s": self.match_wait.describe(),
            "pickup_s_mean": self.pickup.describe(())["mean"],
            "deadhead_km": round(self.deadhead_m * scale / 1000, 1),
            "utilization": round(self.busy_s / on_duty_s, 6) if on_duty_s else None,
        }
        if self.broadcast:  # present whenever the policy is, so its names never depend on luck
            pushes = self.pushes
            out["grab_race"] = {
                "pushes": round(pushes * scale),
                "drivers_reached_per_push": round(self.reached / pushes, 3) if pushes else None,
                "grabs_per_push": round(self.grabs / pushes, 3) if pushes else None,
                "time_to_match_s": out["match_wait_s"],
            }
        return out
