"""What every queue-keeping matcher shares: its platform's idle index, a waiting index and
the waiting rides. A matcher calls ``world.assign`` to match and ``world.wait`` to start a
rider's patience."""

from __future__ import annotations

import math

from sim.city.spatial import CellIndex, NodeIndex
from sim.core.rng import Pool
from sim.core.state import RideStatus

WAITING = RideStatus.WAITING


class Matcher:
    """Shared parts of a matcher: the world, a waiting index and its rides."""

    own_clock = False  # matches at its own moments (batch, broadcast), not at a driver's

    @staticmethod
    def idle_index(world) -> CellIndex:
        """The index of the platform's idle drivers this matcher searches."""
        return CellIndex(world.city)

    def __init__(self, dispatcher, index: CellIndex) -> None:
        self.dispatcher = dispatcher
        self.world = dispatcher.world
        self.city = self.world.city
        self.index = index
        self.limit = self.world.scenario.dispatch.max_pickup_s
        self.waiting = self.waiting_index()
        self.waiting_rides: dict[int, object] = {}

    def waiting_index(self) -> CellIndex | NodeIndex:
        """The index of this matcher's waiting riders."""
        return CellIndex(self.city)

    def enqueue(self, ride) -> None:
        self.waiting.add(ride.id, ride.origin)
        self.waiting_rides[ride.id] = ride

    def dequeue(self, ride) -> bool:
        if self.waiting_rides.pop(ride.id, None) is None:
            return False
        self.waiting.remove(ride.id, ride.origin)
        return True

    def abandon(self, ride) -> None:
        self.dequeue(ride)

    def take_waiting(self, d: int) -> bool:
        return False


class Offering:
    """A driver's answer to a ride offered by dispatch (``dispatch.accept``): he takes it by
    a logit on what it is worth to him (fare, tip, the driver subsidy his app announces on
    its rails) and how far it is (``sim.market.drivers.accept_probability``)."""

    def __init__(self, world, platform: int) -> None:
        self.world = world
        spec = world.scenario.dispatch.accept
        self.base, self.per_yuan, self.per_min = spec.base, spec.per_yuan, spec.per_pickup_min
        self.max_offers = spec.max_offers
        self.name = world.pop.platforms[platform]
        rails = world.scenario.payment.rails
        self.rails = [j for j, r in enumerate(rails) if r.platform == self.name]
        self.uniform = Pool(world.streams[f"dispatch.accept.{self.name}"].random)

    def value_yuan(self, ride) -> float:
        w = self.world
        t = w.env.now
        offer = max((w.book.offer_yuan(j, self.name, t, "driver") for j in self.rails), default=0.0)
        w.measure(ride)
        return ride.fare / 100 + ride.tip_fen / 100 + offer

    def accepts(self, ride, pickup_s: float) -> bool:
        x = self.base + self.per_yuan * self.value_yuan(ride) - self.per_min * pickup_s / 60.0
        return self.uniform() * (1.0 + math.exp(-x)) < 1.0
