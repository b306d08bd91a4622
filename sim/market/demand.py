"""Ride requests: a non-homogeneous Poisson process drawn one clock hour at a time.

Arrivals are drawn in vectorised hourly chunks (count ~ Poisson, times uniform inside the
hour, which is exactly a Poisson process with a piecewise-constant rate), so the engine's
demand process only walks arrays and memory never holds more than an hour of requests.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from sim.core.distributions import draw
from sim.scenario.market import Demand


@dataclass(frozen=True)
class Chunk:
    """One hour of requests, sorted by time (seconds from the run's start)."""

    t: np.ndarray
    origin: np.ndarray
    destination: np.ndarray
    patience: np.ndarray
    ride_time: np.ndarray | None

    def subset(self, keep: np.ndarray) -> Chunk:
        """The requests among these potential trips (``keep``: a bool per trip)."""
        return Chunk(
            self.t[keep],
            self.origin[keep],
            self.destination[keep],
            self.patience[keep],
            None if self.ride_time is None else self.ride_time[keep],
        )


def hour_segments(start: datetime, duration_s: float) -> Iterator[tuple[float, float, int]]:
    """(from, to, local hour) for each clock hour the run overlaps, in run seconds."""
    offset = start.minute * 60 + start.second + start.microsecond / 1e6
    a = 0.0
    hour = start.hour
    b = 3600.0 - offset
    while a < duration_s:
        yield a, min(b, duration_s), hour
        a, b, hour = b, b + 3600.0, (hour + 1) % 24


class OriginDestination:
    """Draws origin and destination nodes: uniform over the city plus named hotspots."""

    def __init__(self, demand: Demand, xy: np.ndarray, places: dict[str, int]) -> None:
        self.n = len(xy)
        self.xy = xy
        self.min_trip_m = demand.min_trip_m
        self.decay_m = demand.trip_decay_km * 1000 if demand.trip_decay_km else 0.0
        self.hot_o = [(places[h.place], h.origin_weight) for h in demand.hotspots]
        self.hot_d = [(places[h.place], h.destination_weight) for h in demand.hotspots]

    def _nodes(self, rng: np.random.Generator, n: int, hot: list[tuple[int, float]]) -> np.ndarray:
        nodes = rng.integers(0, self.n, n)
        if hot:
            weights = np.array([w for _, w in hot] + [1.0 - sum(w for _, w in hot)])
            pick = rng.choice(len(weights), size=n, p=weights / weights.sum())
            for i, (node, _) in enumerate(hot):
                nodes[pick == i] = node
        return nodes

    def origins(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Nodes drawn like request origins (where cruising taxis look for riders)."""
        return self._nodes(rng, n, self.hot_o)

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Origins and destinations at least ``min_trip_m`` apart (straight line); with
        ``trip_decay_km``, a destination that is not a hotspot is kept with probability
        exp(-distance / decay) and drawn again otherwise (a gravity model by rejection)."""
        origin = self._nodes(rng, n, self.hot_o)
        dest = self._nodes(rng, n, self.hot_d)
        if self.decay_m:
            # Hotspot destinations keep their weights; the others are redrawn uniformly.
            hot = np.array([node for node, _ in self.hot_d], dtype=np.int64)
            pending = np.flatnonzero(~np.isin(dest, hot))
            for _ in range(40):
                o, dp = origin[pending], dest[pending]
                d = np.hypot(*(self.xy[o] - self.xy[dp]).T)
                far = rng.random(len(d)) >= np.exp(-d / self.decay_m)
                pending = pending[(d < self.min_trip_m) | far]
                if not len(pending):
                    break
                dest[pending] = rng.integers(0, self.n, len(pending))
            return origin, dest
        for _ in range(20 if self.min_trip_m > 0 else 0):
            short = np.hypot(*(self.xy[origin] - self.xy[dest]).T) < self.min_trip_m
            if not short.any():
                break
            dest[short] = self._nodes(rng, int(short.sum()), self.hot_d)
        return origin, dest


def requests(
    demand: Demand,
    od: OriginDestination,
    start: datetime,
    duration_s: float,
    rng: np.random.Generator,
    scale: float = 1.0,
) -> Iterator[Chunk]:
    """Yield the run's requests hour by hour; ``scale`` multiplies the daily volume."""
    profile = np.asarray(demand.hourly_profile, dtype=float)
    per_hour = demand.daily_requests * scale * profile / profile.sum()
    for a, b, hour in hour_segments(start, duration_s):
        n = int(rng.poisson(per_hour[hour] * (b - a) / 3600.0))
        if n == 0:
            continue
        t = np.sort(a + rng.random(n) * (b - a))
        origin, dest = od.draw(rng, n)
        patience = draw(rng, demand.patience, n)
        ride_time = draw(rng, demand.ride_time, n) if demand.ride_time else None
        yield Chunk(t, origin, dest, patience, ride_time)
