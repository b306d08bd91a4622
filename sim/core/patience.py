"""Riders' patience deadlines: one heap and one pending wake-up, not a timer per rider.

Most waits end in a match long before the rider would give up, so a SimPy timer per
waiting rider mostly fires for nothing. Here deadlines sit in a heap; the clock keeps a
wake-up at the earliest deadline of a rider still waiting and skips riders matched
meanwhile, so an event fires only for a deadline that was next in line when scheduled.

Deadlines of matched riders are left in the heap (a ride's status only moves forward, so
they never come back to life) and swept out in one pass whenever the heap has doubled
since the last sweep: a void deadline then costs one status check, not a pop through a
heap of thousands.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heapify, heappop, heappush
from itertools import count

import simpy

from sim.core.clock import call_in
from sim.core.ride import Ride
from sim.core.state import RideStatus

WAITING = RideStatus.WAITING
FIRST_SWEEP = 1024  # deadlines in the heap before the first sweep of void ones


class PatienceClock:
    """Calls ``expire(ride)`` at ``ride``'s deadline if the ride is still waiting then."""

    def __init__(self, env: simpy.Environment, expire: Callable[[Ride], None]) -> None:
        self.env = env
        self.expire = expire
        self.deadlines: list[tuple[float, int, Ride]] = []  # (deadline, seq, ride)
        self._seq = count()
        self.wakes: list[float] = []  # times of the wake-ups scheduled and not yet fired
        self._sweep_at = FIRST_SWEEP

    def add(self, deadline: float, ride: Ride) -> None:
        deadlines = self.deadlines
        heappush(deadlines, (deadline, next(self._seq), ride))
        if len(deadlines) >= self._sweep_at:
            self._sweep()
        if not self.wakes or deadline < self.wakes[0]:
            self._wake_at(deadline)

    def _sweep(self) -> None:
        """Drop the deadlines of riders no longer waiting; the rest keep their order."""
        deadlines = self.deadlines
        deadlines[:] = [entry for entry in deadlines if entry[2].status == WAITING]
        heapify(deadlines)
        self._sweep_at = max(FIRST_SWEEP, 2 * len(deadlines))

    def _wake_at(self, t: float) -> None:
        delay = t - self.env.now
        # The time SimPy will fire at, computed as SimPy does, so wake-ups pop in the
        # order they fire even when two are a float step apart.
        heappush(self.wakes, self.env.now + delay)
        call_in(self.env, delay, self._wake)

    def _wake(self, _arg: object = None) -> None:
        heappop(self.wakes)
        now = self.env.now
        deadlines = self.deadlines
        while deadlines:
            deadline, _, ride = deadlines[0]
            if ride.status != WAITING:
                heappop(deadlines)  # matched or gone meanwhile: its deadline is void
            elif deadline <= now:
                heappop(deadlines)
                self.expire(ride)
            else:
                if not self.wakes or deadline < self.wakes[0]:
                    self._wake_at(deadline)
                return
