"""Records of a run: rides streamed to CSV in chunks, samples of the fleet, summaries.

Rows are plain tuples appended to a list and written with the csv module when the buffer
fills, so memory does not grow with the number of rides. What the summary needs
(waits, pickup times) is kept in compact typed arrays, eight bytes a ride.
"""

from __future__ import annotations

import csv
from array import array
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


FLOAT_COLUMNS = frozenset({"t_request", "t_match", "t_pickup", "t_dropoff", "t_paid",
                           "t_abandon", "distance_m", "deadhead_m"})


class RideLog:
    """Ride rows, buffered and flushed to ``path`` (or dropped when ``path`` is None).

    Rows carry raw floats and None for "not applicable"; rounding to the millisecond and
    blanking Nones happen per column at flush time, vectorised, not once per ride.
    """

    def __init__(self, path: Path | None, chunk: int = 50_000) -> None:
        self.rows: list[list[Any]] = []
        self.chunk = chunk
        self.hold = False  # keep rows until the day's lottery has marked its winners
        self.path = path
        self._file = open(path, "w", newline="", encoding="utf-8") if path else None  # noqa: SIM115
        self._writer = csv.writer(self._file, lineterminator="\n") if self._file else None
        if self._writer:
            self._writer.writerow(RIDE_COLUMNS)
        self._float_idx = [i for i, c in enumerate(RIDE_COLUMNS) if c in FLOAT_COLUMNS]
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

    def flush(self) -> None:
        if self._writer and self.rows:
            cols = [list(c) for c in zip(*self.rows, strict=True)]
            for i in self._float_idx:
                rounded = np.round(np.array(cols[i], dtype=float), 3).tolist()
                cols[i] = ["" if v != v else v for v in rounded]  # NaN (was None) -> blank
            self._writer.writerows(
                zip(*(["" if v is None else v for v in c] if i not in self._float_idx else c
                      for i, c in enumerate(cols)), strict=True)
            )
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
