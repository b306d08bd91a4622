"""Spatial indices of ids (idle drivers, waiting riders).

``NodeIndex`` finds the exact nearest id by road time (nearest-idle dispatch);
``CellIndex`` lists the ids in the cells around a node (a street's zone, the candidates of
a batch or a broadcast).
"""

from __future__ import annotations

from array import array
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

NEAREST_FIRST = 32  # nodes a search walks one by one in Python
NEAREST_FAR = 256  # nodes it then checks at once with numpy, before reading all occupied
FEW_IDS = 8  # at most this many ids: read them all rather than walk
NEARBY_BYTES = 4 << 10  # about what one node's Nearby holds
NEARBY_CACHE_BYTES = 256 << 20  # past this, the oldest built are dropped (huge cities)


class Nearby(NamedTuple):
    """A node's nearest nodes within the limit, in order of (seconds, node id)."""

    first: list[int]  # the first NEAREST_FIRST, for a walk in Python
    first_secs: list[float]  # their seconds
    first_all: bool  # no other node is within the limit
    far: np.ndarray  # the first NEAREST_FAR (the first ones again), for one numpy check
    far_secs: np.ndarray  # their seconds
    far_all: bool


class NearestNodes:
    """Each node's ``Nearby`` nodes, built when first asked and kept (in a city too big to
    keep them all in ``NEARBY_CACHE_BYTES``, the oldest built are dropped first).

    ``row(node)`` gives the seconds between ``node`` and every node, in the direction the
    index searches (drivers toward a rider, or a driver toward riders).
    """

    def __init__(self, n: int, row: Callable[[int], np.ndarray], limit: float) -> None:
        self.row = row
        self.limit = limit
        self._ids = np.arange(n, dtype=np.int64)
        self._near: list[Nearby | None] = [None] * n
        cap = NEARBY_CACHE_BYTES // NEARBY_BYTES
        self._built: deque[int] | None = deque() if n > cap else None
        self._cap = cap

    def __call__(self, node: int) -> Nearby:
        got = self._near[node]
        if got is None:
            got = self._near[node] = self._build(node)
            if self._built is not None:
                self._built.append(node)
                if len(self._built) > self._cap:
                    self._near[self._built.popleft()] = None
        return got

    def _build(self, node: int) -> Nearby:
        row = self.row(node)
        key = row.astype(np.int64) * len(row) + self._ids  # unique: ties go to the lower id
        if len(key) > NEAREST_FAR:
            pick = np.argpartition(key, NEAREST_FAR)[:NEAREST_FAR]
            pick = pick[np.argsort(key[pick])]
        else:
            pick = np.argsort(key)
        secs = row[pick]
        within = int(np.count_nonzero(secs <= self.limit))  # a prefix: secs are sorted
        far_all = len(row) <= NEAREST_FAR or within < NEAREST_FAR
        first = min(within, NEAREST_FIRST)
        return Nearby(
            pick[:first].tolist(),
            secs[:first].astype(np.float64).tolist(),  # floats, as float() of each gives
            far_all and first == within,
            pick[:within].astype(np.intp),  # intp: numpy indexes with it without a cast
            secs[:within],
            far_all,
        )


class NodeIndex:
    """Ids at nodes; ``nearest`` returns the oldest id at the nearest node holding any.

    The search walks the node's nearest nodes (``NearestNodes``) until one holds an id:
    the first few one by one (skipped when ids are too sparse to meet early), the next
    ones in one numpy check of their flags. With only a few ids, or when none of those
    nodes holds one while more are within the limit, it reads the seconds to every
    occupied node at once instead. Every way picks the least (seconds, node id).
    """

    def __init__(self, n: int, order: NearestNodes) -> None:
        self.at: list[dict[int, None]] = [{} for _ in range(n)]
        self._occupied = bytearray(n)  # 1 where a node holds an id; numpy reads it as is
        self._occupied_np = np.frombuffer(self._occupied, dtype=np.bool_)
        self.order = order
        self.count = 0

    def add(self, key: int, node: int) -> None:
        bucket = self.at[node]
        if not bucket:
            self._occupied[node] = 1
        bucket[key] = None
        self.count += 1

    def remove(self, key: int, node: int) -> None:
        bucket = self.at[node]
        del bucket[key]
        if not bucket:
            self._occupied[node] = 0
        self.count -= 1

    def nearest(self, node: int) -> tuple[int, float] | None:
        """(id, seconds) of the nearest id within the limit, or None."""
        if not self.count:
            return None
        at = self.at
        if self.count > FEW_IDS:
            near = self.order(node)
            if self.count * 8 >= len(at):  # dense enough for a short walk
                nodes = near.first
                for v in nodes:
                    if at[v]:
                        return next(iter(at[v])), near.first_secs[nodes.index(v)]
                if near.first_all:
                    return None
            j = self._occupied_np[near.far].tobytes().find(1)  # the first occupied, or -1
            if j >= 0:
                return next(iter(at[near.far[j]])), float(near.far_secs[j])
            if near.far_all:
                return None
        occupied = self._occupied_np.nonzero()[0]
        secs = self.order.row(node)[occupied]
        i = int(secs.argmin())  # the first of equal times: the lowest node id
        if secs[i] > self.order.limit:
            return None
        return next(iter(at[occupied[i]])), float(secs[i])


class CellIndex:
    """Ids bucketed by the spatial cell of their node, oldest first within a cell.

    Each cell's count is also kept in an array numpy reads in place, so a wide zone (a
    sampled city's street: hundreds of cells) is counted, and its empty cells skipped, in
    one vectorised step rather than a Python loop over every cell.
    """

    def __init__(self, city) -> None:
        self.node_cell = city.node_cell.tolist()
        self.cells: list[dict[int, int]] = [{} for _ in range(city.n_cells)]
        self._per_cell = array("l", bytes(8 * city.n_cells))
        self._per_cell_np = np.frombuffer(self._per_cell, dtype=np.int64)
        self.rings_around = city.rings_around
        self._ring_cache = city._rings_cache  # read directly: this is the hot path
        self.count = 0
        self.zone_rings = 1  # a street's zone: her cell, else the ring around it (below)
        self._wide_zones: dict[int, np.ndarray] = {}

    def add(self, key: int, node: int) -> None:
        cell = self.node_cell[node]
        self.cells[cell][key] = node
        self._per_cell[cell] += 1
        self.count += 1

    def remove(self, key: int, node: int) -> None:
        cell = self.node_cell[node]
        del self.cells[cell][key]
        self._per_cell[cell] -= 1
        self.count -= 1

    def near(
        self, node: int, extra_rings: int = 1, enough: int = 16, max_ring: int = 1 << 30
    ) -> tuple[list[int], list[int]]:
        """Keys and nodes in the nearest non-empty ring of cells plus ``extra_rings`` more.

        The extra ring catches a key that is farther as the crow flies but nearer by road;
        it is skipped once ``enough`` candidates are in hand, which bounds the work where
        drivers are dense. Rings beyond ``max_ring`` are never searched.
        """
        keys: list[int] = []
        nodes: list[int] = []
        if not self.count:
            return keys, nodes
        centre = self.node_cell[node]
        rings = self._ring_cache.get(centre) or self.rings_around(centre)
        keys, nodes = self._walk(rings, extra_rings, enough, max_ring)
        if not keys and len(rings) - 1 < max_ring:
            far = self.rings_around(centre, full=True)  # nothing near: search the rest
            if len(far) > len(rings):
                keys, nodes = self._walk(far, extra_rings, enough, max_ring)
        return keys, nodes

    def zone(self, node: int) -> tuple[list[int], list[int]]:
        """Keys and nodes in ``node``'s cell, or if it has none in the ring of cells
        around it (``near`` with no extra ring, up to ring 1: a street's zone)."""
        keys: list[int] = []
        nodes: list[int] = []
        if not self.count:
            return keys, nodes
        centre = self.node_cell[node]
        cells = self.cells
        if self.zone_rings > 1:
            zone = self._zone_cells(centre)
            for cell in zone[self._per_cell_np[zone] != 0].tolist():
                bucket = cells[cell]
                keys += bucket
                nodes += bucket.values()
            return keys, nodes
        bucket = cells[centre]
        if bucket:
            return list(bucket), list(bucket.values())
        rings = self._ring_cache.get(centre) or self.rings_around(centre)
        if len(rings) > 1:
            for cell in rings[1]:
                bucket = cells[cell]
                if bucket:
                    keys += bucket
                    nodes += bucket.values()
        return keys, nodes

    def zone_count(self, node: int) -> int:
        """How many keys ``zone(node)`` would return, without listing them."""
        if not self.count:
            return 0
        centre = self.node_cell[node]
        cells = self.cells
        if self.zone_rings > 1:
            return int(self._per_cell_np[self._zone_cells(centre)].sum())
        n = len(cells[centre])
        if n:
            return n
        rings = self._ring_cache.get(centre) or self.rings_around(centre)
        if len(rings) > 1:
            for cell in rings[1]:
                n += len(cells[cell])
        return n

    def _zone_cells(self, centre: int) -> np.ndarray:
        """Every cell within ``zone_rings`` rings of ``centre`` (a wide zone), ring by ring."""
        got = self._wide_zones.get(centre)
        if got is None:
            rings = self.rings_around(centre, full=self.zone_rings > 6)
            got = self._wide_zones[centre] = np.array(
                [c for ring in rings[: self.zone_rings + 1] for c in ring], dtype=np.intp
            )
        return got

    def _walk(
        self, rings: list[list[int]], extra_rings: int, enough: int, max_ring: int
    ) -> tuple[list[int], list[int]]:
        keys: list[int] = []
        nodes: list[int] = []
        cells = self.cells
        stop = len(rings) - 1
        if max_ring < stop:
            stop = max_ring
        ring = 0
        found = False
        while True:
            for cell in rings[ring]:
                bucket = cells[cell]
                if bucket:
                    keys += bucket
                    nodes += bucket.values()
            if keys:
                if len(keys) >= enough:
                    break
                if not found:
                    found = True
                    if ring + extra_rings < stop:
                        stop = ring + extra_rings
            if ring >= stop:
                break
            ring += 1
        return keys, nodes


def nearest(times: np.ndarray, limit: float) -> int:
    """Index of the smallest time within ``limit`` (first on ties), or -1.

    Candidate lists are short, where min() over a list beats numpy's per-call overhead.
    """
    t = times.tolist()
    best = min(t)
    return t.index(best) if best <= limit else -1
