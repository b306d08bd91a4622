"""Road network of the simulated city: travel times and taxi-meter distances between nodes.

networkx only builds the graph; everything after runs on scipy CSR matrices, so a query
during a run is an array read (matrix mode, cached on disk) or a cached bounded Dijkstra
(graphs too big for a matrix). Both modes round the same way, so a run does not depend
on which one it got.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from sim.city import roads as _built_in_kinds  # noqa: F401  (they register themselves)
from sim.city.cache import MatrixCache
from sim.city.spatial import NearestNodes
from sim.errors import CityError
from sim.registry import CITY_KINDS
from sim.scenario.city import CityBase

FORMAT = b"taxisim-city-v1"  # part of graph_hash: bump when the matrix layout changes
UNREACHED_S = 65535
MAX_TRIP_S = UNREACHED_S - 1  # the longest travel time a matrix holds
FALLBACK_LIMIT_S = 4 * 3600.0  # bound of a per-destination Dijkstra without a matrix
BATCH_ELEMS = 1 << 21  # destinations x nodes per all-pairs batch: bounds peak memory
ROW_CACHE_BYTES = 256 << 20
MAX_CELLS = 4_000_000
NEAR_RINGS = 6  # rings a candidate search usually needs; farther ones on demand
# Edge times are whole milliseconds (at least 1: csgraph reads a zero weight as no edge),
# so a path's time is an integer sum, exact in any order: searches from either end and
# both modes give the same seconds.
EDGE_MS = 1000.0


def build_city(spec: CityBase, cache_dir: Path | None = None, matrices: bool = True) -> City:
    """Build the city's road graph and its travel-time oracle (matrices cached on disk;
    ``matrices=False`` skips them, for checking a city without minutes of shortest paths)."""
    g = CITY_KINDS.get(spec.kind)(spec)
    labels = list(g.nodes)
    index = {v: i for i, v in enumerate(labels)}
    xy = np.array([(g.nodes[v]["x"], g.nodes[v]["y"]) for v in labels], dtype=np.float64)
    rows = [(index[a], index[b], d["time"], d["length"]) for a, b, d in g.edges(data=True)]
    e = np.array(rows, dtype=np.float64).reshape(-1, 4)  # from, to, seconds, metres
    n, u, v = len(labels), e[:, 0].astype(np.int64), e[:, 1].astype(np.int64)
    adj = sparse.csr_matrix((np.ones(len(u)), (u, v)), shape=(n, n))
    k, comp = csgraph.connected_components(adj, directed=True, connection="strong")
    keep = np.ones(n, dtype=bool)
    if k > 1:
        sizes = np.bincount(comp)
        if not getattr(spec, "largest_component", False):
            top = ", ".join(map(str, np.sort(sizes)[::-1][:6].tolist())) + (", ..." * (k > 6))
            raise CityError(
                f"city: road graph is not strongly connected: {k} components of sizes {top}"
                " (set city.largest_component: true to keep the largest)"
            )
        keep = comp == np.argmax(sizes)
        e = e[keep[u] & keep[v]]
        e[:, :2] = (np.cumsum(keep) - 1)[e[:, :2].astype(np.int64)]
        xy = xy[keep]
    by_label = {str(lab): i for i, lab in enumerate(np.compress(keep, labels).tolist())}
    places: dict[str, int] = {}
    core = len(xy)
    for name, p in spec.places.items():
        field = f"city.places.{name}.node"
        if p.node is None:
            xy, e = _add_spur(xy, e, p.spur_km or 0.0, p.spur_speed_kph, p.bearing_deg, core)
            places[name] = len(xy) - 1
        elif str(p.node) in by_label:
            places[name] = by_label[str(p.node)]
        elif any(str(p.node) == str(lab) for lab in labels):
            raise CityError(f"{field}: node {p.node!r} is not in the largest strong component")
        else:
            raise CityError(f"{field}: no node {p.node!r} in the graph")
    if cache_dir is None:
        cache_dir = Path(os.environ.get("TAXISIM_CACHE") or Path.home() / ".cache" / "taxisim")
    return City(xy, e, places, by_label, spec, Path(cache_dir), matrices)


def _add_spur(
    xy: np.ndarray, e: np.ndarray, km: float, kph: float, bearing: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Append a node on a two-way road leaving the city's edge toward ``bearing`` (airport)."""
    base_xy = xy[:n]  # spurs hang off the road graph, never off another spur
    rel = base_xy - base_xy.mean(axis=0)
    d = np.array([math.sin(math.radians(bearing)), math.cos(math.radians(bearing))])
    base = int(np.argmax(rel @ d - np.abs(rel @ (-d[1], d[0]))))  # outermost, near the ray
    node, m = len(xy), km * 1000.0
    s = m / (kph / 3.6)
    roads = np.array([(base, node, s, m), (node, base, s, m)])
    return np.vstack([xy, xy[base] + d * m]), np.vstack([e, roads])


def _quantise(values: np.ndarray, scale: float, dtype: type) -> np.ndarray:
    """Round to units of ``scale``; saturate at max-1, unreachable (inf) becomes max."""
    cap = int(np.iinfo(dtype).max)
    r = np.rint(values / scale)
    np.minimum(r, cap - 1, out=r)
    r[np.isinf(values)] = cap
    return r.astype(dtype)


class City:
    """Nodes 0..n-1 with planar metres, spatial cells, and fastest-path times and lengths."""

    def __init__(
        self,
        xy: np.ndarray,
        e: np.ndarray,
        places: dict[str, int],
        labels: dict[str, int],
        spec: CityBase,
        cache_dir: Path,
        matrices: bool = True,
    ) -> None:
        self.n = n = len(xy)
        self.xy = np.ascontiguousarray(xy, dtype=np.float64)
        self.places = dict(places)
        self._labels = labels
        u, v = e[:, 0].astype(np.int64), e[:, 1].astype(np.int64)
        order = np.argsort(u * n + v, kind="stable")
        self._edge_key = (u * n + v)[order]
        # whole centimetres: integer sums are exact in any order, so both modes agree exactly
        self._edge_cm = np.rint(e[order, 3] * 100).astype(np.int64)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(u, minlength=n))])
        times = np.maximum(np.rint(e[order, 2] * EDGE_MS), 1.0)
        self._fwd = sparse.csr_matrix((times, v[order], indptr), shape=(n, n))
        self._rev = self._fwd.T.tocsr()
        h = hashlib.sha256(FORMAT)
        for a in (np.int64(n), indptr, v[order], times, self._edge_cm, self.xy):
            h.update(np.ascontiguousarray(a).tobytes())
        self.graph_hash = h.hexdigest()
        self._init_cells(spec.cell_m)
        self._init_units()
        self._T: np.ndarray | None = None
        self._D: np.ndarray | None = None
        # Rows of the fallback mode: (dst, full) toward dst, bounded or not; (src, None) from src.
        self._rows: OrderedDict[tuple[int, bool | None], tuple[np.ndarray, np.ndarray | None]] = (
            OrderedDict()
        )
        self._row_cap = max(8, min(4096, ROW_CACHE_BYTES // (6 * n)))
        self._T_from: np.ndarray | None = None  # T[src, dst]: T itself when symmetric
        self._nearest: dict[tuple[bool, float], NearestNodes] = {}
        self._cache = MatrixCache(cache_dir, self.graph_hash)
        if matrices and n <= spec.max_matrix_nodes:
            self._T, self._D = self._matrices(cache_dir)
            if self._symmetric(self._T):
                self._T_from = self._T
        self.cache_record = self._cache.record  # key and checksums, for the manifest

    def _symmetric(self, T: np.ndarray, block: int = 512) -> bool:
        """Is T[a, b] == T[b, a] everywhere (so a column gather can be a row read)?

        Only two-way streets make it possible; then the matrix is compared block by block
        once and the answer kept as a flag beside the cached matrices.
        """
        if (self._fwd != self._rev).nnz:
            return False
        known = self._cache.flag("symmetric")
        if known in ("0", "1"):
            return known == "1"
        same = all(
            np.array_equal(T[lo : lo + block], T[:, lo : lo + block].T)
            for lo in range(0, self.n, block)
        )
        if self._cache.sums is not None:  # only beside the verified matrices it describes
            self._cache.set_flag("symmetric", str(int(same)))
        return same

    def _init_cells(self, cell_m: float) -> None:
        """Square cells over the bounding box; only cells holding a node can hold a taxi."""
        rc = np.floor((self.xy - self.xy.min(axis=0)) / cell_m).astype(np.int64)
        self._ncols, self._nrows = int(rc[:, 0].max()) + 1, int(rc[:, 1].max()) + 1
        self.n_cells = self._ncols * self._nrows
        if self.n_cells > MAX_CELLS:
            raise CityError(
                f"city.cell_m: {cell_m:g} m cells make {self.n_cells:,} cells "
                f"(at most {MAX_CELLS:,}); use larger cells"
            )
        self.node_cell = (rc[:, 1] * self._ncols + rc[:, 0]).astype(np.int32)
        self._occupied = np.zeros(self.n_cells, dtype=bool)
        self._occupied[self.node_cell] = True
        self.max_ring = max(self._ncols, self._nrows) - 1
        self._rings_cache: dict[int, list[list[int]]] = {}
        self._rings_full: dict[int, list[list[int]]] = {}

    def rings_around(self, cell: int, full: bool = False) -> list[list[int]]:
        """Rings of occupied cells around ``cell``, nearest first: the first ``NEAR_RINGS``
        (a box around the cell, cheap), or with ``full`` every ring to the farthest cell.
        Cached per cell and shared by every index of the run: do not mutate."""
        cache = self._rings_full if full else self._rings_cache
        got = cache.get(cell)
        if got is None:
            got = cache[cell] = self._rings_around(
                cell, self.max_ring if full else min(self.max_ring, NEAR_RINGS)
            )
        return got

    def _rings_around(self, cell: int, radius: int) -> list[list[int]]:
        r0, c0 = divmod(cell, self._ncols)
        rows = np.arange(max(r0 - radius, 0), min(r0 + radius + 1, self._nrows))
        cols = np.arange(max(c0 - radius, 0), min(c0 + radius + 1, self._ncols))
        rr, cc = np.meshgrid(rows, cols, indexing="ij")
        ids = (rr * self._ncols + cc).ravel()
        ring = np.maximum(abs(rr - r0), abs(cc - c0)).ravel()
        keep = self._occupied[ids]
        ids, ring = ids[keep], ring[keep]
        order = np.lexsort((ids, ring))
        rings: list[list[int]] = [[] for _ in range(radius + 1)]
        for r, c in zip(ring[order].tolist(), ids[order].tolist(), strict=True):
            rings[r].append(c)
        rings[0] = [cell]
        while len(rings) > 1 and not rings[-1]:
            rings.pop()
        return rings

    def _init_units(self) -> None:
        """Decametres in uint16 when every fastest path provably fits, else metres in uint32.

        A fastest path takes at most t(a,0) + t(0,b) seconds and covers at most that many
        seconds at the fastest edge speed, so two Dijkstras from node 0 bound every trip.
        """
        fwd, rev = (csgraph.dijkstra(g, indices=0) / EDGE_MS for g in (self._fwd, self._rev))
        out, back = float(fwd.max()), float(rev.max())
        if max(out, back) > MAX_TRIP_S + 0.5:  # no trip to or from node 0 fits: refuse now
            far = fwd if out >= back else rev
            node = int(np.argmax(far))
            self._too_long(*((0, node) if far is fwd else (node, 0)), float(far[node]))
        speed = float((self._edge_cm / 100 / (self._fwd.data / EDGE_MS)).max(initial=0.0))
        short = (out + back) * speed < 10.0 * 65000
        dtype: type[np.unsignedinteger[Any]] = np.uint16 if short else np.uint32
        self._dist_dtype, self._dist_scale = dtype, 10.0 if short else 1.0

    def _solve(self, dst: np.ndarray, limit: float) -> tuple[np.ndarray, np.ndarray]:
        """uint16 seconds from every node to each dst, and the next hop toward dst."""
        d, pred = csgraph.dijkstra(
            self._rev, directed=True, indices=dst, return_predecessors=True, limit=limit * EDGE_MS
        )
        longest = float(np.max(d, where=np.isfinite(d), initial=0.0))
        if np.rint(longest / EDGE_MS) >= UNREACHED_S:
            i, j = np.argwhere(d == longest)[0]
            self._too_long(int(j), int(dst[i]), longest / EDGE_MS)
        return _quantise(d, EDGE_MS, np.uint16), pred

    def _too_long(self, src: int, dst: int, seconds: float) -> None:
        """A travel time is a uint16 of seconds: refuse a city whose fastest path does not
        fit, rather than give rides shorter than its roads allow."""
        names = {i: lab for lab, i in self._labels.items()}
        a, b = (names.get(k, f"(place at index {k})") for k in (src, dst))
        raise CityError(
            f"city: the fastest path from node {a} to node {b} takes {seconds:,.0f} s"
            f" ({seconds / 3600:.1f} h), more than the {MAX_TRIP_S:,} s"
            f" ({MAX_TRIP_S / 3600:.1f} h) a travel time can hold; use faster or shorter roads"
        )

    def _lengths(self, pred: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Metres along each fastest path, by pointer doubling over the next-hop tree."""
        b, n = pred.shape
        it = np.int32 if b * n < 2**31 else np.int64
        cols = np.arange(n, dtype=it)
        nxt: np.ndarray = pred.astype(it)
        dead = nxt < 0  # the destination itself, or out of reach
        np.copyto(nxt, np.broadcast_to(cols, nxt.shape), where=dead)
        acc: np.ndarray = np.zeros((b, n), dtype=np.int64)
        if self._edge_key.size:
            keys = nxt.astype(np.int64)
            keys += cols.astype(np.int64) * n
            pos = np.searchsorted(self._edge_key, keys)
            del keys
            acc = self._edge_cm[np.minimum(pos, self._edge_key.size - 1, out=pos)]
            acc[dead] = 0
        lost = dead & (cols != np.asarray(dst)[:, None])
        nxt += (np.arange(b, dtype=it) * n)[:, None]
        flat, acc = nxt.ravel(), acc.ravel()
        while True:
            jump = flat[flat]
            if np.array_equal(jump, flat):
                break
            acc += acc[flat]
            flat = jump
        metres = acc.reshape(b, n) / 100.0
        metres[lost] = np.inf
        longest = float(np.max(metres, where=~lost, initial=0.0))
        if longest / self._dist_scale >= np.iinfo(self._dist_dtype).max - 0.5:
            raise CityError(
                f"city: a fastest path is {longest / 1000:,.0f} km long, more than a distance"
                " can hold; check the lengths and speeds of the roads"
            )
        return _quantise(metres, self._dist_scale, self._dist_dtype)

    def _batches(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """All-pairs rows T[dst, src] and D[dst, src], a bounded batch of dst at a time."""
        step = max(1, BATCH_ELEMS // self.n)
        for lo in range(0, self.n, step):
            dst = np.arange(lo, min(self.n, lo + step))
            t, pred = self._solve(dst, np.inf)
            yield t, self._lengths(pred, dst)
            del t, pred

    def _matrices(self, cache_dir: Path) -> tuple[np.ndarray, np.ndarray]:
        """Load both matrices from the cache (verified, memory-mapped), else compute them
        and store them there; in memory when the cache cannot be used."""
        want = [np.dtype(np.uint16), np.dtype(self._dist_dtype)]
        got = self._cache.load(self.n, want) or self._cache.store(self.n, want, self._batches)
        if got is None:
            got = tuple(np.concatenate(parts) for parts in zip(*self._batches(), strict=True))
            for m in got:
                m.flags.writeable = False
        t, d = got
        return t, d

    def _row(self, dst: int, src: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Fallback mode: times and next hops toward dst, LRU-cached.

        The bounded search covers every trip a dispatcher looks at; a longer trip (src
        given and out of reach) gets an unbounded search of its own.
        """
        for full in (False, True):
            row = self._rows.get((dst, full))
            if row is None:
                t, pred = self._solve(np.array([dst]), np.inf if full else FALLBACK_LIMIT_S)
                t.flags.writeable = False
                row = self._rows[(dst, full)] = (t[0], pred[0])
                if len(self._rows) > self._row_cap:
                    self._rows.popitem(last=False)
            else:
                self._rows.move_to_end((dst, full))
            if src is None or row[0][src] != UNREACHED_S:
                break
        times, hops = row or (None, None)
        assert times is not None and hops is not None  # rows keyed (dst, full) keep hops
        return times, hops

    def times_to(self, dst: int) -> np.ndarray:
        """uint16 seconds from every node to dst (65535 = unreachable or beyond the bound)."""
        if self._T is not None:
            return self._T[dst]
        return self._row(dst)[0]

    def times_from_all(self, src: int) -> np.ndarray:
        """uint16 seconds from src to every node. Without a matrix, one forward search
        bounded as ``times_to``'s: nodes beyond ``FALLBACK_LIMIT_S`` read 65535."""
        if self._T_from is not None:
            return self._T_from[src]
        if self._T is not None:
            return self._T[:, src]
        row = self._rows.get((src, None))
        if row is None:
            d = csgraph.dijkstra(self._fwd, indices=[src], limit=FALLBACK_LIMIT_S * EDGE_MS)
            row = self._rows[(src, None)] = (_quantise(d, EDGE_MS, np.uint16)[0], None)
            if len(self._rows) > self._row_cap:
                self._rows.popitem(last=False)
        return row[0]

    def nearest_nodes(self, toward: bool, limit: float) -> NearestNodes:
        """Each node's nearest nodes by road within ``limit`` seconds, from them to it
        (``toward``: drivers coming to a rider) or from it to them; shared by a run's
        indices."""
        toward = toward or self._T_from is not None  # symmetric: the same order
        key = (toward, float(limit))
        got = self._nearest.get(key)
        if got is None:
            got = self._nearest[key] = NearestNodes(
                self.n, self.times_to if toward else self.times_from_all, limit
            )
        return got

    def time_s(self, src: int, dst: int) -> float:
        """Fastest-path travel time in whole seconds."""
        if self._T is not None:
            return float(self._T[dst, src])
        return float(self._row(dst, src)[0][src])

    def dist_m(self, src: int, dst: int) -> float:
        """Length of the fastest path in metres (what the taxi meter charges)."""
        if self._D is not None:
            return float(self._D[dst, src]) * self._dist_scale
        pred = self._row(dst, src)[1]
        path = [src]
        while path[-1] != dst and pred[path[-1]] >= 0:  # walk the next hops to dst
            path.append(int(pred[path[-1]]))
        hops = np.array(path, dtype=np.int64)
        cm = self._edge_cm[np.searchsorted(self._edge_key, hops[:-1] * self.n + hops[1:])]
        metres = np.array([cm.sum() / 100.0 if path[-1] == dst else np.inf])
        return float(_quantise(metres, self._dist_scale, self._dist_dtype)[0]) * self._dist_scale

    def trips(self, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """``dist_m`` and ``time_s`` of each pair ``src[i] -> dst[i]`` in one gather, or
        None without matrices: a path search per trip is then left until a ride needs it."""
        if self._D is None or self._T is None:
            return None
        return (
            self._D[dst, src].astype(np.float64) * self._dist_scale,
            self._T[dst, src].astype(np.float64),
        )

    def node_of(self, place_or_node: str | int) -> int:
        """Node index of a place name, a node id from the source graph, or an index."""
        key = place_or_node
        if isinstance(key, str) and key in self.places:
            return self.places[key]
        if str(key) in self._labels:
            return self._labels[str(key)]
        if isinstance(key, int | np.integer) and 0 <= key < self.n:
            return int(key)
        raise KeyError(f"no place or node {place_or_node!r}")
