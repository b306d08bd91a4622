"""The street: cruising taxis find a waiting rider at a rate that grows with the idle taxis
around her."""

from __future__ import annotations

import numpy as np

from sim.city.spatial import nearest
from sim.core.clock import call_in
from sim.core.rng import Pool
from sim.market.dispatch.base import WAITING, Matcher


class StreetHail(Matcher):
    """Riders at the roadside; idle cruising taxis in her zone (her cell, or the ring of
    cells around it when hers has none) find her at ``find_per_taxi_min`` per taxi per
    minute, and a taxi that becomes free near waiting riders takes the oldest.
    """

    def __init__(self, dispatcher) -> None:
        super().__init__(dispatcher, dispatcher.idle_any)
        spec = self.world.scenario.dispatch.street
        self.rate_s = spec.find_per_taxi_min / 60.0
        self.pickup_s = spec.pickup_s
        self.exponential = Pool(self.world.streams["dispatch.street"].standard_exponential)

    def request(self, ride) -> None:
        self.enqueue(ride)
        taxis = self.index.zone_count(ride.origin)
        if taxis:
            delay = 1.0 / (self.rate_s * taxis) * self.exponential()
            if delay < ride.patience:
                # Her patience timer starts only if this taxi turns out to be gone.
                ride.finding = True
                call_in(self.world.env, delay, self._found, ride)
                return
        self.world.wait(ride)

    def passing(self, d: int) -> None:
        """An idle taxi (kept for his app's next round) cruises past waiting riders: each
        of them not already being found may be found by him at the street rate."""
        if not self.waiting.count:
            return
        keys, _ = self.waiting.zone(self.world.fleet.node[d])
        for key in sorted(keys)[:4]:
            ride = self.waiting_rides[key]
            if not ride.finding:
                ride.finding = True
                call_in(self.world.env, 1.0 / self.rate_s * self.exponential(), self._found, ride)

    def _found(self, ride) -> None:
        ride.finding = False
        if ride.status != WAITING:
            return
        keys, nodes = self.index.zone(ride.origin)
        if keys:
            i = nearest(self.city.times_to(ride.origin).take(nodes), np.inf) if len(keys) > 1 else 0
            self.dequeue(ride)
            self.world.assign(ride, keys[i], self.pickup_s)
        else:
            self.world.wait(ride)

    def take_waiting(self, d: int) -> bool:
        if not self.waiting.count:
            return False
        node = self.world.fleet.node[d]
        keys, _ = self.waiting.zone(node)
        if not keys:
            return False
        ride = self.waiting_rides[min(keys)]  # the longest waiting
        self.dequeue(ride)
        self.world.assign(ride, d, self.city.time_s(node, ride.origin) + self.pickup_s)
        return True
