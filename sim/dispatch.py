"""Matching policies, registered by name, over a spatial index of idle drivers.

A policy is told when a request arrives, when a driver becomes idle and when a waiting
rider gives up; it answers by calling ``assign``. Candidate search walks rings of spatial
cells outward from the request, so its cost grows with the drivers nearby, not the fleet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np


class CellIndex:
    """Ids bucketed by the spatial cell of their node, oldest first within a cell."""

    def __init__(self, city) -> None:
        self.node_cell = city.node_cell.tolist()
        self.cells: list[dict[int, int]] = [{} for _ in range(city.n_cells)]
        self.city = city
        self._rings: dict[int, list[list[int]]] = {}
        self.count = 0

    def add(self, key: int, node: int) -> None:
        self.cells[self.node_cell[node]][key] = node
        self.count += 1

    def remove(self, key: int, node: int) -> None:
        del self.cells[self.node_cell[node]][key]
        self.count -= 1

    def _rings_of(self, cell: int) -> list[list[int]]:
        rings = self._rings[cell] = self.city.rings_around(cell)
        return rings

    def near(self, node: int, extra_rings: int = 1,
             enough: int = 16) -> tuple[list[int], list[int]]:
        """Keys and nodes in the nearest non-empty ring of cells plus ``extra_rings`` more.

        The extra ring catches a key that is farther as the crow flies but nearer by road;
        it is skipped once ``enough`` candidates are in hand, which bounds the work where
        drivers are dense.
        """
        keys: list[int] = []
        nodes: list[int] = []
        if not self.count:
            return keys, nodes
        centre = self.node_cell[node]
        rings = self._rings.get(centre) or self._rings_of(centre)
        cells = self.cells
        stop = len(rings)
        ring = 0
        while ring < stop:
            for cell in rings[ring]:
                bucket = cells[cell]
                if bucket:
                    keys += bucket
                    nodes += bucket.values()
            ring += 1
            if keys:
                if len(keys) >= enough:
                    break
                if stop == len(rings):
                    stop = min(stop, ring + extra_rings)
        return keys, nodes


def nearest(times: np.ndarray, limit: float) -> int:
    """Index of the smallest time within ``limit`` (first on ties), or -1."""
    i = int(np.argmin(times))
    return i if times[i] <= limit else -1


class Matcher(Protocol):
    def request(self, ride) -> None: ...
    def driver_idle(self, d: int) -> None: ...
    def driver_gone(self, d: int) -> None: ...
    def abandon(self, ride) -> None: ...


class NearestIdle:
    """Assign each request at once to the idle driver with the shortest pickup time.

    A request no driver can reach within ``max_pickup_s`` waits; a driver who becomes
    idle takes the nearest waiting request he can reach (the oldest among equals).
    """

    def __init__(self, world) -> None:
        city = world.city
        self.world = world
        self.city = city
        self.limit = world.scenario.dispatch.max_pickup_s
        self.idle = CellIndex(city)
        self.waiting = CellIndex(city)
        self.waiting_rides: dict[int, object] = {}

    def request(self, ride) -> None:
        keys, nodes = self.idle.near(ride.origin)
        if keys:
            times = self.city.times_to(ride.origin)[nodes]
            i = nearest(times, self.limit)
            if i >= 0:
                d = keys[i]
                self.idle.remove(d, nodes[i])
                self.world.assign(ride, d, float(times[i]))
                return
        self.waiting.add(ride.id, ride.origin)
        self.waiting_rides[ride.id] = ride
        self.world.wait(ride)

    def driver_idle(self, d: int) -> None:
        node = self.world.fleet.node[d]
        keys, nodes = self.waiting.near(node)
        if keys:
            time_s = self.city.time_s
            times = np.array([time_s(node, o) for o in nodes])
            i = nearest(times, self.limit)
            if i >= 0:
                ride = self.waiting_rides.pop(keys[i])
                self.waiting.remove(keys[i], nodes[i])
                self.world.assign(ride, d, float(times[i]))
                return
        self.idle.add(d, node)

    def driver_gone(self, d: int) -> None:
        self.idle.remove(d, self.world.fleet.node[d])

    def abandon(self, ride) -> None:
        if self.waiting_rides.pop(ride.id, None) is not None:
            self.waiting.remove(ride.id, ride.origin)

    @property
    def n_waiting(self) -> int:
        return self.waiting.count


POLICIES: dict[str, Callable[..., Matcher]] = {"nearest": NearestIdle}
