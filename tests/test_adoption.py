"""Adoption against closed forms (Bass, logit, a two-state chain) and its levers."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy import stats

import sim
from sim.analysis.theory import bass_cdf, logit_shares, two_state_stationary
from sim.errors import ScenarioError
from sim.market.adoption import (
    campaign_count,
    group_mean,
    habit_update,
    hazard_probability,
)
from sim.market.drivers import rail_utility
from tests.conftest import small

ONE_RAIL = {"rails": [{"id": "cash"}, {"id": "wechat_pay", "platform": "didi"}]}


def quiet_city(days: int, riders: int, **over) -> dict:
    """Almost no rides: only the daily adoption updates do anything."""
    base = small(
        duration=f"{days}d",
        start="2013-12-01T00:00:00",
        city={"kind": "grid", "rows": 2, "cols": 2, "block_m": 500},
        fleet={"drivers": 1},
        demand={"daily_requests": 1},
    )
    base["population"] = {
        "riders": riders,
        "platforms": ["didi"],
        "riders_apps": {"didi": 0.0},
        "drivers_apps": {"didi": 0.0},
    }
    base["payment"] = ONE_RAIL
    base["outputs"] = {"rides": False, "plots": False}
    base.update(over)
    return base


def column(res, rail: str, key: str) -> np.ndarray:
    daily = res.table("daily")
    return daily[key][daily["rail"] == rail]


def test_pure_diffusion_matches_the_bass_curve(tmp_path):
    p, q = 0.01, 0.25
    scn = quiet_city(
        60,
        20_000,
        adoption={
            "enabled": True,
            "substeps": 24,
            "riders": {
                "install_p": p,
                "install_q": q,
                "install_per_yuan": 0.0,
                "bind_attempt": 0.0,
            },
        },
    )
    res = sim.run(scn, tmp_path / "r")
    installed = column(res, "wechat_pay", "riders_installed_share")
    days = np.arange(len(installed))  # row k holds the state after k daily updates
    err = np.abs(installed - bass_cdf(days, p, q))
    assert len(days) == 60 and err.max() <= 0.02, err.max()
    fit = res.summary["adoption"]["bass_fit"]
    assert "wechat_pay.riders_bound" in fit


def test_binding_and_lapse_settle_at_the_two_state_stationary_share(tmp_path):
    attempt, success, lapse = 0.05, 0.6, 0.02
    scn = quiet_city(
        300,
        20_000,
        adoption={
            "enabled": True,
            "riders": {
                "install_p": 0.0,
                "install_q": 0.0,
                "bind_attempt": attempt,
                "bind_attempt_per_yuan": 0.0,
                "lapse_rate": lapse,
                "lapse_habit": 1.0,
            },
        },
    )
    scn["population"]["riders_apps"] = {"didi": 1.0}
    scn["payment"] = {
        "rails": [{"id": "cash"}, {"id": "wechat_pay", "platform": "didi", "bind_success": success}]
    }
    res = sim.run(scn, tmp_path / "r")
    bound = column(res, "wechat_pay", "riders_bound_share")
    expected = two_state_stationary(attempt * success, lapse)
    assert abs(bound[150:].mean() - expected) < 0.01, (bound[150:].mean(), expected)


def test_static_payment_choice_matches_logit_shares(tmp_path):
    rails = [
        {"id": "cash", "checkout": {"mean_s": 0}},
        {
            "id": "alipay",
            "platform": "kuaidi",
            "convenience": 0.8,
            "risk": 0.2,
            "checkout": {"mean_s": 0},
        },
        {
            "id": "wechat_pay",
            "platform": "didi",
            "convenience": 0.3,
            "risk": 0.5,
            "checkout": {"mean_s": 0},
        },
    ]
    scn = small(
        duration="6h",
        fleet={"drivers": 200},
        demand={"daily_requests": 40000},
        payment={
            "rails": rails,
            "choice": {
                "beta_habit": 0.0,
                "beta_risk": 1.0,
                "closed_loop": 0.0,
                "switching_cost": 0.0,
            },
            "riders_bound": {"alipay": 1.0, "wechat_pay": 1.0},
            "drivers_accepting": {"alipay": 1.0, "wechat_pay": 1.0},
        },
    )
    res = sim.run(scn, tmp_path / "r")
    rides = res.table("rides")
    done = rides["status"] == "completed"
    counts = np.array([(rides["rail"][done] == r).sum() for r in ("cash", "alipay", "wechat_pay")])
    expected = logit_shares(np.array([0.0, 0.8 - 0.2, 0.3 - 0.5])) * counts.sum()
    assert counts.sum() > 5000
    assert stats.chisquare(counts, expected).pvalue > 0.001


def seed_story(days: int, **over) -> dict:
    scn = small(
        duration=f"{days}d",
        start="2013-12-01T00:00:00",
        city={"kind": "grid", "rows": 10, "cols": 10, "block_m": 600},
        fleet={"drivers": 120},
        demand={"daily_requests": 4000},
        adoption={"enabled": True},
        payment={"riders_bound": {"alipay": 0.05}, "drivers_accepting": {"alipay": 0.05}},
        policies=[
            {
                "id": "r5",
                "rail": "alipay",
                "side": "rider",
                "amount_yuan": 5,
                "start": "2013-12-01",
                "end": "2014-01-01",
                "daily_free_rides": 20,
            },
            {
                "id": "d5",
                "rail": "alipay",
                "side": "driver",
                "amount_yuan": 5,
                "start": "2013-12-01",
                "end": "2014-01-01",
            },
        ],
    )
    scn.update(over)
    return scn


def test_subsidies_move_the_curves(tmp_path):
    with_subsidy = sim.run(seed_story(15), tmp_path / "a")
    without = sim.run(seed_story(15, policies=[]), tmp_path / "b")
    for key in ("drivers_accepting_share", "riders_bound_share", "ride_share"):
        a = column(with_subsidy, "alipay", key)[-1]
        b = column(without, "alipay", key)[-1]
        assert a > b + 0.05, (key, a, b)
    assert with_subsidy.summary["money"]["subsidy_total_yuan"] > 0
    free = column(with_subsidy, "alipay", "free_rides")
    eligible = column(with_subsidy, "alipay", "rides_paid")
    assert (free == np.minimum(20, eligible)).all()  # N a day, or all when fewer eligible
    assert (free[3:] == 20).all()


def test_campaign_binds_cards_scaled_by_the_sample(tmp_path):
    scn = quiet_city(
        4,
        10_000,
        campaigns=[
            {"date": "2013-12-03", "rail": "wechat_pay", "kind": "bind_cards", "count": 8000}
        ],
    )
    scn["population"]["sample"] = 0.5  # 5,000 riders simulated, 4,000 cards bound
    scn["adoption"] = {
        "enabled": True,
        "riders": {"install_p": 0, "install_q": 0, "bind_attempt": 0, "lapse_rate": 0},
    }
    bound = column(sim.run(scn, tmp_path / "r"), "wechat_pay", "riders_bound_share")
    assert bound[1] == 0.0 and abs(bound[2] - 0.8) < 1e-9


def test_a_daily_sales_push_signs_drivers_its_share_a_day_fractions_carried(tmp_path):
    push = {"date": "2013-12-02", "until": "2013-12-05", "rail": "wechat_pay"}
    scn = quiet_city(7, 100, campaigns=[{**push, "kind": "sign_drivers", "count": 25}])
    scn["fleet"] = {"drivers": 1000}
    scn["population"]["sample"] = 0.1  # 100 taxis, 2.5 signed a day
    scn["payment"] = {**ONE_RAIL, "drivers_accepting": {"wechat_pay": 0.0}}
    scn["adoption"] = {"enabled": True, "drivers": {"decision_rate": 0.0}}  # nobody drops
    share = column(sim.run(scn, tmp_path / "r"), "wechat_pay", "drivers_accepting_share")
    assert share.tolist() == pytest.approx([0.0, 0.02, 0.05, 0.07, 0.10, 0.10, 0.10])


def test_campaign_count_carries_fractions_and_rounds_a_one_off():
    assert [campaign_count(2.5, day, date(2014, 1, 1)) for day in range(4)] == [2, 3, 2, 3]
    assert sum(campaign_count(0.3, day, date(2014, 1, 1)) for day in range(10)) == 3
    assert campaign_count(2.5, 0, None) == 2 and campaign_count(2.6, 0, None) == 3


def test_a_campaign_that_ends_before_it_starts_is_refused(tmp_path):
    bad = {"date": "2013-12-05", "until": "2013-12-02", "rail": "wechat_pay"}
    with pytest.raises(ScenarioError, match=r"until \(2013-12-02\) is before date"):
        sim.run(
            quiet_city(2, 10, campaigns=[{**bad, "kind": "sign_drivers", "count": 1}]),
            tmp_path / "r",
        )


def test_sample_scales_counts_not_shares(tmp_path):
    full = sim.run(small(duration="4h"), tmp_path / "a").summary
    half = sim.run(small(duration="4h", population={"sample": 0.5}), tmp_path / "b").summary
    assert half["simulated_drivers"] == 30 and full["simulated_drivers"] == 60
    assert abs(half["requests"] / full["requests"] - 1) < 0.08
    assert abs(half["completed_share"] - full["completed_share"]) < 0.1


def test_pure_rules():
    assert np.allclose(habit_update(np.array([1.0, 0.0]), np.array([0, 1]), 0.1), [0.9, 1.0])
    assert np.isclose(hazard_probability(0.1), 1 - np.exp(-0.1))
    g = np.array([0, 0, 1, 1])
    assert np.allclose(group_mean(np.array([1.0, 3.0, 5.0, 7.0]), g, 2), [2, 2, 6, 6])
    assert np.allclose(
        group_mean(np.array([1.0, 3.0, 5.0, 7.0]), g, 2, weights=np.array([1, 0, 0, 0])),
        [1, 1, 0, 0],
    )
    u_low = rail_utility(np.zeros(1), 0.0, np.zeros(1), np.ones(1), 0.1, 0.15, 2.0)
    u_high = rail_utility(np.zeros(1), 10.0, np.ones(1), np.ones(1), 0.1, 0.15, 2.0)
    assert u_high[0] > u_low[0]


def test_contact_graphs(tmp_path):
    from sim.market.adoption import contact_matrix

    assert contact_matrix("well_mixed", 100, 10, 0.1, 1) is None
    for kind in ("random", "small_world"):
        a = contact_matrix(kind, 2000, 10, 0.1, 1)
        rows = np.asarray(a.sum(axis=1)).ravel()
        assert a.shape == (2000, 2000) and np.allclose(rows[rows > 0], 1.0)
        assert 8 <= a.getnnz() / 2000 <= 12

    # Imitation through a sparse small world spreads slower than in a well-mixed city.
    def installed(kind: str) -> float:
        scn = quiet_city(
            30,
            5000,
            adoption={
                "enabled": True,
                "riders": {
                    "install_p": 0.002,
                    "install_q": 0.4,
                    "contacts": {"kind": kind, "degree": 4, "rewire": 0.01},
                },
            },
        )
        return column(sim.run(scn, tmp_path / kind), "wechat_pay", "riders_installed_share")[-1]

    assert installed("small_world") < installed("well_mixed")


def test_masks_follow_every_change_of_rails_and_apps():
    """The per-person masks the ride loop reads, rewritten only where a day changed
    something, equal masks packed from scratch (more than eight rails too)."""
    from sim.market.population import Population, rail_mask
    from sim.scenario.load import scenario_from_dict

    rng = np.random.default_rng(5)
    flags = rng.random((500, 11)) < 0.5
    assert rail_mask(flags).tolist() == [sum(1 << j for j in range(11) if row[j]) for row in flags]
    scn = scenario_from_dict(small(population={"riders": 400}))
    pop = Population(scn, 50, np.random.default_rng(1))
    for _ in range(5):
        for flags, first in ((pop.bound, 1), (pop.accepts, 1), (pop.driver_apps, 0)):
            flags[:, first:] ^= rng.random(flags[:, first:].shape) < 0.05  # cash stays
        pop.refresh_masks()
        assert pop.rider_mask == rail_mask(pop.bound).tolist()
        assert pop.driver_mask == rail_mask(pop.accepts).tolist()
        assert pop.driver_app_mask == rail_mask(pop.driver_apps).tolist()
