"""Nearest-by-road search: ``NodeIndex`` against a brute-force scan of every id."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.city import spatial
from sim.city.spatial import NodeIndex
from sim.city.travel import build_city
from sim.scenario.city import GraphmlCity, GridCity, RingRadialCity


def _grid_nodes() -> nx.MultiDiGraph:
    """The 10 x 10 nodes, 300 m apart, of the GraphML test cities."""
    g = nx.MultiDiGraph()
    for r in range(10):
        for c in range(10):
            g.add_node(f"{r}-{c}", x=str(c * 300.0), y=str(r * 300.0))
    return g


def _write_graphml(g: nx.MultiDiGraph, path: Path) -> str:
    g.graph["crs"] = "epsg:3857"
    nx.write_graphml(g, path)
    return str(path)


def _one_way_grid(tmp_path: Path) -> str:
    """A 10 x 10 grid whose horizontal streets run one way, alternating: T is not symmetric."""
    g = _grid_nodes()
    for r in range(10):
        for c in range(9):
            a, b = f"{r}-{c}", f"{r}-{c + 1}"
            g.add_edge(*((a, b) if r % 2 else (b, a)), length="300.0", speed_kph="40")
    for r in range(9):
        for c in range(10):
            a, b = f"{r}-{c}", f"{r + 1}-{c}"
            g.add_edge(a, b, length="300.0", speed_kph="25")
            g.add_edge(b, a, length="300.0", speed_kph="25")
    return _write_graphml(g, tmp_path / "oneway.graphml")


def _tenths_grid(tmp_path: Path) -> str:
    """A 10 x 10 grid whose streets take random tenths of seconds each way (as osmnx's
    travel_time): float sums of such times differ with the order they are added in."""
    rng = np.random.default_rng(4)
    g = _grid_nodes()
    for r in range(10):
        for c in range(10):
            for a, b in ((f"{r}-{c}", f"{r}-{c + 1}"), (f"{r}-{c}", f"{r + 1}-{c}")):
                if b in g:
                    for u, v in ((a, b), (b, a)):
                        g.add_edge(
                            u, v, length="300.0", travel_time=str(rng.integers(30, 300) / 10)
                        )
    return _write_graphml(g, tmp_path / "tenths.graphml")


CITIES = {
    "grid": lambda tmp: GridCity(rows=9, cols=11, block_m=250.0),
    "ring_radial": lambda tmp: RingRadialCity(rings=6, spokes=12, ring_spacing_m=1200.0),
    "one_way": lambda tmp: GraphmlCity(path=_one_way_grid(tmp)),
    "tenths": lambda tmp: GraphmlCity(path=_tenths_grid(tmp)),
}


@pytest.mark.parametrize("matrix", [True, False])
@pytest.mark.parametrize("kind", sorted(CITIES))
def test_times_from_all_is_every_pairwise_time(tmp_path: Path, kind: str, matrix: bool) -> None:
    spec = CITIES[kind](tmp_path)
    if not matrix:
        spec = spec.model_copy(update={"max_matrix_nodes": 1})
    c = build_city(spec, cache_dir=tmp_path / "cache")
    assert (c._T is not None) == matrix
    for src in range(c.n):
        assert c.times_from_all(src).tolist() == [c.time_s(src, d) for d in range(c.n)]


@pytest.mark.parametrize("matrix", [True, False])
@pytest.mark.parametrize("kind", sorted(CITIES))
@pytest.mark.parametrize("toward", [True, False])
def test_nearest_is_the_least_time_then_node_then_age(
    tmp_path: Path, kind: str, matrix: bool, toward: bool, monkeypatch
) -> None:
    """Sparse and dense, with ids coming and going: the walk over the nearest nodes, the
    check of the farther ones and the read of every occupied node all pick what a scan of
    all ids picks."""
    monkeypatch.setattr(spatial, "NEAREST_FIRST", 4)  # small cities, every stage in use
    monkeypatch.setattr(spatial, "NEAREST_FAR", 16)
    spec = CITIES[kind](tmp_path)
    if not matrix:
        spec = spec.model_copy(update={"max_matrix_nodes": 1})
    c = build_city(spec, cache_dir=tmp_path / "cache")
    assert c.n > 4 * spatial.NEAREST_FAR
    limit = float(np.median(c.times_to(0)))
    index = NodeIndex(c.n, c.nearest_nodes(toward, limit))
    rng = np.random.default_rng(11)
    where: dict[int, int] = {}  # key -> node, in insertion order
    added = 0

    def seconds(probe: int, node: int) -> float:
        return c.time_s(node, probe) if toward else c.time_s(probe, node)

    def brute(probe: int):
        best = None
        for age, (key, node) in enumerate(where.items()):
            s = seconds(probe, node)
            if s <= limit and (best is None or (s, node, age) < best[0]):
                best = ((s, node, age), key)
        return None if best is None else (best[1], best[0][0])

    for size in (1, 3, 40, 200, 5, 0):
        while len(where) < size:
            node = int(rng.integers(0, c.n))
            index.add(added, node)
            where[added] = node
            added += 1
        while len(where) > size:
            key = list(where)[int(rng.integers(0, len(where)))]
            index.remove(key, where.pop(key))
        assert index.count == len(where)
        for probe in rng.integers(0, c.n, 25).tolist():
            assert index.nearest(probe) == brute(probe), (size, probe)
    # Many ids, all on the nodes farthest from node 0: past both walks from near it.
    far = np.argsort(c.times_to(0) if toward else c.times_from_all(0))[-3:].tolist()
    for node in far * 4:
        index.add(added, node)
        where[added] = node
        added += 1
    for probe in [0, *np.argsort(c.times_to(0))[:10].tolist()]:
        assert index.nearest(probe) == brute(probe), ("far", probe)


def test_symmetric_cities_share_one_order(tmp_path: Path) -> None:
    c = build_city(GridCity(rows=4, cols=4), cache_dir=tmp_path)
    assert c.nearest_nodes(True, 600) is c.nearest_nodes(False, 600)
    assert c.nearest_nodes(True, 600) is not c.nearest_nodes(True, 900)


def test_nearby_lists_of_a_huge_city_are_bounded(tmp_path: Path, monkeypatch) -> None:
    """Past the byte budget the oldest lists are dropped and rebuilt on demand, giving the
    same answers."""
    monkeypatch.setattr(spatial, "NEARBY_CACHE_BYTES", 5 * spatial.NEARBY_BYTES)
    c = build_city(GridCity(rows=6, cols=6), cache_dir=tmp_path)
    order = c.nearest_nodes(True, 900.0)
    first = [order(v) for v in range(c.n)]
    assert sum(x is not None for x in order._near) == 5
    for v in range(c.n):
        again = order(v)
        assert again.first == first[v].first and again.far.tolist() == first[v].far.tolist()
    assert sum(x is not None for x in order._near) == 5
