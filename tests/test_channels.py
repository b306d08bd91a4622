"""All channels side by side: street, grab-order broadcast, batch, nearest, prebooking."""

from __future__ import annotations

import numpy as np

import sim
from sim.engine.run import simulate
from sim.scenario.load import scenario_from_dict
from tests.conftest import small


def market(**dispatch) -> dict:
    scn = small(duration="6h", fleet={"drivers": 300}, demand={"daily_requests": 12000})
    scn["population"] = {
        "riders_apps": {"didi": 0.6, "kuaidi": 0.5},
        "drivers_apps": {"didi": 0.7, "kuaidi": 0.6},
    }
    scn["dispatch"] = {
        "platforms": {"didi": "broadcast", "kuaidi": "batch"},
        "prebook": {"riders_share": 0.2, "probability": 1.0},
        **dispatch,
    }
    return scn


def test_five_channels_in_one_city(tmp_path):
    res = sim.run(market(), tmp_path / "r")
    rides = res.table("rides")
    done = rides["status"] == "completed"
    kinds = set(zip(rides["channel"][done].tolist(), rides["platform"][done].tolist(), strict=True))
    assert {("street", ""), ("app", "didi"), ("app", "kuaidi"), ("prebook", "")} <= kinds
    d = res.summary["dispatch"]
    assert set(d) == {"street", "app:didi", "app:kuaidi", "prebook"}
    assert sum(v["requests"] for v in d.values()) == res.summary["requests"]
    race = d["app:didi"]["grab_race"]
    assert race["drivers_reached_per_push"] > 0 and race["grabs_per_push"] > 0
    assert "grab_race" not in d["app:kuaidi"]
    # Batch matches happen only on the batch clock.
    batch = done & (rides["platform"] == "kuaidi")
    assert np.allclose(np.mod(rides["t_match"][batch], 30.0), 0.0, atol=1e-6)


def test_app_rides_go_to_drivers_running_that_app():
    scn = scenario_from_dict(
        market(dispatch=None)
        | {
            "dispatch": {"policy": "nearest"},
            "riders": {"model": "fixed", "fixed": {"street_share": 0.0}},
        }
    )
    world = simulate(scn, None).world
    apps = world.pop.driver_apps
    # Re-run with rides written to check every app ride's driver.
    res = sim.run(scn)
    rides = res.table("rides")
    for k, name in enumerate(world.platforms):
        mine = (rides["platform"] == name) & (rides["status"] == "completed")
        drivers = rides["driver_id"][mine].astype(int)
        assert len(drivers) > 50 and apps[drivers, k].all()


def test_broadcast_gives_up_or_tips(tmp_path):
    nobody_grabs = {
        "platforms": {"didi": "broadcast", "kuaidi": "broadcast"},
        "broadcast": {"grab_base": -30.0, "on_timeout": "give_up"},
    }
    s = sim.run(market(**nobody_grabs), tmp_path / "a").summary
    assert s["dispatch"]["app:didi"]["matched_share"] == 0.0
    tipping = {
        **nobody_grabs,
        "broadcast": {
            "grab_base": -12.0,
            "grab_per_yuan": 0.3,
            "on_timeout": "tip",
            "tip_yuan": 10,
            "max_rounds": 5,
        },
    }
    res = sim.run(market(**tipping), tmp_path / "b")
    rides = res.table("rides")
    tipped = (rides["status"] == "completed") & (rides["tip_fen"] > 0)
    assert tipped.sum() > 0
    ledger = res.table("ledger_daily")
    tips = ledger["amount_fen"][(ledger["entry"] == "tip") & (ledger["account"] == "rider")]
    assert -tips.sum() == rides["tip_fen"][rides["status"] == "completed"].sum()


def test_prebooked_rides_go_to_the_favourite(tmp_path):
    scn = market()
    world = simulate(scenario_from_dict(scn), None).world
    rides = sim.run(scn, tmp_path / "r").table("rides")
    pre = (rides["channel"] == "prebook") & (rides["status"] == "completed")
    fav = np.asarray(world.pop.favourite)
    assert pre.sum() > 20
    assert (fav[rides["rider_id"][pre].astype(int)] == rides["driver_id"][pre]).all()
