"""Hostile cases of sweeps: a resume never reuses a run whose inputs changed."""

from __future__ import annotations

import os
from pathlib import Path

import networkx as nx
import pytest
import yaml

from sim.io import files as iofiles
from sim.sweep.runner import plan
from sim.sweep.spec import spec_from_dict
from tests.conftest import small


def _graphml(path: Path, block: float) -> None:
    g = nx.DiGraph(crs="epsg:32650")
    for i in range(4):
        g.add_node(str(i), x=float(i * block), y=0.0)
    for i in range(3):
        g.add_edge(str(i), str(i + 1), length=block)
        g.add_edge(str(i + 1), str(i), length=block)
    nx.write_graphml(g, path)


def _hashes(tmp_path: Path) -> list[str]:
    spec = spec_from_dict(
        {"base": "base.yaml", "replications": 2, "grid": {"fleet.drivers": [20, 30]}}
    )
    return [t.hash for t in plan(spec, tmp_path, "<sweep>", tmp_path / "out")]


def test_a_changed_graphml_file_changes_every_run_hash(tmp_path):
    roads = tmp_path / "roads.graphml"
    _graphml(roads, 300.0)
    data = {**small(), "city": {"kind": "graphml", "path": str(roads)}}
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(data))
    first = _hashes(tmp_path)
    assert _hashes(tmp_path) == first  # same inputs: resumed
    _graphml(roads, 310.0)  # the same path, other roads
    second = _hashes(tmp_path)
    assert not set(first) & set(second)


def test_another_program_version_recomputes(tmp_path, monkeypatch):
    (tmp_path / "base.yaml").write_text(yaml.safe_dump(small()))
    first = _hashes(tmp_path)
    iofiles.git_commit.cache_clear()
    monkeypatch.setattr(iofiles, "git_commit", lambda: "0" * 40)
    assert not set(first) & set(_hashes(tmp_path))


def test_the_local_cluster_admits_only_its_own_client():
    from distributed import Client

    from sim.sweep.cluster import dask_client

    with dask_client(1, None, None, True) as client:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        assert client.submit(sum, [1, 2]).result() == 3
        for attempt in (address, address.replace("tls://", "tcp://")):
            with (
                pytest.raises(Exception),  # noqa: B017 (refused: any comm or TLS error)
                Client(attempt, timeout="3s") as intruder,
            ):
                intruder.run(os.getpid)
