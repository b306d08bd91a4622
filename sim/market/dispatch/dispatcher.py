"""Who picks a rider up: the channels (street, app per platform, prebooking) side by side.

The ``Dispatcher`` owns the spatial indices of idle drivers (all of them, and those running
each app) and routes every request to its channel; each app platform runs one matching
policy registered in ``sim.registry.DISPATCH``, which also says what index of idle drivers
it searches: nodes in order of road time for nearest-idle, rings of spatial cells for the
others. Either way a
search's cost grows with the empty places it passes, not with the fleet.

A policy is built as ``Policy(engine, dispatcher, platform, settings, max_pickup_s)``:
the engine seam (``sim.market.dispatch.base.Engine``), this dispatcher (its idle indices,
``in_index``, ``apps_of``, ``platforms``, ``rails``), the platform's index, the policy's
own validated settings (None when it has none) and the pickup limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.city.spatial import CellIndex, NodeIndex
from sim.core.ride import Ride
from sim.core.state import APP

# The built-in app policies register themselves in DISPATCH when imported.
from sim.market.dispatch import batch, broadcast, nearest  # noqa: F401
from sim.market.dispatch.base import Engine, Matcher, Offering
from sim.market.dispatch.prebook import PrebookFavourite
from sim.market.dispatch.street import StreetHail
from sim.market.population import Population
from sim.registry import DISPATCH
from sim.scenario.market import Dispatch
from sim.scenario.money import Rail


class Dispatcher:
    """Idle-driver indices plus one matcher per channel; the engine talks only to this."""

    def __init__(
        self,
        engine: Engine,
        spec: Dispatch,
        pop: Population,
        rails: Sequence[Rail],
        sample: float = 1.0,
    ) -> None:
        city = engine.city
        self.node = engine.fleet.node  # drivers' nodes (the fleet's own list, kept current)
        self.pop = pop
        self.rails = list(rails)
        self.platforms = pop.platforms
        self.engine = engine
        self.accept = spec.accept
        names = [spec.platforms.get(p, spec.policy) for p in self.platforms]
        policies = [DISPATCH.get(name) for name in names]
        limit = spec.max_pickup_s
        self.idle_any = CellIndex(city)
        self.idle_app: list[CellIndex | NodeIndex] = [
            policy.idle_index(city, limit) for policy in policies
        ]
        self.in_index = [False] * engine.fleet.n
        self.apps_of: list[list[int]] = []
        self.refresh_apps()
        self.app: list[Matcher] = [
            policy(engine, self, i, _settings(spec, name), limit)
            for i, (name, policy) in enumerate(zip(names, policies, strict=True))
        ]
        self.clocked = any(m.own_clock for m in self.app)  # any app matching on its own clock
        self.street = StreetHail(engine, self, spec.street, limit, sample)
        self.prebook = PrebookFavourite(engine, self, pop.favourite, limit)

    def offering(self, platform: int) -> Offering:
        """How drivers of app ``platform`` answer the rides it offers them."""
        name = self.platforms[platform]
        rails = [j for j, r in enumerate(self.rails) if r.platform == name]
        return Offering(self.engine, self.accept, name, rails)

    def refresh_apps(self) -> None:
        """Re-read which apps each driver runs (adoption changes them between days)."""
        masks = self.pop.driver_app_mask
        apps = [[p for p in range(len(self.platforms)) if m >> p & 1] for m in masks]
        idle = []
        if self.apps_of and apps != self.apps_of:
            idle = [d for d, x in enumerate(self.in_index) if x]
            for d in idle:
                self.take(d)
        self.apps_of = apps
        # The indices a driver sits in while idle: all drivers', then his apps'.
        self.indices_of = [[self.idle_any, *(self.idle_app[p] for p in a)] for a in apps]
        for d in idle:
            self.add_idle(d)

    def add_idle(self, d: int) -> None:
        node = self.node[d]
        for index in self.indices_of[d]:
            index.add(d, node)
        self.in_index[d] = True

    def take(self, d: int) -> None:
        """Remove driver ``d`` from every idle index (he was matched or went off duty)."""
        if self.in_index[d]:
            node = self.node[d]
            for index in self.indices_of[d]:
                index.remove(d, node)
            self.in_index[d] = False

    def request(self, ride: Ride) -> None:
        if ride.prebook and self.prebook.request(ride):
            return
        if ride.platform >= 0:
            self.app[ride.platform].request(ride)
        else:
            self.street.request(ride)

    def driver_idle(self, d: int) -> None:
        """A driver is free: his apps' waiting riders first, then the street, else idle.

        An app that matches on its own clock (batch, broadcast) and has riders waiting
        keeps him available for its next round rather than losing him to the street.
        """
        apps = self.app
        for p in self.apps_of[d]:
            if apps[p].take_waiting(d):
                return
        if self.clocked and any(
            apps[p].own_clock and apps[p].waiting_rides for p in self.apps_of[d]
        ):
            self.add_idle(d)
            self.street.passing(d)  # street riders nearby may still flag him down
            return
        if not self.street.take_waiting(d):
            self.add_idle(d)

    def driver_gone(self, d: int) -> None:
        self.take(d)

    def abandon(self, ride: Ride) -> None:
        (self.app[ride.platform] if ride.channel == APP else self.street).abandon(ride)

    @property
    def n_waiting(self) -> int:
        return sum(len(m.waiting_rides) for m in (*self.app, self.street))

    def waiting_rides(self) -> list[Ride]:
        return [r for m in (*self.app, self.street) for r in m.waiting_rides.values()]


def _settings(spec: Dispatch, policy: str) -> object:
    """A policy's own validated settings, or None when it has no settings model."""
    return spec.settings_of(policy) if DISPATCH.settings(policy) is not None else None
