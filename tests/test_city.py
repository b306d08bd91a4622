"""Road network: travel times, meter distances, caching, fallback mode, cells."""

from __future__ import annotations

import math
import os
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

import sim.city.travel as city_mod
from sim.city.spatial import CellIndex
from sim.city.travel import build_city
from sim.errors import CityError
from sim.scenario.city import GraphmlCity, GridCity, Place, RingRadialCity

LON, LAT = 116.40, 39.90  # Beijing


def own(cache: Path) -> Path:
    """This user's private directory in a matrix cache."""
    return cache / f"u{os.getuid()}"


def _write(tmp_path: Path, g: nx.Graph, name: str = "g.graphml") -> str:
    path = tmp_path / name
    nx.write_graphml(g, path)
    return str(path)


def _osm_square() -> nx.MultiDiGraph:
    """Four nodes ~1 km apart; 101 -> 102 is one-way, string attributes as osmnx saves."""
    g = nx.MultiDiGraph(crs="epsg:4326")
    for nid, dx, dy in [("101", 0, 0), ("102", 0.01, 0), ("103", 0.01, 0.01), ("104", 0, 0.01)]:
        g.add_node(nid, x=str(LON + dx), y=str(LAT + dy))
    g.add_edge("101", "102", length="853.0", speed_kph="36")
    for a, b, ln in [("102", "103", 1112.0), ("103", "104", 853.0), ("104", "101", 1112.0)]:
        g.add_edge(a, b, length=str(ln), maxspeed="30 mph")
        g.add_edge(b, a, length=str(ln))  # no speed at all: default_speed_kph
    g.add_edge("101", "104", length="1112.0", travel_time="50")  # faster parallel edge
    return g


def test_grid_times_are_manhattan_over_speed(tmp_path: Path) -> None:
    spec = GridCity(rows=6, cols=7, block_m=400.0, speed_kph=25.0)
    c = build_city(spec, cache_dir=tmp_path)
    assert c.n == 42 and c.xy.shape == (42, 2)
    rc = np.array([divmod(i, 7) for i in range(42)])
    for dst in range(c.n):
        manhattan = np.abs(rc - rc[dst]).sum(axis=1) * 400.0
        row = c.times_to(dst)
        assert row.dtype == np.uint16 and row.shape == (42,)
        assert np.all(np.abs(row - manhattan / (25 / 3.6)) <= 0.5 + 1e-6)
        for src in range(c.n):
            assert c.time_s(src, dst) == row[src]
            assert c.dist_m(src, dst) == manhattan[src]


def test_ring_roads_beat_the_straight_line_at_spoke_speed(tmp_path: Path) -> None:
    spec = RingRadialCity(rings=6, spokes=16, ring_spacing_m=2000.0)
    c = build_city(spec, cache_dir=tmp_path)
    assert 100 < c.n < 1000
    radius = np.hypot(*c.xy.T)
    outer = np.flatnonzero(np.isclose(radius, 12000.0))
    angle = np.degrees(np.arctan2(c.xy[outer, 0], c.xy[outer, 1])) % 360
    for a_deg, b_deg in [(0, 180), (0, 90), (90, 270)]:
        a = int(outer[np.argmin(np.abs(angle - a_deg))])
        b = int(outer[np.argmin(np.abs(angle - b_deg))])
        straight = float(np.hypot(*(c.xy[a] - c.xy[b])))
        assert c.time_s(a, b) < straight / (25 / 3.6)
        assert c.dist_m(a, b) >= straight - 5
        # the fastest way runs along the outer ring (48 chords), not through the centre
        arc = 48 * 2 * 12000 * math.sin(math.pi / 48) * abs(b_deg - a_deg) / 360
        assert c.dist_m(a, b) == pytest.approx(arc, abs=10)


def test_ring_radial_node_counts_scale(tmp_path: Path) -> None:
    big = RingRadialCity(rings=30, spokes=64, max_matrix_nodes=1)
    assert build_city(big, cache_dir=tmp_path).n > 2000


def test_graphml_round_trip_one_way_and_parallel_edges(tmp_path: Path) -> None:
    path = _write(tmp_path, _osm_square())
    spec = GraphmlCity(path=path, places={"home": Place(node=101), "work": Place(node="103")})
    c = build_city(spec, cache_dir=tmp_path)
    assert c.n == 4
    a, b, cc, d = (c.node_of(x) for x in ("101", "102", "103", "104"))
    assert c.places == {"home": a, "work": cc} and c.node_of("home") == a
    east = math.radians(0.01) * 6_371_000 * math.cos(math.radians(LAT))  # ~853 m
    north = math.radians(0.01) * 6_371_000  # ~1112 m
    assert math.dist(c.xy[a], c.xy[b]) == pytest.approx(east, rel=0.01)
    assert math.dist(c.xy[a], c.xy[d]) == pytest.approx(north, rel=0.01)
    assert c.time_s(a, b) == round(853 / 10)  # 36 km/h
    assert c.dist_m(a, b) == 850  # decametres
    assert c.time_s(a, d) == 50  # the faster of two parallel edges
    back = (1112 + 853 + 1112) / (30 * 1.609344 / 3.6)  # maxspeed "30 mph" all the way
    assert c.time_s(b, a) != c.time_s(a, b)
    assert abs(c.time_s(b, a) - back) <= 1.5
    assert c.dist_m(b, a) == pytest.approx(1112 + 853 + 1112, abs=10)


def test_graphml_projected_crs_keeps_metres(tmp_path: Path) -> None:
    g = nx.MultiDiGraph(crs="EPSG:32650")
    g.add_node("1", x="448000.0", y="4417000.0")
    g.add_node("2", x="449000.0", y="4417000.0")
    g.add_edge("1", "2", length="1000", speed_kph="36")
    g.add_edge("2", "1")  # no length: the straight line
    c = build_city(GraphmlCity(path=_write(tmp_path, g)), cache_dir=tmp_path)
    assert c.xy.tolist() == [[448000.0, 4417000.0], [449000.0, 4417000.0]]
    assert c.time_s(0, 1) == 100 and c.dist_m(1, 0) == 1000
    assert c.time_s(1, 0) == 120  # default 30 km/h


def test_meter_distance_is_along_the_fastest_path_not_the_shortest(tmp_path: Path) -> None:
    g = nx.MultiDiGraph(crs="EPSG:32650")
    for nid, x, y in [("a", 0, 0), ("b", 500, 600), ("c", 1000, 0)]:
        g.add_node(nid, x=str(x), y=str(y))
    for p, q, ln, kph in [("a", "c", 1000, 10), ("a", "b", 800, 60), ("b", "c", 800, 60)]:
        g.add_edge(p, q, length=str(ln), speed_kph=str(kph))
        g.add_edge(q, p, length=str(ln), speed_kph=str(kph))
    c = build_city(GraphmlCity(path=_write(tmp_path, g)), cache_dir=tmp_path)
    a, cc = c.node_of("a"), c.node_of("c")
    assert c.time_s(a, cc) == 96 and c.dist_m(a, cc) == 1600


def test_cache_second_build_loads_from_disk(tmp_path: Path, monkeypatch) -> None:
    spec = GridCity(rows=5, cols=5, places={"airport": Place(spur_km=10.0)})
    first = build_city(spec, cache_dir=tmp_path)
    other = build_city(GridCity(rows=5, cols=6), cache_dir=tmp_path / "other")
    assert other.graph_hash != first.graph_hash
    files = sorted(p.name for p in own(tmp_path).glob("*.npy"))
    assert files == [f"{first.graph_hash}.dist.npy", f"{first.graph_hash}.time.npy"]

    def no_compute(self):
        raise AssertionError("recomputed despite a cache")

    monkeypatch.setattr(city_mod.City, "_batches", no_compute)
    second = build_city(spec, cache_dir=tmp_path)
    assert second.graph_hash == first.graph_hash
    for dst in range(first.n):
        assert np.array_equal(first.times_to(dst), second.times_to(dst))
        assert [first.dist_m(s, dst) for s in range(first.n)] == [
            second.dist_m(s, dst) for s in range(second.n)
        ]


def test_unwritable_cache_keeps_matrices_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    c = build_city(GridCity(rows=3, cols=3), cache_dir=blocker)
    assert c.time_s(0, 8) == round(1600 / (25 / 3.6))


def test_env_var_names_the_default_cache(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("TAXISIM_CACHE", str(tmp_path / "env"))
    c = build_city(GridCity(rows=2, cols=2))
    assert (own(tmp_path / "env") / f"{c.graph_hash}.time.npy").exists()


def _two_components(tmp_path: Path) -> str:
    g = nx.MultiDiGraph()
    for i in range(1, 6):
        g.add_node(str(i), x=str(LON + i * 0.001), y=str(LAT))
    for a, b in [("1", "2"), ("2", "3"), ("3", "1"), ("4", "5"), ("5", "4"), ("3", "4")]:
        g.add_edge(a, b, length="100")
    g.add_edge("2", "1", length="100")
    return _write(tmp_path, g)


def test_disconnected_graph_is_an_error_naming_component_sizes(tmp_path: Path) -> None:
    path = _two_components(tmp_path)
    with pytest.raises(CityError) as err:
        build_city(GraphmlCity(path=path), cache_dir=tmp_path)
    msg = str(err.value)
    assert msg.startswith("city: road graph is not strongly connected: 2 components")
    assert "sizes 3, 2" in msg and "largest_component" in msg and "\n" not in msg


def test_largest_component_keeps_and_reindexes(tmp_path: Path) -> None:
    path = _two_components(tmp_path)
    spec = GraphmlCity(path=path, largest_component=True, places={"x": Place(node=3)})
    c = build_city(spec, cache_dir=tmp_path)
    assert c.n == 3 and c.places["x"] == c.node_of("3") and c.node_of(3) == 2
    assert all(c.time_s(s, d) < 65535 for s in range(3) for d in range(3))
    dropped = GraphmlCity(path=path, largest_component=True, places={"x": Place(node="4")})
    with pytest.raises(CityError, match=r"^city\.places\.x\.node: node '4' is not in"):
        build_city(dropped, cache_dir=tmp_path)


def test_bad_places_and_paths(tmp_path: Path) -> None:
    with pytest.raises(CityError, match=r"^city\.places\.airport\.node: no node 'x' in the graph"):
        build_city(GridCity(places={"airport": Place(node="x")}), cache_dir=tmp_path)
    with pytest.raises(CityError, match=r"^city\.path: file not found"):
        build_city(GraphmlCity(path=str(tmp_path / "missing.graphml")), cache_dir=tmp_path)
    (tmp_path / "junk.graphml").write_text("<not graphml")
    with pytest.raises(CityError, match=r"^city\.path: cannot read GraphML"):
        build_city(GraphmlCity(path=str(tmp_path / "junk.graphml")), cache_dir=tmp_path)


def test_place_by_node_and_by_spur(tmp_path: Path) -> None:
    places = {
        "centre": Place(node=12),
        "airport": Place(spur_km=20.0, spur_speed_kph=60.0, bearing_deg=90.0),
        "north": Place(spur_km=5.0, bearing_deg=0.0),
    }
    c = build_city(GridCity(rows=5, cols=5, block_m=400.0, places=places), cache_dir=tmp_path)
    assert c.n == 27 and c.places["centre"] == 12
    airport, north = c.places["airport"], c.places["north"]
    assert c.xy[airport].tolist() == pytest.approx([1600.0 + 20000.0, 800.0])
    assert c.xy[north].tolist() == pytest.approx([800.0, 1600.0 + 5000.0])
    assert c.time_s(12, airport) == round(800 / (25 / 3.6) + 20000 / (60 / 3.6))
    assert c.dist_m(airport, 12) == 20800
    assert c.time_s(airport, north) == c.time_s(north, airport)


@pytest.mark.parametrize(
    "spec",
    [
        RingRadialCity(rings=3, spokes=6, ring_spacing_m=1500.0),
        GridCity(rows=4, cols=9, block_m=333.0, places={"a": Place(spur_km=3.0)}),
    ],
)
def test_fallback_mode_equals_matrix_mode(tmp_path: Path, monkeypatch, spec) -> None:
    full = build_city(spec, cache_dir=tmp_path / "a")
    lazy = build_city(spec.model_copy(update={"max_matrix_nodes": 1}), cache_dir=tmp_path / "b")
    assert not (tmp_path / "b").exists()  # nothing to cache without a matrix
    monkeypatch.setattr(city_mod, "FALLBACK_LIMIT_S", 300.0)  # force beyond-bound searches
    pairs = [(s, d) for d in range(full.n) for s in range(full.n)]
    assert [lazy.time_s(s, d) for s, d in pairs] == [full.time_s(s, d) for s, d in pairs]
    assert [lazy.dist_m(s, d) for s, d in pairs] == [full.dist_m(s, d) for s, d in pairs]
    src, dst = (np.array(x) for x in zip(*pairs, strict=True))
    dist, time = full.trips(src, dst)  # a chunk's gather gives what pair-by-pair reads give
    assert dist.tolist() == [full.dist_m(s, d) for s, d in pairs]
    assert time.tolist() == [full.time_s(s, d) for s, d in pairs]
    assert lazy.trips(src, dst) is None  # no matrices: trips are measured one by one
    for d in range(full.n):
        near = lazy.times_to(d)
        ok = near < 65535
        assert np.array_equal(near[ok], full.times_to(d)[ok])
        assert np.all(full.times_to(d)[~ok] > 300)


def test_fallback_row_cache_is_bounded(tmp_path: Path) -> None:
    c = build_city(GridCity(rows=4, cols=4, max_matrix_nodes=1), cache_dir=tmp_path)
    c._row_cap = 3
    for d in range(c.n):
        c.times_to(d)
    assert len(c._rows) == 3


@pytest.mark.parametrize(
    "spec",
    [
        GridCity(rows=9, cols=13, block_m=400.0, cell_m=1000.0),
        RingRadialCity(rings=4, spokes=8, ring_spacing_m=1000.0, cell_m=700.0),
    ],
)
def test_rings_cover_every_occupied_cell_once(tmp_path: Path, spec) -> None:
    c = build_city(spec, cache_dir=tmp_path)
    assert c.node_cell.dtype == np.int32 and c.node_cell.shape == (c.n,)
    assert c.node_cell.min() >= 0 and c.node_cell.max() < c.n_cells
    occupied = sorted(set(c.node_cell.tolist()))
    lo = c.xy.min(axis=0)
    cols = int((c.xy[:, 0].max() - lo[0]) // spec.cell_m) + 1
    for i in (0, c.n // 2, c.n - 1):
        col, row = ((c.xy[i] - lo) // spec.cell_m).astype(int)
        assert c.node_cell[i] == row * cols + col
    for cell in occupied:
        rings = c.rings_around(cell, full=True)
        assert rings[0] == [cell] and len(rings) <= c.max_ring + 1
        near = c.rings_around(cell)
        assert near == rings[: len(near)] and len(near) <= 7
        seen = [x for ring in rings for x in ring]
        assert sorted(seen) == occupied
        r0, c0 = divmod(cell, cols)
        for r, ring in enumerate(rings):
            assert all(max(abs(x // cols - r0), abs(x % cols - c0)) == r for x in ring)
    assert c.rings_around(occupied[0]) is c.rings_around(occupied[0])  # cached


@pytest.mark.parametrize("two_way", [True, False])
def test_symmetric_matrix_is_known_and_kept(tmp_path: Path, two_way: bool) -> None:
    """Row reads of a symmetric matrix and column gathers of a one-way graph alike."""
    if two_way:
        spec = GridCity(rows=5, cols=7, block_m=200.0)
    else:
        spec = GraphmlCity(path=_write(tmp_path, _osm_square()))
    c = build_city(spec, cache_dir=tmp_path / "cache")
    assert (c._T_from is not None) == two_way
    for src in range(c.n):
        assert c.times_from_all(src).tolist() == [c.time_s(src, d) for d in range(c.n)]
    marker = own(tmp_path / "cache") / f"{c.graph_hash}.symmetric"
    assert marker.exists() == two_way
    if two_way:  # the answer kept beside the matrices is what the next build reads
        marker.write_text("0")
        assert build_city(spec, cache_dir=tmp_path / "cache")._T_from is None


def test_zone_is_near_up_to_ring_one(tmp_path: Path) -> None:
    """The street's zone of a rider, listed or counted, is what ``near`` finds with no
    extra ring up to ring 1."""
    c = build_city(
        RingRadialCity(rings=8, spokes=8, ring_spacing_m=1000.0, cell_m=700.0), cache_dir=tmp_path
    )
    rng = np.random.default_rng(3)
    index = CellIndex(c)
    for key, node in enumerate(rng.integers(0, c.n, 30).tolist()):
        index.add(key, node)
        for probe in rng.integers(0, c.n, 5).tolist():
            keys, nodes = index.near(probe, extra_rings=0, max_ring=1)
            assert index.zone(probe) == (keys, nodes)
            assert index.zone_count(probe) == len(keys)
    assert CellIndex(c).zone_count(0) == 0 and CellIndex(c).zone(0) == ([], [])
