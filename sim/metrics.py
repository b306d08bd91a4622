"""Records of a run: rides streamed to CSV in chunks, samples of the fleet, summaries.

Rows are plain lists appended to a buffer and written in chunks when it fills, so memory
does not grow with the number of rides. What the summary needs
(waits, pickup times) is kept in compact typed arrays, eight bytes a ride.
"""

from __future__ import annotations

from array import array
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np

from sim.state import DriverState

RIDE_COLUMNS = (
    "ride_id", "rider_id", "driver_id", "channel", "platform", "t_request", "t_match",
    "t_pickup", "t_dropoff", "t_paid", "t_abandon", "status", "origin", "destination",
    "distance_m", "fare_fen", "rail", "payment_failed", "tip_fen", "fee_fen", "rider_subsidy_fen",
    "driver_subsidy_fen", "deadhead_m", "free_ride",
)
TIMESERIES_COLUMNS = ("t", "time", *(s.name.lower() for s in DriverState), "waiting_riders")


TIME_COLUMNS = frozenset({"t_request", "t_match", "t_pickup", "t_dropoff", "t_paid", "t_abandon"})
METRE_COLUMNS = frozenset({"distance_m", "deadhead_m"})


def _field_format(column: str) -> str:
    """Times to the millisecond, road metres whole (the matrices store whole metres)."""
    if column in TIME_COLUMNS:
        return "%.3f"
    return "%.0f" if column in METRE_COLUMNS else "%s"


class RideLog:
    """Ride rows, buffered and flushed to ``path`` (or dropped when ``path`` is None).

    Rows carry raw values and None for "not applicable". A row is written with one
    %-format of the fields it has: the template for each pattern of blanks (a completed
    ride, an abandoned one, ...) is built once and cached, so a row costs one C-level
    format call rather than a Python step per field.
    """

    def __init__(self, path: Path | None, chunk: int = 50_000) -> None:
        self.rows: list[list[Any]] = []
        self.chunk = chunk
        self.hold = False  # keep rows until the day's lottery has marked its winners
        self.path = path
        self._file = open(path, "w", encoding="utf-8") if path else None  # noqa: SIM115
        if self._file:
            self._file.write(",".join(RIDE_COLUMNS) + "\n")
        self._fields = [_field_format(c) for c in RIDE_COLUMNS]
        self._templates: dict[tuple[bool, ...], tuple[str, Any]] = {}
        self._index: dict[int, list[Any]] = {}
        self.written = 0

    def add(self, row: list[Any], lottery: bool = False) -> None:
        self.rows.append(row)
        if lottery:
            self._index[row[0]] = row
        if len(self.rows) >= self.chunk and not self.hold:
            self.flush()

    def mark_free(self, ride_id: int) -> None:
        """Set free_ride on a held row (the lottery drew it)."""
        self._index[ride_id][-1] = 1

    def _template(self, blanks: tuple[bool, ...]) -> tuple[str, Any]:
        """The format string and the getter of present fields for one pattern of blanks."""
        present = [i for i, blank in enumerate(blanks) if not blank]
        fmt = ",".join("" if blank else f for f, blank in zip(self._fields, blanks, strict=True))
        return fmt + "\n", itemgetter(*present)

    def flush(self) -> None:
        if self._file and self.rows:
            templates = self._templates
            lines = []
            for row in self.rows:
                blanks = tuple([v is None for v in row])
                t = templates.get(blanks)
                if t is None:
                    t = templates[blanks] = self._template(blanks)
                lines.append(t[0] % t[1](row))
            self._file.write("".join(lines))
            self.written += len(self.rows)
        self.rows.clear()
        self._index.clear()

    def close(self) -> None:
        self.flush()
        if self._file:
            self._file.close()


class Stats:
    """Running figures for ``summary.json`` that need more than a counter."""

    def __init__(self) -> None:
        self.wait = array("d")  # request -> pickup, completed rides
        self.match_wait = array("d")  # request -> match, matched rides
        self.pickup = array("d")  # match -> pickup, matched rides
        self.busy = array("d")  # match -> free, completed rides
        self.completed = 0
        self.abandoned = 0
        self.requests = 0
        self.open = 0
        self.cruise_m = 0.0  # metres idle taxis drove toward demand


class ChannelStats:
    """Dispatch figures of one channel (street, one app platform, or prebooking)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.matched = 0
        self.abandoned = 0
        self.open = 0
        self.match_wait = array("d")
        self.pickup = array("d")
        self.deadhead_m = 0.0
        self.busy_s = 0.0
        self.pushes = 0  # broadcast rounds
        self.reached = 0  # drivers a push reached
        self.grabs = 0

    def summary(self, scale: float, on_duty_s: float) -> dict[str, Any]:
        requests = self.matched + self.abandoned + self.open
        out: dict[str, Any] = {
            "requests": round(requests * scale),
            "matched_share": round(self.matched / requests, 6) if requests else None,
            "abandoned_share": round(self.abandoned / requests, 6) if requests else None,
            "wait_s": describe(self.match_wait),
            "pickup_s_mean": describe(self.pickup, ())["mean"],
            "deadhead_km": round(self.deadhead_m * scale / 1000, 1),
            "utilization": round(self.busy_s / on_duty_s, 6) if on_duty_s else None,
        }
        if self.pushes:
            out["grab_race"] = {
                "pushes": round(self.pushes * scale),
                "drivers_reached_per_push": round(self.reached / self.pushes, 3),
                "grabs_per_push": round(self.grabs / self.pushes, 3),
                "time_to_match_s": out["wait_s"],
            }
        return out


def describe(values: array, quantiles: tuple[float, ...] = (0.5, 0.9)) -> dict[str, float | None]:
    """Mean and quantiles of a sample, rounded for JSON; None when empty."""
    if not len(values):
        return {"mean": None, **{f"p{round(q * 100)}": None for q in quantiles}}
    x = np.frombuffer(values, dtype=float)
    out: dict[str, float | None] = {"mean": round(float(x.mean()), 3)}
    for q, v in zip(quantiles, np.quantile(x, quantiles), strict=True):
        out[f"p{round(q * 100)}"] = round(float(v), 3)
    return out
