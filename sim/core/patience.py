"""Riders' patience deadlines: one heap and one pending wake-up, not a timer per rider.

Most waits end in a match long before the rider would give up, so a SimPy timer per
waiting rider mostly fires for nothing. Here deadlines sit in a heap; the clock keeps a
wake-up at the earliest deadline of a rider still waiting and skips riders matched
meanwhile, so an event fires only for a deadline that was next in line when scheduled.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappop, heappush
from itertools import count

import simpy

from sim.core.clock import call_in
from sim.core.ride import Ride
from sim.core.state import RideStatus

WAITING = RideStatus.WAITING


class PatienceClock:
    """Calls ``expire(ride)`` at ``ride``'s deadline if the ride is still waiting then."""

    def __init__(self, env: simpy.Environment, expire: Callable[[Ride], None]) -> None:
        self.env = env
        self.expire = expire
        self.deadlines: list[tuple[float, int, Ride]] = []  # (deadline, seq, ride)
        self._seq = count()
        self.wakes: list[float] = []  # times of the wake-ups scheduled and not yet fired

    def add(self, deadline: float, ride: Ride) -> None:
        heappush(self.deadlines, (deadline, next(self._seq), ride))
        if not self.wakes or deadline < self.wakes[0]:
            self._wake_at(deadline)

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
