"""``nearest``: each request goes at once to the idle driver nearest by road."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.city.spatial import NodeIndex
from sim.city.travel import City
from sim.core.ride import Ride
from sim.market.dispatch.base import Engine, Matcher, Offering
from sim.registry import DISPATCH

if TYPE_CHECKING:
    from sim.market.dispatch.dispatcher import Dispatcher


class NearestIdle(Matcher):
    """Assign each request at once to the idle driver with the shortest pickup time.

    A request no driver can reach within ``max_pickup_s`` waits; a driver who becomes idle
    takes the waiting request he reaches soonest. Both are exact by road: equally near
    nodes go by node id, and at one node the driver or request indexed there first goes
    first (the oldest request; a driver re-indexed when apps change counts as new).
    """

    index: NodeIndex
    waiting: NodeIndex

    @staticmethod
    def idle_index(city: City, max_pickup_s: float) -> NodeIndex:
        """The platform's idle drivers, searched by time toward a rider."""
        return NodeIndex(city.n, city.nearest_nodes(True, max_pickup_s))

    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        platform: int,
        settings: None,
        max_pickup_s: float,
    ) -> None:
        super().__init__(engine, dispatcher.idle_app[platform], max_pickup_s)
        self.offering: Offering = dispatcher.offering(platform)

    def waiting_index(self) -> NodeIndex:
        """Waiting riders, searched by time from a freed driver."""
        return NodeIndex(self.city.n, self.city.nearest_nodes(False, self.limit))

    def request(self, ride: Ride) -> None:
        found = self.index.nearest(ride.origin)
        if found is not None and not self.offering.accepts(ride, found[1]):
            found = self._next_taker(ride, found[0])
        if found is not None:
            self.engine.assign(ride, found[0], found[1])
            return
        self.enqueue(ride)
        self.engine.wait(ride)

    def _next_taker(self, ride, first: int) -> tuple[int, float] | None:
        """The nearest driver who takes the ride once ``first`` has declined it, among at
        most ``max_offers`` drivers in all; the decliners stay idle where they are."""
        node = self.engine.fleet.node
        declined = [first]
        self.index.remove(first, node[first])
        found = None
        while len(declined) < self.offering.max_offers:
            found = self.index.nearest(ride.origin)
            if found is None or self.offering.accepts(ride, found[1]):
                break
            declined.append(found[0])
            self.index.remove(found[0], node[found[0]])
            found = None
        for d in declined:
            self.index.add(d, node[d])
        return found

    def take_waiting(self, d: int) -> bool:
        if not self.waiting.count:
            return False
        found = self.waiting.nearest(self.engine.fleet.node[d])
        if found is None:
            return False
        ride = self.waiting_rides[found[0]]
        if not self.offering.accepts(ride, found[1]):
            return False  # he lets this one go and stays available
        self.dequeue(ride)
        self.engine.assign(ride, d, found[1])
        return True


DISPATCH.register("nearest", NearestIdle)
