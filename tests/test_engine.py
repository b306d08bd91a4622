"""The core loop through the public API: conservation, order, determinism, Little's law."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from tests.conftest import small

TABLES = ("rides.csv", "timeseries.csv", "daily.csv", "ledger_daily.csv")


def test_every_request_ends_exactly_once(tmp_path):
    res = sim.run(small(), tmp_path / "r")
    s = res.summary
    rides = res.table("rides")
    assert s["requests"] == len(rides["ride_id"]) > 500
    assert len(set(rides["ride_id"].tolist())) == len(rides["ride_id"])
    status = rides["status"].tolist()
    assert status.count("completed") == s["completed"]
    assert status.count("abandoned") == s["abandoned"]
    assert status.count("open") == s["open_at_end"]
    assert s["completed"] + s["abandoned"] + s["open_at_end"] == s["requests"]


def test_times_in_order_and_drivers_never_double_booked(tmp_path):
    rides = sim.run(small(), tmp_path / "r").table("rides")
    done = rides["status"] == "completed"
    t = {k: rides[k][done] for k in ("t_request", "t_match", "t_pickup", "t_dropoff", "t_paid")}
    assert (t["t_request"] <= t["t_match"]).all()
    assert (t["t_match"] <= t["t_pickup"]).all()
    assert (t["t_pickup"] < t["t_dropoff"]).all()
    assert (t["t_dropoff"] <= t["t_paid"]).all()
    driver = rides["driver_id"][done]
    order = np.lexsort((t["t_match"], driver))
    same = driver[order][1:] == driver[order][:-1]
    # A driver's next ride starts only after he was paid for the previous one.
    assert (t["t_match"][order][1:][same] >= t["t_paid"][order][:-1][same] - 1e-6).all()


def test_same_seed_same_bytes_other_seed_other_numbers(tmp_path):
    a = sim.run(small(), tmp_path / "a")
    b = sim.run(small(), tmp_path / "b")
    c = sim.run(small(seed=2), tmp_path / "c")
    for name in TABLES:
        assert (a.dir / name).read_bytes() == (b.dir / name).read_bytes(), name
    assert (a.dir / "rides.csv").read_bytes() != (c.dir / "rides.csv").read_bytes()


def test_littles_law_busy_drivers(tmp_path):
    """Time-average of busy drivers (sampled each minute) = completion rate x busy time."""
    scn = small(
        duration="8h",
        fleet={"drivers": 80},
        demand={"daily_requests": 9000, "hourly_profile": [1] * 24},
        outputs={"timeseries_every_min": 1, "plots": False},
    )
    res = sim.run(scn, tmp_path / "r")
    ts = res.table("timeseries")
    busy = ts["en_route"] + ts["on_trip"] + ts["paying"]
    sampled = float(busy[60:].mean())  # skip the first hour's warm-up
    rides = res.table("rides")
    done = rides["status"] == "completed"
    late = done & (rides["t_match"] >= 3600)
    rate = late.sum() / (8 * 3600 - 3600)
    mean_busy = float((rides["t_paid"] - rides["t_match"])[late].mean())
    assert abs(sampled - rate * mean_busy) / sampled < 0.05


def test_patience_zero_means_leave_at_once(tmp_path):
    scn = small(
        fleet={"drivers": 3},
        demand={"daily_requests": 20000, "patience": {"kind": "fixed", "mean_s": 0}},
    )
    s = sim.run(scn, tmp_path / "r").summary
    assert s["abandoned"] > 0 and s["match_wait_s"]["p_wait"] == 0.0


def test_shifts_take_drivers_off(tmp_path):
    scn = small(
        duration="1d",
        start="2013-12-02T00:00:00",
        fleet={"drivers": 40, "shifts": [{"start_hour": 6, "hours": 10, "share": 1.0}]},
    )
    ts = sim.run(scn, tmp_path / "r").table("timeseries")
    hour = ts["t"] / 3600
    assert (ts["off"][hour < 6] == 40).all()
    assert (ts["off"][(hour >= 6) & (hour < 16)] == 0).all()
    assert ts["off"][hour >= 17].min() > 30


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    drivers=st.integers(1, 40),
    daily=st.integers(100, 20000),
    patience=st.sampled_from([0, 60, 600]),
    seed=st.integers(0, 2**32),
)
def test_property_conservation(tmp_path_factory, drivers, daily, patience, seed):
    scn = small(
        seed=seed,
        duration="2h",
        fleet={"drivers": drivers},
        demand={"daily_requests": daily, "patience": {"kind": "exponential", "mean_s": patience}},
        outputs={"plots": False, "rides": True},
    )
    res = sim.run(scn, tmp_path_factory.mktemp("p") / "r")
    s = res.summary
    assert s["completed"] + s["abandoned"] + s["open_at_end"] == s["requests"]
    assert len(res.table("rides")["ride_id"]) == s["requests"]


def test_cruising_taxis_move_toward_demand(tmp_path):
    hot = {
        "city": {
            "kind": "grid",
            "rows": 8,
            "cols": 8,
            "block_m": 500,
            "places": {"station": {"node": 0}},
        },
        "demand": {
            "daily_requests": 3000,
            "hotspots": [{"place": "station", "origin_weight": 0.5}],
        },
    }
    wait = sim.run(small(**hot), tmp_path / "w").summary
    cruise = sim.run(small(fleet={"drivers": 60, "idle": "cruise"}, **hot), tmp_path / "c")
    assert wait["cruise_km"] == 0 and cruise.summary["cruise_km"] > 0
    assert cruise.summary["pickup_s"]["mean"] < wait["pickup_s"]["mean"]
