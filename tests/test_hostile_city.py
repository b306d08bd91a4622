"""Hostile cases of the city: a damaged or planted matrix cache, travel times too long for
the matrices, and absurd road lengths are refused or repaired, never silently used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import networkx as nx
import numpy as np
import pytest

from sim.city.travel import build_city
from sim.errors import CityError
from sim.scenario.city import GraphmlCity, GridCity

SPEC = GridCity(rows=6, cols=6, block_m=300.0)


def own(cache: Path) -> Path:
    return cache / f"u{os.getuid()}"


def _matrix(cache: Path, key: str, kind: str = "time") -> Path:
    return own(cache) / f"{key}.{kind}.npy"


@pytest.mark.parametrize("kind", ["time", "dist"])
def test_a_same_size_change_in_a_cached_matrix_is_caught_and_rebuilt(tmp_path, capsys, kind):
    fresh = build_city(SPEC, cache_dir=tmp_path)
    want_t, want_d = np.array(fresh._T), np.array(fresh._D)  # copies, not maps of the file
    path = _matrix(tmp_path, fresh.graph_hash, kind)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x40  # one flipped bit near the end: same size, a wrong travel time
    path.write_bytes(bytes(data))
    capsys.readouterr()
    again = build_city(SPEC, cache_dir=tmp_path)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not match its checksum; rebuilding" in err
    assert np.array_equal(again._T, want_t) and np.array_equal(again._D, want_d)
    assert path.read_bytes() != bytes(data)  # repaired on disk too
    capsys.readouterr()
    build_city(SPEC, cache_dir=tmp_path)
    assert capsys.readouterr().err == ""  # and trusted again


def test_random_bytes_in_the_cache_are_rebuilt(tmp_path):
    fresh = build_city(SPEC, cache_dir=tmp_path)
    want = np.array(fresh._T)
    path = _matrix(tmp_path, fresh.graph_hash)
    path.write_bytes(np.random.default_rng(0).bytes(path.stat().st_size))
    again = build_city(SPEC, cache_dir=tmp_path)
    assert np.array_equal(again._T, want)


def test_matrices_planted_in_a_shared_cache_are_not_used(tmp_path):
    fresh = build_city(SPEC, cache_dir=tmp_path / "mine")
    shared = tmp_path / "shared"
    shared.mkdir()
    wrong = np.zeros((fresh.n, fresh.n), dtype=np.uint16)  # every trip takes no time
    np.save(shared / f"{fresh.graph_hash}.time.npy", wrong)
    np.save(shared / f"{fresh.graph_hash}.dist.npy", np.asarray(fresh._D))
    c = build_city(SPEC, cache_dir=shared)
    assert np.array_equal(np.asarray(c._T), np.asarray(fresh._T))
    assert os.stat(own(shared)).st_mode & 0o777 == 0o700


def test_a_private_dir_opened_to_others_is_closed_again(tmp_path):
    own(tmp_path).mkdir(parents=True)
    os.chmod(own(tmp_path), 0o777)
    build_city(SPEC, cache_dir=tmp_path)
    assert os.stat(own(tmp_path)).st_mode & 0o777 == 0o700


def test_temp_files_of_killed_builds_are_removed(tmp_path):
    fresh = build_city(SPEC, cache_dir=tmp_path)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    dead = own(tmp_path) / f"0123.time.npy.{proc.pid}.tmp"
    live = own(tmp_path) / f"0123.time.npy.{os.getppid()}.tmp"
    dead.write_bytes(b"x" * 100)
    live.write_bytes(b"x")
    build_city(SPEC, cache_dir=tmp_path)  # a run that only loads the cache cleans it too
    assert not dead.exists() and live.exists()
    assert _matrix(tmp_path, fresh.graph_hash).exists()


def test_a_full_cache_disk_leaves_no_temp_files(tmp_path, monkeypatch):
    import sim.city.cache as cache

    def full(self, suffix, text):
        path = self._path(suffix)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text("")
        try:
            raise OSError(28, "No space left on device")
        finally:
            tmp.unlink()

    build_city(SPEC, cache_dir=tmp_path)
    real = cache.MatrixCache._put
    monkeypatch.setattr(cache.MatrixCache, "_put", full)
    build_city(GridCity(rows=4, cols=4), cache_dir=tmp_path)
    monkeypatch.setattr(cache.MatrixCache, "_put", real)
    assert not list(own(tmp_path).glob("*.tmp"))


# ---- travel times beyond the matrices' uint16 seconds ---------------------------------------


def test_a_city_too_slow_for_the_matrices_is_refused_even_without_them(tmp_path):
    slow = GridCity(rows=3, cols=3, block_m=400.0, speed_kph=0.05)  # 8 h a block
    for matrices in (True, False):
        with pytest.raises(CityError, match=r"takes 115,200 s \(32\.0 h\)"):
            build_city(slow, cache_dir=tmp_path, matrices=matrices)


def _line(tmp_path: Path, seconds: float, length: float = 100.0) -> str:
    """Three nodes in a line, listed middle first: node 0 reaches both ends in time."""
    g = nx.DiGraph(crs="epsg:32650")
    for name, x in (("mid", 0.0), ("west", -100.0), ("east", 100.0)):
        g.add_node(name, x=x, y=0.0)
    for a, b in (("mid", "west"), ("mid", "east")):
        g.add_edge(a, b, length=length, travel_time=seconds)
        g.add_edge(b, a, length=length, travel_time=seconds)
    path = tmp_path / "line.graphml"
    nx.write_graphml(g, path)
    return str(path)


def test_the_longest_path_is_named_when_only_the_matrix_sees_it(tmp_path):
    spec = GraphmlCity(path=_line(tmp_path, 40_000.0))
    with pytest.raises(CityError, match=r"node (west|east) to node (east|west) takes 80,000 s"):
        build_city(spec, cache_dir=tmp_path / "c")
    ok = build_city(GraphmlCity(path=_line(tmp_path, 30_000.0)), cache_dir=tmp_path / "c")
    assert ok.time_s(ok.node_of("west"), ok.node_of("east")) == 60_000


def test_graphml_lengths_beyond_any_road_are_refused(tmp_path):
    for length in (1e17, 2e6):
        spec = GraphmlCity(path=_line(tmp_path, 10.0, length))
        with pytest.raises(CityError, match="length"):
            build_city(spec, cache_dir=tmp_path / "c", matrices=False)
