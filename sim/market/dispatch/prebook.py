"""Prebooking: a rider calls her favourite driver when he is free."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.core.ride import Ride
from sim.core.state import PREBOOK
from sim.market.dispatch.base import Engine
from sim.market.fleet import IDLE

if TYPE_CHECKING:
    from sim.market.dispatch.dispatcher import Dispatcher


class PrebookFavourite:
    """A rider books her favourite driver directly (seed: riders kept drivers as WeChat
    contacts); he takes it when free and within reach, else she uses the app or street."""

    def __init__(
        self, engine: Engine, dispatcher: Dispatcher, favourite: np.ndarray, max_pickup_s: float
    ) -> None:
        self.engine = engine
        self.dispatcher = dispatcher
        self.favourite = favourite  # rider -> her favourite driver, or -1
        self.limit = max_pickup_s

    def request(self, ride: Ride) -> bool:
        """Her favourite takes her (True), or she turns to the app or the street."""
        e = self.engine
        d = self.favourite[ride.rider]
        if d < 0 or e.fleet.state[d] != IDLE or not self.dispatcher.in_index[d]:
            return False
        t = e.city.time_s(e.fleet.node[d], ride.origin)
        if t > self.limit:
            return False
        ride.channel = PREBOOK
        e.assign(ride, d, t)
        return True
