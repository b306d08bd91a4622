"""The plug-ins of docs/extending.md, one file each, through the real entry points."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import sim
from sim.errors import ScenarioError
from sim.market.drivers import DriverLogit
from sim.registry import DISPATCH, DRIVER_MODELS, RIDER_MODELS, SUBSIDY_RULES
from tests.conftest import ROOT, small

EXAMPLES = ROOT / "docs" / "examples"


@pytest.fixture(scope="module")
def plugins():
    sys.path.insert(0, str(EXAMPLES))
    mods = [
        importlib.import_module(m)
        for m in ("random_near", "share_of_fare", "walk_up", "picky_drivers")
    ]
    yield mods
    sys.path.remove(str(EXAMPLES))
    for registry, name in (
        (DISPATCH, "random_near"),
        (SUBSIDY_RULES, "share_of_fare"),
        (RIDER_MODELS, "walk_up"),
        (DRIVER_MODELS, "picky"),
    ):
        registry.unregister(name)


def test_a_registered_dispatch_policy_runs_with_its_settings(plugins, tmp_path):
    scn = small(dispatch={"policy": "random_near", "random_near": {"k": 4}})
    s = sim.run(scn, tmp_path / "r").summary
    assert s["dispatch"]["app:didi"]["matched_share"] > 0.5
    resolved = sim.load_scenario(_write(tmp_path, scn))
    assert resolved.dispatch.settings_of("random_near").k == 4
    with pytest.raises(ScenarioError, match=r"dispatch\.random_near\.k: .*less than or equal"):
        sim.load_scenario(_write(tmp_path, small(dispatch={"random_near": {"k": 99}})))


def test_unknown_policies_list_the_registered_ones(plugins, tmp_path):
    with pytest.raises(ScenarioError, match=r"did you mean 'random_near'.*known: .*random_near"):
        sim.load_scenario(_write(tmp_path, small(dispatch={"policy": "random_nea"})))


def test_a_registered_subsidy_rule_pays_by_its_own_rule(plugins, tmp_path):
    policy = {
        "id": "pct",
        "rail": "alipay",
        "side": "rider",
        "rule": {"kind": "share_of_fare", "share": 0.2, "cap_yuan": 4},
        "start": "2013-12-01",
        "end": "2014-01-01",
    }
    scn = small(
        payment={"riders_bound": {"alipay": 1.0}, "drivers_accepting": {"alipay": 1.0}},
        policies=[policy],
    )
    rides = sim.run(scn, tmp_path / "r").table("rides")
    paid = (rides["rail"] == "alipay") & (rides["status"] == "completed")
    got = rides["rider_subsidy_fen"][paid].astype(int)
    fare = rides["fare_fen"][paid].astype(int)
    assert paid.sum() > 50
    assert (got == [min(round(f * 0.2), 400) for f in fare]).all()


def test_a_registered_rider_model_decides_the_channels(plugins, tmp_path):
    s = sim.run(small(riders={"model": "walk_up"}), tmp_path / "r").summary
    assert s["demand"]["app_orders"] == 0 and s["demand"]["street_hails"] > 0


def test_a_registered_driver_model_decides_which_offers_are_taken(plugins, tmp_path):
    def pickups(drivers: dict) -> np.ndarray:
        scn = small(dispatch={"policy": "nearest"}, drivers=drivers)
        t = sim.run(scn, tmp_path / drivers["model"]).table("rides")
        app = (t["channel"] == "app") & (t["status"] == "completed")
        return t["t_pickup"][app] - t["t_match"][app]

    assert (pickups({"model": "logit"}) > 120).any()  # logit drivers drive farther
    picky = pickups({"model": "picky", "picky": {"max_pickup_min": 2}})
    assert len(picky) and (picky <= 120 + 1e-6).all()


class _Distrustful(DriverLogit):
    """Drivers who never want a mobile rail: the utility of every one is far below zero."""

    def rail_utilities(self, value, offer, peer_share, cash_pref):
        return super().rail_utilities(value, offer, peer_share, cash_pref) - 100.0


def test_a_driver_models_rail_utilities_decide_who_accepts_mobile_payment(tmp_path):
    def accepting_alipay(model: str) -> float:
        scn = small(
            duration="3d",
            adoption={"enabled": True, "drivers": {"decision_rate": 1.0}},
            payment={"drivers_accepting": {"alipay": 0.5}},
            drivers={"model": model},
        )
        daily = sim.run(scn, tmp_path / model).table("daily")
        return float(daily["drivers_accepting_share"][daily["rail"] == "alipay"][-1])

    DRIVER_MODELS.register("distrustful", _Distrustful)
    try:
        assert accepting_alipay("logit") > 0.1
        assert accepting_alipay("distrustful") == 0.0
    finally:
        DRIVER_MODELS.unregister("distrustful")


def test_a_driver_model_without_settings_refuses_a_section(tmp_path):
    with pytest.raises(ScenarioError, match="driver model 'logit' takes no settings"):
        sim.run(small(drivers={"logit": {"base": 1}}), tmp_path / "r")


def test_a_plugin_runs_through_a_sweep_from_the_command_line(tmp_path):
    """Workers import the plug-in module named in TAXISIM_PLUGINS."""
    base = _write(tmp_path, small(duration="2h"))
    sweep = tmp_path / "sweep.yaml"
    sweep.write_text(
        yaml.safe_dump(
            {
                "base": base.name,
                "seed": 3,
                "replications": 1,
                "grid": {"dispatch.policy": ["nearest", "random_near"]},
                "metrics": ["completed_share"],
            }
        )
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(EXAMPLES), str(ROOT)]),
        "TAXISIM_PLUGINS": "random_near",
    }
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_sim.py"),
            "sweep",
            str(sweep),
            "--workers",
            "1",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert "2 computed" in r.stdout + r.stderr
    runs = (tmp_path / "out" / "runs.csv").read_text().splitlines()
    assert len(runs) == 3 and "random_near" in runs[2] and ",ok," in runs[2]


def _write(folder: Path, scn: dict) -> Path:
    path = folder / "scn.yaml"
    path.write_text(yaml.safe_dump(scn))
    return path
