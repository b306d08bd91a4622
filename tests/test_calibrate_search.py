"""The search loop with another objective than calibration's, from Python on a cluster
the caller already has: what ``optimize`` will reuse."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.scenario.load import scenario_from_dict
from sim.search import Param, SearchPlan, run_search
from sim.sweep.runner import run_seed
from tests.conftest import small


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        dashboard_address="127.0.0.1:0",
        scheduler_kwargs={"dashboard": False},
    )
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()


def mean_wait(run_dirs: list[Path]) -> tuple[float, dict]:
    waits = [
        json.loads((d / "summary.json").read_text())["pickup_wait_s"]["mean"] for d in run_dirs
    ]
    return sum(waits) / len(waits), {"waits": waits}


def test_search_minimises_any_objective(tmp_path, client):
    base = scenario_from_dict(small(duration="2h")).model_dump(mode="json")
    plan = SearchPlan(
        base=base,
        space={"fleet.drivers": Param.model_validate({"low": 15, "high": 120, "type": "int"})},
        seed=4,
        trials=6,
        batch=3,
        replications=2,
        startup_trials=6,
    )
    res = run_search(plan, mean_wait, tmp_path / "s", owner=None, record={}, client=client)
    assert [t.number for t in res.trials] == list(range(6)) and res.failed == 0
    assert res.computed == 12 and res.skipped == 0
    drivers = sorted(t.params["fleet.drivers"] for t in res.trials)
    best = res.ranked()[0]
    assert best.params["fleet.drivers"] >= drivers[3]  # more taxis, shorter waits
    for t in res.trials:  # each run has its trial's fleet and the common seed of its replication
        for r, d in enumerate(t.dirs):
            scn = json.loads((d / "manifest.json").read_text())
            assert scn["scenario"]["fleet"]["drivers"] == t.params["fleet.drivers"]
            assert scn["seed"] == run_seed(4, r)
    again = run_search(plan, mean_wait, tmp_path / "s", owner=None, record={}, client=client)
    assert again.computed == 0 and again.skipped == 12
    assert [(t.params, t.value) for t in again.trials] == [(t.params, t.value) for t in res.trials]
