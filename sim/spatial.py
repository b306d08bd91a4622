"""Spatial index of ids (idle drivers, waiting riders) by cell, for candidate search."""

from __future__ import annotations

import numpy as np


class CellIndex:
    """Ids bucketed by the spatial cell of their node, oldest first within a cell."""

    def __init__(self, city) -> None:
        self.node_cell = city.node_cell.tolist()
        self.cells: list[dict[int, int]] = [{} for _ in range(city.n_cells)]
        self.rings_around = city.rings_around
        self._ring_cache = city._rings_cache  # read directly: this is the hot path
        self.count = 0

    def add(self, key: int, node: int) -> None:
        self.cells[self.node_cell[node]][key] = node
        self.count += 1

    def remove(self, key: int, node: int) -> None:
        del self.cells[self.node_cell[node]][key]
        self.count -= 1

    def near(self, node: int, extra_rings: int = 1, enough: int = 16,
             max_ring: int = 1 << 30) -> tuple[list[int], list[int]]:
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

    def count_near(self, node: int, max_ring: int) -> int:
        """How many keys ``near(node, extra_rings=0, max_ring=max_ring)`` would return,
        without listing them."""
        if not self.count:
            return 0
        centre = self.node_cell[node]
        rings = self._ring_cache.get(centre) or self.rings_around(centre)
        if len(rings) - 1 < max_ring:  # beyond the cached rings: near() walks them all
            rings = self.rings_around(centre, full=True)
        cells = self.cells
        for ring in rings[: max_ring + 1]:
            n = 0
            for cell in ring:
                n += len(cells[cell])
            if n:
                return n
        return 0

    def _walk(self, rings: list[list[int]], extra_rings: int, enough: int,
              max_ring: int) -> tuple[list[int], list[int]]:
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
