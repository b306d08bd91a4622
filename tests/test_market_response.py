"""The market answers money, through the engine: subsidies and fares move requests
between the apps, the street and not travelling, and habits outlast subsidies."""

from __future__ import annotations

import numpy as np

import sim
from sim.money.subsidies import PolicyBook
from sim.scenario.money import SubsidyPolicy
from tests.conftest import ROOT, small


def two_apps(**over) -> dict:
    scn = small(
        duration="1d",
        start="2013-12-02T00:00:00",
        fleet={"drivers": 150},
        demand={"daily_requests": 15000},
        population={
            "riders_apps": {"didi": 0.5, "kuaidi": 0.5},
            "drivers_apps": {"didi": 0.8, "kuaidi": 0.8},
        },
        payment={
            "riders_bound": {"alipay": 0.5, "wechat_pay": 0.8},
            "drivers_accepting": {"alipay": 0.9, "wechat_pay": 0.9},
        },
        outputs={"plots": False, "rides": False},
    )
    scn.update(over)
    return scn


DIDI_10 = {
    "id": "wx_rider_10",
    "rail": "wechat_pay",
    "platform": "didi",
    "side": "rider",
    "amount_yuan": 10,
    "start": "2013-12-01",
    "end": "2014-01-01",
}


def orders(summary: dict) -> dict[str, int]:
    d = summary["dispatch"]
    return {
        "requests": summary["requests"],
        "street": d["street"]["requests"],
        "didi": d["app:didi"]["requests"],
        "kuaidi": d["app:kuaidi"]["requests"],
    }


def test_a_rider_subsidy_on_one_app_takes_orders_from_the_street_and_the_rival_and_adds_trips():
    base = orders(sim.run(two_apps()).summary)
    paid = orders(sim.run(two_apps(policies=[DIDI_10])).summary)
    assert paid["didi"] > 1.3 * base["didi"], (base, paid)
    assert paid["street"] < base["street"] and paid["kuaidi"] < base["kuaidi"], (base, paid)
    assert paid["requests"] > base["requests"], (base, paid)


def test_a_dearer_fare_loses_trips():
    base = sim.run(two_apps()).summary["requests"]
    dear = two_apps(tariff={"flag_fall_yuan": 26.0, "per_km_yuan": 4.6})
    assert sim.run(dear).summary["requests"] < 0.95 * base


def test_a_fixed_rider_model_ignores_money():
    fixed = {"model": "fixed"}
    base = orders(sim.run(two_apps(riders=fixed)).summary)
    paid = orders(sim.run(two_apps(riders=fixed, policies=[DIDI_10])).summary)
    assert paid == base


def test_expected_rider_subsidy_respects_the_daily_cap():
    spec = SubsidyPolicy.model_validate(
        {**DIDI_10, "rail": "alipay", "platform": None, "per_user_daily_cap": 2}
    )
    rng = np.random.default_rng(0)
    start = spec.start
    book = PolicyBook([spec], start, ["cash", "alipay"], rng)
    riders = np.array([0, 1, 2])
    t, day = 3600.0, 0
    assert book.rider_subsidy_yuan(1, "didi", t, riders, day).tolist() == [10, 10, 10]
    p = book.plan(1, "didi", t)[0][0]
    for _ in range(2):
        assert book.grant(p, 0, t, day, 2500) == 1000
    assert book.grant(p, 1, t, day, 2500) == 1000
    assert book.rider_subsidy_yuan(1, "didi", t, riders, day).tolist() == [0, 10, 10]
    assert book.rider_subsidy_yuan(1, "didi", t + 86400, riders, day + 1).tolist() == [10, 10, 10]
    assert book.rider_subsidy_yuan(0, "didi", t, riders, day) is None  # no policy on cash


FROZEN = {  # adoption on, but nobody installs, binds, lapses or changes rails: habit only
    "enabled": True,
    "riders": {
        "install_p": 0.0,
        "install_q": 0.0,
        "install_per_yuan": 0.0,
        "bind_attempt": 0.0,
        "bind_attempt_per_yuan": 0.0,
        "lapse_rate": 0.0,
    },
    "drivers": {"install_p": 0.0, "install_q": 0.0, "decision_rate": 0.0},
}
NO_HABIT = {"beta_habit": 0.0, "switching_cost": 0.0}
ALIPAY_5 = {
    "id": "ali_rider_5",
    "rail": "alipay",
    "side": "rider",
    "amount_yuan": 5,
    "start": "2013-12-02",
    "end": "2013-12-04",
}


def share_after_stop(policies: list, habit: bool) -> float:
    """Alipay's share of rides over the two days after 12-04 (the subsidy's stop)."""
    choice = {} if habit else NO_HABIT
    riders = {} if habit else {"logit": {"loyalty_yuan": 0.0}}
    scn = two_apps(
        duration="5d",
        fleet={"drivers": 60},
        demand={"daily_requests": 6000},
        adoption=FROZEN,
        riders=riders,
        payment={
            "riders_bound": {"alipay": 0.6, "wechat_pay": 0.6},
            "drivers_accepting": {"alipay": 0.9, "wechat_pay": 0.9},
            "choice": choice,
        },
        policies=policies,
    )
    daily = sim.run(scn).table("daily")
    after = (daily["rail"] == "alipay") & (daily["date"] >= "2013-12-04")
    return float(daily["ride_share"][after].mean())


def test_a_stopped_subsidy_leaves_more_mobile_payment_only_through_habit():
    with_habit = share_after_stop([ALIPAY_5], habit=True) - share_after_stop([], habit=True)
    without = share_after_stop([ALIPAY_5], habit=False) - share_after_stop([], habit=False)
    assert with_habit > 0.02, with_habit
    assert abs(without) < 0.01, without


def test_drivers_who_decline_every_offer_leave_app_riders_unmatched():
    for policy in ("nearest", "batch"):
        refuse = {"policy": policy, "accept": {"base": -40.0}}
        s = sim.run(two_apps(dispatch=refuse, duration="6h")).summary["dispatch"]
        assert s["app:didi"]["matched_share"] == 0.0 and s["app:kuaidi"]["matched_share"] == 0.0
        assert s["street"]["matched_share"] > 0.5  # the street is not dispatched: unaffected
        take = {"policy": policy, "accept": {"base": 40.0}}
        s = sim.run(two_apps(dispatch=take, duration="6h")).summary["dispatch"]
        assert s["app:didi"]["matched_share"] > 0.8


def test_far_pickups_are_declined_more():
    few = {"drivers": 40}
    picky = {"accept": {"base": 4.0, "per_pickup_min": 4.0}}
    base = sim.run(two_apps(fleet=few, duration="6h")).summary["dispatch"]["app:didi"]
    got = sim.run(two_apps(fleet=few, dispatch=picky, duration="6h")).summary["dispatch"]
    assert got["app:didi"]["pickup_s_mean"] < 0.8 * base["pickup_s_mean"], (got, base)


def test_a_driver_subsidy_on_an_app_brings_drivers_to_run_it():
    from sim.engine.run import simulate
    from sim.scenario.load import scenario_from_dict

    def running_didi(policies: list) -> float:
        """Share of drivers running Didi after four days, where running both apps costs
        so much that a driver picks one."""
        drivers = {"install_p": 0.3, "decision_rate": 0.5, "multihoming_cost": 10.0}
        scn = two_apps(
            duration="4d",
            fleet={"drivers": 100},
            demand={"daily_requests": 5000},
            adoption={"enabled": True, "drivers": drivers},
            population={
                "riders_apps": {"didi": 0.5, "kuaidi": 0.5},
                "drivers_apps": {"didi": 0.2, "kuaidi": 0.2},
            },
            policies=policies,
        )
        world = simulate(scenario_from_dict(scn), None).world
        return float(world.pop.driver_apps[:, world.pop.platforms.index("didi")].mean())

    driver_10 = {**DIDI_10, "id": "wx_driver_10", "side": "driver"}
    assert running_didi([driver_10]) > running_didi([]) + 0.1


def test_trip_decay_shortens_trips_and_keeps_hotspot_weights():
    from sim.city.travel import build_city
    from sim.market.demand import OriginDestination
    from sim.scenario.load import load_scenario

    scn = load_scenario(ROOT / "scenarios" / "subsidy_war_2014.yaml")
    city = build_city(scn.city, matrices=False)
    airport = city.places["airport"]
    got = {}
    for decay in (None, 4.0):
        demand = scn.demand.model_copy(update={"trip_decay_km": decay})
        od = OriginDestination(demand, city.xy, city.places)
        o, d = od.draw(np.random.default_rng(1), 40_000)
        got[decay] = (np.hypot(*(city.xy[o] - city.xy[d]).T), (d == airport).mean())
    assert np.median(got[4.0][0]) < 0.5 * np.median(got[None][0])
    assert abs(got[4.0][1] - got[None][1]) < 0.003  # the airport's weight, 0.015 + spur nodes
