"""What every queue-keeping matcher shares: its platform's idle index, a waiting index and
the waiting rides. A matcher calls ``world.assign`` to match and ``world.wait`` to start a
rider's patience."""

from __future__ import annotations

from sim.city.spatial import CellIndex, NodeIndex
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
