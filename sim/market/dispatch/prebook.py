"""Prebooking: a rider calls her favourite driver when he is free."""

from __future__ import annotations

from sim.core.state import PREBOOK
from sim.market.fleet import IDLE


class PrebookFavourite:
    """A rider books her favourite driver directly (seed: riders kept drivers as WeChat
    contacts); he takes it when free and within reach, else she uses the app or street."""

    def __init__(self, dispatcher) -> None:
        self.dispatcher = dispatcher
        self.world = dispatcher.world
        self.limit = self.world.scenario.dispatch.max_pickup_s

    def request(self, ride) -> bool:
        w = self.world
        d = w.pop.favourite[ride.rider]
        if d < 0 or w.fleet.state[d] != IDLE or not self.dispatcher.in_index[d]:
            return False
        t = w.city.time_s(w.fleet.node[d], ride.origin)
        if t > self.limit:
            return False
        ride.channel = PREBOOK
        w.assign(ride, d, t)
        return True
