"""Road graphs of the simulated city, built with networkx: a grid, rings and spokes, or an
osmnx network read from GraphML. ``sim.city.travel`` turns them into travel-time matrices."""

from __future__ import annotations

import math
import re
from pathlib import Path

import networkx as nx
import numpy as np

from sim.errors import CityError
from sim.registry import CITY_KINDS
from sim.scenario.city import GraphmlCity, GridCity, RingRadialCity

EARTH_R_M = 6_371_008.8
MAX_EDGE_M = 1_000_000.0  # no road segment is 1,000 km long: such a length is a unit error


def _road(g: nx.DiGraph, a: int, b: int, length: float, mps: float) -> None:
    """Two-way street: two directed edges of the same length and time."""
    g.add_edge(a, b, length=length, time=length / mps)
    g.add_edge(b, a, length=length, time=length / mps)


def grid_graph(spec: GridCity) -> nx.DiGraph:
    """rows x cols blocks of two-way streets; node id = row * cols + col."""
    g = nx.DiGraph()
    for r in range(spec.rows):
        for c in range(spec.cols):
            g.add_node(r * spec.cols + c, x=c * spec.block_m, y=r * spec.block_m)
    mps = spec.speed_kph / 3.6
    for (r1, c1), (r2, c2) in nx.grid_2d_graph(spec.rows, spec.cols).edges():
        _road(g, r1 * spec.cols + c1, r2 * spec.cols + c2, spec.block_m, mps)
    return g


def ring_radial_graph(spec: RingRadialCity) -> nx.DiGraph:
    """Centre node 0, concentric rings of straight segments no longer than the spacing."""
    g = nx.DiGraph()
    g.add_node(0, x=0.0, y=0.0)
    s, spokes = spec.ring_spacing_m, spec.spokes
    ring_mps, spoke_mps = spec.ring_speed_kph / 3.6, spec.spoke_speed_kph / 3.6
    prev = [0] * spokes  # where each spoke left the previous ring
    for k in range(1, spec.rings + 1):
        per = math.ceil(2 * math.pi * k / spokes)  # ring segments between two spokes
        m, r, first = spokes * per, k * s, g.number_of_nodes()
        for i in range(m):
            a = 2 * math.pi * i / m  # compass bearing: 0 = north
            g.add_node(first + i, x=r * math.sin(a), y=r * math.cos(a))
        chord = 2 * r * math.sin(math.pi / m)
        for i in range(m):
            _road(g, first + i, first + (i + 1) % m, chord, ring_mps)
        for j in range(spokes):
            _road(g, prev[j], first + j * per, s, spoke_mps)
            prev[j] = first + j * per
    return g


def _num(value: object) -> float:
    """A finite float from a GraphML attribute (read back as a string), else NaN."""
    try:
        x = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return math.nan
    return x if math.isfinite(x) else math.nan


def _maxspeed_kph(value: object) -> float | None:
    """OSM maxspeed such as '50', '30 mph' or "['50', '30']" (mean, as osmnx does)."""
    text = "" if value is None else str(value)
    nums = [x for x in map(float, re.findall(r"\d+(?:\.\d+)?", text)) if x > 0]
    return sum(nums) / len(nums) * (1.609344 if "mph" in text else 1.0) if nums else None


def _project(xy: np.ndarray) -> np.ndarray:
    """Longitude and latitude to metres: equirectangular around the mean point."""
    lon0, lat0 = xy.mean(axis=0)
    out = np.radians(xy - (lon0, lat0)) * EARTH_R_M
    out[:, 0] *= math.cos(math.radians(lat0))
    return out


def _looks_lonlat(raw: nx.Graph, ids: list, xy: np.ndarray) -> bool:
    """Without a CRS: degrees if the coordinates fit longitude and latitude and, when the
    edges give their lengths in metres, those lengths agree better with degrees than with
    metres (a small city drawn in metres also fits the box of degrees)."""
    if not (np.abs(xy) <= (180, 90)).all():
        return False
    at = {v: i for i, v in enumerate(ids)}
    pairs = [
        (at[a], at[b], _num(d.get("length")))
        for a, b, d in raw.edges(data=True)
        if a != b and _num(d.get("length")) > 0
    ]
    if not pairs:
        return True
    a, b, length = (np.array(x) for x in zip(*pairs, strict=True))
    ratios = []
    for pts in (_project(xy), xy):
        span = np.hypot(*(pts[a] - pts[b]).T)
        ok = span > 0
        ratios.append(np.median(np.abs(np.log(length[ok] / span[ok]))) if ok.any() else np.inf)
    return bool(ratios[0] <= ratios[1])


def graphml_graph(spec: GraphmlCity) -> nx.DiGraph:
    """An osmnx road network: project to metres, derive edge times, keep the fastest edge."""
    path = Path(spec.path).expanduser()
    if not path.is_file():
        raise CityError(f"city.path: file not found: {spec.path}")
    try:
        raw = nx.read_graphml(path)
    except Exception as e:  # the XML and GraphML layers raise many kinds
        msg = " ".join(str(e).split())
        raise CityError(f"city.path: cannot read GraphML: {type(e).__name__}: {msg}") from e
    if raw.number_of_nodes() == 0:
        raise CityError(f"city.path: no nodes in {spec.path}")
    ids = list(raw.nodes)
    xy = np.array([[_num(raw.nodes[v].get(k)) for k in "xy"] for v in ids], dtype=np.float64)
    if np.isnan(xy).any():
        bad = ids[int(np.flatnonzero(np.isnan(xy).any(axis=1))[0])]
        raise CityError(f"city.path: node {bad!r} has no numeric x and y")
    crs = str(raw.graph.get("crs", "")).lower()
    geo = any(k in crs for k in ("4326", "4258", "longlat", "lonlat", "latlong"))
    geo &= not any(k in crs for k in ("utm", "projcrs", "projcs", "+units=m"))
    lonlat = geo if crs else _looks_lonlat(raw, ids, xy)
    if lonlat:
        xy = _project(xy)
    pos = dict(zip(ids, xy.tolist(), strict=True))
    g = nx.DiGraph()
    for v, (x, y) in pos.items():
        g.add_node(v, x=x, y=y)
    for a, b, d in raw.edges(data=True):
        if a == b:
            continue
        length = _num(d.get("length"))
        if not length >= 0:
            length = math.dist(pos[a], pos[b])
        if length > MAX_EDGE_M:
            raise CityError(
                f"city.path: edge {a!r} -> {b!r} is {length:,.0f} m long, more than the"
                f" {MAX_EDGE_M / 1000:,.0f} km any road segment has (is length in metres?)"
            )
        t = _num(d.get("travel_time"))
        if not t > 0:
            kph = _num(d.get("speed_kph"))
            if not kph > 0:
                kph = _maxspeed_kph(d.get("maxspeed")) or spec.default_speed_kph
            t = length / (kph / 3.6)
        for p, q in [(a, b)] if raw.is_directed() else [(a, b), (b, a)]:
            if not g.has_edge(p, q) or t < g[p][q]["time"]:  # parallel edges: fastest wins
                g.add_edge(p, q, time=t, length=length)
    return g


CITY_KINDS.register("grid", grid_graph, settings=GridCity)
CITY_KINDS.register("ring_radial", ring_radial_graph, settings=RingRadialCity)
CITY_KINDS.register("graphml", graphml_graph, settings=GraphmlCity)
