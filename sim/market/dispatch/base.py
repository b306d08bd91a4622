"""The seam between matchers and the engine, and what every queue-keeping matcher shares.

A matcher never sees the run's ``World``: it gets an ``Engine`` (the protocol below: what
it may read and call), its platform's idle index, its own settings and ``max_pickup_s``.
It matches by calling ``engine.assign``, makes a rider wait with ``engine.wait`` (her
patience starts running) and drops one with ``engine.give_up``.
"""

from __future__ import annotations

import math
from typing import ClassVar, Protocol

import numpy as np
import simpy

from sim.city.spatial import CellIndex, NodeIndex
from sim.city.travel import City
from sim.core.ride import Ride
from sim.core.rng import Pool
from sim.core.state import RideStatus
from sim.market.drivers import DriverModel
from sim.market.fleet import Fleet
from sim.money.subsidies import PolicyBook
from sim.scenario.market import Accept

WAITING = RideStatus.WAITING


class GrabCounts(Protocol):
    """A channel's figures a broadcast matcher adds to (``ChannelStats`` in records)."""

    broadcast: bool
    pushes: int
    reached: int
    grabs: int


class Engine(Protocol):
    """What a matcher may read and call; nothing else of the run is in reach.

    Read (never write): ``env`` the clock (``env.now``; ``call_in`` and ``env.process``
    for a matcher's own moments), ``city`` travel times and nearest nodes, ``fleet`` the
    drivers' ``node`` and ``state``, ``book`` the subsidies on offer, ``drivers`` the
    drivers' model (whether a driver takes an offer).
    """

    env: simpy.Environment
    city: City
    fleet: Fleet
    book: PolicyBook
    drivers: DriverModel

    def assign(self, ride: Ride, d: int, pickup_s: float) -> None:
        """Driver ``d`` takes ``ride``, reaching her in ``pickup_s`` seconds. The
        matcher has already taken her off its own queue."""

    def wait(self, ride: Ride) -> None:
        """``ride`` is not matched yet: her patience runs (from her request); when it
        is over the engine calls the matcher's ``abandon``. She may be abandoned at
        once (check ``ride.status`` afterwards)."""

    def give_up(self, ride: Ride) -> None:
        """The matcher drops ``ride`` (taken off its queue already): she is abandoned."""

    def measure(self, ride: Ride) -> int:
        """``ride``'s trip metres, seconds and fare filled in where not yet known; the
        fare (fen)."""
        ...

    def stream(self, name: str) -> np.random.Generator:
        """The run's random substream ``name`` (use ``dispatch.<policy>...``)."""
        ...

    def channel_stats(self, channel: int, platform: int = -1) -> GrabCounts:
        """The figures of a channel (``sim.core.state`` STREET, APP, PREBOOK)."""
        ...


class Matcher:
    """Shared parts of a matcher: the engine, a waiting index and its rides."""

    own_clock: ClassVar[bool] = False  # matches at its own moments (batch, broadcast)
    index: CellIndex | NodeIndex
    waiting: CellIndex | NodeIndex

    @staticmethod
    def idle_index(city: City, max_pickup_s: float) -> CellIndex | NodeIndex:
        """The index of the platform's idle drivers this matcher searches."""
        return CellIndex(city)

    def __init__(self, engine: Engine, index: CellIndex | NodeIndex, max_pickup_s: float) -> None:
        self.engine = engine
        self.city = engine.city
        self.index = index
        self.limit = max_pickup_s
        self.waiting = self.waiting_index()
        self.waiting_rides: dict[int, Ride] = {}

    def waiting_index(self) -> CellIndex | NodeIndex:
        """The index of this matcher's waiting riders."""
        return CellIndex(self.city)

    def request(self, ride: Ride) -> None:
        """A new request on this channel."""
        raise NotImplementedError

    def enqueue(self, ride: Ride) -> None:
        self.waiting.add(ride.id, ride.origin)
        self.waiting_rides[ride.id] = ride

    def dequeue(self, ride: Ride) -> bool:
        if self.waiting_rides.pop(ride.id, None) is None:
            return False
        self.waiting.remove(ride.id, ride.origin)
        return True

    def abandon(self, ride: Ride) -> None:
        """Her patience is over (the engine counts her abandoned)."""
        self.dequeue(ride)

    def take_waiting(self, d: int) -> bool:
        """Driver ``d`` is free: take a waiting rider if this matcher has one for him."""
        return False


class Offering:
    """A driver's answer to a ride offered by dispatch: the run's driver model says whether
    he takes it (``sim.market.drivers``; built in, a logit on ``dispatch.accept``) from
    what it is worth to him (fare, tip, the driver subsidy his app announces on its
    rails) and how far it is."""

    def __init__(self, engine: Engine, accept: Accept, name: str, rails: list[int]) -> None:
        self.engine = engine
        self.takes = engine.drivers.takes
        self.max_offers = accept.max_offers
        self.name = name
        self.rails = rails  # the rails of the driver's app, whose driver subsidies he counts
        self.uniform = Pool(engine.stream(f"dispatch.accept.{name}").random)
        self._offer = 0.0  # the best driver subsidy on his rails, in yuan ...
        self._offer_until = -math.inf  # ... until this time (the book's next window edge)

    def value_yuan(self, ride: Ride) -> float:
        e = self.engine
        now = e.env.now
        if now >= self._offer_until:
            self._offer, self._offer_until = e.book.best_offer(self.name, now, self.rails)
        fare = ride.fare
        if fare is None:  # no matrix gave it when she asked
            fare = e.measure(ride)
        return fare / 100 + ride.tip_fen / 100 + self._offer

    def accepts(self, ride: Ride, pickup_s: float) -> bool:
        return self.takes(self.value_yuan(ride), pickup_s, self.uniform())
