"""The street: cruising taxis find a waiting rider at a rate that grows with the idle taxis
around her."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from sim.city.spatial import CellIndex, nearest
from sim.core.clock import call_in
from sim.core.ride import Ride
from sim.core.rng import Pool
from sim.market.dispatch.base import WAITING, Engine, Matcher
from sim.scenario.market import Street

if TYPE_CHECKING:
    from sim.market.dispatch.dispatcher import Dispatcher


class StreetHail(Matcher):
    """Riders at the roadside; idle cruising taxis in her zone (her cell, or the ring of
    cells around it when hers has none) find her at ``find_per_taxi_min`` per taxi per
    minute, and a taxi that becomes free near waiting riders takes the oldest.

    In a sample of the city (``population.sample``) her zone widens to every cell within
    ``zone_rings(sample)`` rings: the area where the sample's taxis are as many as the
    full city's in her cell, so a sampled street is as busy as the city's, not empty.
    """

    index: CellIndex
    waiting: CellIndex

    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        settings: Street,
        max_pickup_s: float,
        sample: float = 1.0,
    ) -> None:
        super().__init__(engine, dispatcher.idle_any, max_pickup_s)
        self.index.zone_rings = self.waiting.zone_rings = zone_rings(sample)
        self.rate_s = settings.find_per_taxi_min / 60.0
        self.pickup_s = settings.pickup_s
        self.exponential = Pool(engine.stream("dispatch.street").standard_exponential)

    def request(self, ride: Ride) -> None:
        self.enqueue(ride)
        taxis = self.index.zone_count(ride.origin)
        if taxis:
            delay = 1.0 / (self.rate_s * taxis) * self.exponential()
            if delay < ride.patience:
                # Her patience timer starts only if this taxi turns out to be gone.
                ride.finding = True
                call_in(self.engine.env, delay, self._found, ride)
                return
        self.engine.wait(ride)

    def passing(self, d: int) -> None:
        """An idle taxi (kept for his app's next round) cruises past waiting riders: each
        of them not already being found may be found by him at the street rate."""
        if not self.waiting.count:
            return
        keys, _ = self.waiting.zone(self.engine.fleet.node[d])
        for key in sorted(keys)[:4]:
            ride = self.waiting_rides[key]
            if not ride.finding:
                ride.finding = True
                call_in(self.engine.env, 1.0 / self.rate_s * self.exponential(), self._found, ride)

    def _found(self, ride: Ride) -> None:
        ride.finding = False
        if ride.status != WAITING:
            return
        keys, nodes = self.index.zone(ride.origin)
        if keys:
            i = nearest(self.city.times_to(ride.origin).take(nodes), np.inf) if len(keys) > 1 else 0
            self.dequeue(ride)
            self.engine.assign(ride, keys[i], self.pickup_s)
        else:
            self.engine.wait(ride)

    def take_waiting(self, d: int) -> bool:
        if not self.waiting.count:
            return False
        node = self.engine.fleet.node[d]
        keys, _ = self.waiting.zone(node)
        if not keys:
            return False
        ride = self.waiting_rides[min(keys)]  # the longest waiting
        self.dequeue(ride)
        self.engine.assign(ride, d, self.city.time_s(node, ride.origin) + self.pickup_s)
        return True


def zone_rings(sample: float) -> int:
    """Rings of cells around hers whose area holds, at this sample, as many taxis as her
    own cell in the full city: (2r + 1)^2 cells ~ 1 / sample; at least 1."""
    return max(1, round((1.0 / math.sqrt(sample) - 1.0) / 2.0))
