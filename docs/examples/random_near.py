"""A dispatch policy in one file: ``random_near`` gives each request to one of the ``k``
idle drivers nearest by road, drawn at random (an app that does not optimise pickups).

Register it by importing this module (``import random_near``), or list the module in
``TAXISIM_PLUGINS`` so that sweep workers import it too, then use it in a scenario:
``dispatch: {policy: random_near, random_near: {k: 3}}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from pydantic import Field

from sim.core.ride import Ride
from sim.market.dispatch.base import Engine, Matcher
from sim.registry import register_dispatch
from sim.scenario.base import Frozen

if TYPE_CHECKING:
    from sim.market.dispatch.dispatcher import Dispatcher


class RandomNearSettings(Frozen):
    """``dispatch.random_near``: how many of the nearest idle drivers to draw from."""

    k: int = Field(default=3, ge=1, le=50)


class RandomNear(Matcher):
    """One of the ``k`` nearest idle drivers of the app within ``max_pickup_s``, at random;
    a request none can reach waits, and a freed driver takes the oldest rider he can."""

    Settings = RandomNearSettings

    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        platform: int,
        settings: RandomNearSettings,
        max_pickup_s: float,
    ) -> None:
        super().__init__(engine, dispatcher.idle_app[platform], max_pickup_s)
        self.k = settings.k
        self.rng = engine.stream(f"dispatch.random_near.{dispatcher.platforms[platform]}")

    def request(self, ride: Ride) -> None:
        keys, nodes = self.index.near(ride.origin, enough=self.k)
        if keys:
            times = self.city.times_to(ride.origin)[nodes].astype(float)
            order = np.argsort(times, kind="stable")[: self.k]
            reach = [i for i in order.tolist() if times[i] <= self.limit]
            if reach:
                i = reach[int(self.rng.integers(len(reach)))]
                self.engine.assign(ride, keys[i], float(times[i]))
                return
        self.enqueue(ride)
        self.engine.wait(ride)

    def take_waiting(self, d: int) -> bool:
        node = self.engine.fleet.node[d]
        for key in sorted(self.waiting_rides):  # the oldest first
            ride = self.waiting_rides[key]
            t = self.city.time_s(node, ride.origin)
            if t <= self.limit:
                self.dequeue(ride)
                self.engine.assign(ride, d, t)
                return True
        return False


register_dispatch("random_near", RandomNear)
