"""The fleet as arrays: drivers are indices, not objects or processes.

A busy driver's phase (EN_ROUTE, ON_TRIP, PAYING) follows from the times fixed when he
was matched, so a ride needs no event at pickup or drop-off; only the moves that happen
at events (matched, free again, shift start and end) are written and checked here.
"""

from __future__ import annotations

from array import array
from datetime import datetime

import numpy as np

from sim.core.state import LEGAL_DRIVER_MOVES, DriverState, check_move
from sim.scenario.market import FleetSpec

OFF, IDLE, EN_ROUTE, ON_TRIP, PAYING = (int(s) for s in DriverState)


class Fleet:
    """Positions, states and current-ride times of every driver."""

    def __init__(self, spec: FleetSpec, n_nodes: int, rng: np.random.Generator) -> None:
        n = spec.drivers
        self.n = n
        self.node = rng.integers(0, n_nodes, n).tolist()
        # Arrays, not lists: read one entry at a time like lists, and whole, without a
        # copy, by numpy when the fleet is sampled.
        self.state = bytearray([OFF] * n)
        self.pickup_at = array("d", bytes(8 * n))
        self.dropoff_at = array("d", bytes(8 * n))
        self.off_after_ride = [False] * n
        self.busy_s = 0.0  # driver-seconds spent from match to free, completed rides
        counts = np.floor(np.array([s.share for s in spec.shifts]) * n).astype(int)
        counts[0] += n - counts.sum()
        self.shift_of = rng.permutation(np.repeat(np.arange(len(spec.shifts)), counts)).tolist()
        self.shifts = spec.shifts

    def move(self, d: int, new: int) -> None:
        """Change driver ``d``'s state, refusing moves the lifecycle does not allow."""
        if (self.state[d], new) not in LEGAL_DRIVER_MOVES:
            check_move(self.state[d], new, d)  # raises with the names of both states
        self.state[d] = new

    def match(self, d: int, pickup_at: float, dropoff_at: float) -> None:
        """Driver ``d`` is matched (IDLE -> EN_ROUTE) to a ride with these times."""
        if self.state[d] != IDLE:
            check_move(self.state[d], EN_ROUTE, d)  # raises: only an idle driver is matched
        self.state[d] = EN_ROUTE
        self.pickup_at[d] = pickup_at
        self.dropoff_at[d] = dropoff_at

    def finish(self, d: int) -> bool:
        """Driver ``d`` has been paid: walk EN_ROUTE -> ON_TRIP -> PAYING -> IDLE (or OFF
        when his shift ended meanwhile); return whether he is on duty."""
        if self.state[d] != EN_ROUTE:
            check_move(self.state[d], ON_TRIP, d)  # raises: only a matched driver finishes
        on = not self.off_after_ride[d]
        self.state[d] = IDLE if on else OFF
        return on

    def members(self, shift: int) -> list[int]:
        return [d for d, s in enumerate(self.shift_of) if s == shift]

    def states_at(self, t: float) -> np.ndarray:
        """Count of drivers per ``DriverState`` at time ``t`` (phases from ride times)."""
        state = np.frombuffer(self.state, dtype=np.uint8)
        busy = state == EN_ROUTE
        phase = np.where(
            t < np.frombuffer(self.pickup_at),
            EN_ROUTE,
            np.where(t < np.frombuffer(self.dropoff_at), ON_TRIP, PAYING),
        )
        state = np.where(busy, phase, state)
        return np.bincount(state, minlength=len(DriverState))


def shift_windows(
    shift_start_hour: float, hours: float, start: datetime, duration_s: float
) -> list[tuple[float, float]]:
    """On-duty windows [on, off) of one shift in run seconds, clipped to the run."""
    if hours >= 24:
        return [(0.0, duration_s)]
    since_midnight = start.hour * 3600 + start.minute * 60 + start.second
    first = shift_start_hour * 3600 - since_midnight - 86400
    out = []
    on = first
    while on < duration_s:
        off = on + hours * 3600
        if off > 0:
            out.append((max(on, 0.0), min(off, duration_s)))
        on += 86400
    return out
