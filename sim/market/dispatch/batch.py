"""``batch``: a minimum-cost assignment of waiting requests to idle drivers every few seconds."""

from __future__ import annotations

from collections.abc import Generator
from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field
from simpy.events import Timeout

from sim.city.spatial import CellIndex
from sim.core.ride import Ride
from sim.market.dispatch.base import Engine, Matcher
from sim.registry import DISPATCH
from sim.scenario.base import Frozen

if TYPE_CHECKING:
    from sim.market.dispatch.dispatcher import Dispatcher

NO_MATCH = 1e9


class BatchSettings(Frozen):
    """``dispatch.batch``: how often the assignment runs and how many drivers it weighs."""

    every_s: float = Field(default=30.0, ge=1, le=3600)  # matching interval
    k: int = Field(default=8, ge=1, le=200)  # candidate drivers per request


class BatchMatch(Matcher):
    """Every ``every_s`` seconds, a minimum-total-pickup assignment of waiting requests to
    idle drivers (scipy's linear_sum_assignment), each request's candidates pruned to its
    ``k`` nearest drivers within ``max_pickup_s``."""

    Settings = BatchSettings
    own_clock = True

    index: CellIndex

    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        platform: int,
        settings: BatchSettings,
        max_pickup_s: float,
    ) -> None:
        super().__init__(engine, dispatcher.idle_app[platform], max_pickup_s)
        self.every_s, self.k = settings.every_s, settings.k
        self.offering = dispatcher.offering(platform)
        engine.env.process(self._loop())

    def request(self, ride: Ride) -> None:
        self.enqueue(ride)
        self.engine.wait(ride)

    def _loop(self) -> Generator[Timeout, object, None]:
        while True:
            yield Timeout(self.engine.env, self.every_s)
            if self.waiting_rides and self.index.count:
                self._match()

    def _match(self) -> None:
        rides = list(self.waiting_rides.values())
        columns: dict[int, int] = {}
        rows: list[list[tuple[int, float]]] = []
        for ride in rides:
            keys, nodes = self.index.near(ride.origin, enough=self.k)
            times = self.city.times_to(ride.origin)[nodes].astype(float)
            best = np.argsort(times, kind="stable")[: self.k]
            rows.append(
                [
                    (columns.setdefault(keys[i], len(columns)), times[i])
                    for i in best
                    if times[i] <= self.limit
                ]
            )
        if not columns:
            return
        cost = np.full((len(rides), len(columns)), NO_MATCH)
        for r, cells in enumerate(rows):
            for c, t in cells:
                cost[r, c] = t
        drivers = list(columns)
        from scipy.optimize import linear_sum_assignment  # only runs that batch import it

        for r, c in zip(*linear_sum_assignment(cost), strict=True):
            # A driver who declines leaves the ride for the next round.
            if cost[r, c] < NO_MATCH and self.offering.accepts(rides[r], float(cost[r, c])):
                self.dequeue(rides[r])
                self.engine.assign(rides[r], drivers[c], float(cost[r, c]))


DISPATCH.register("batch", BatchMatch)
