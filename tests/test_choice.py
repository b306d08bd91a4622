"""The riders' choice models against their closed forms."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from sim.core.logit import binary, draw, logsum, shares
from sim.market.riders import LogitSettings, RiderLogit
from sim.money.rails import Chooser
from sim.scenario.money import Payment


def test_shares_and_logsum_are_the_closed_forms():
    v = np.array([[1.0, 2.0, -np.inf], [0.0, 0.0, 0.0], [-np.inf, -np.inf, 3.0]])
    p = shares(v, mu=0.5)
    e = np.exp(0.5 * np.array([1.0, 2.0]))
    assert p[0] == pytest.approx([*(e / e.sum()), 0.0])
    assert p[1] == pytest.approx([1 / 3] * 3)
    assert p[2] == pytest.approx([0, 0, 1])
    assert logsum(v, mu=0.5)[0] == pytest.approx(math.log(e.sum()) / 0.5)
    assert logsum(v, mu=0.5)[2] == pytest.approx(3.0)


def test_logit_draws_match_the_shares_by_chi_square():
    rng = np.random.default_rng(11)
    n = 60_000
    v = np.tile([0.3, -0.5, 1.1, -np.inf], (n, 1))
    p = shares(v)
    picks = draw(p, rng.random(n))
    counts = np.bincount(picks, minlength=4)
    assert counts[3] == 0  # an alternative the rider does not have is never drawn
    _, pvalue = stats.chisquare(counts[:3], p[0, :3] * n)
    assert pvalue > 0.001, (counts, p[0])
    # and a wrong set of shares is rejected by the same test: the check can fail
    assert stats.chisquare(counts[:3], np.array([0.3, 0.2, 0.5]) * n).pvalue < 1e-6


def model(**kw) -> RiderLogit:
    return RiderLogit(LogitSettings(**kw))


def one_rider(m: RiderLogit, fare: float, subsidy: tuple[float, float], waits: tuple, ref: float):
    """Utilities now and at reference for one rider with both apps."""
    installed = np.array([[True, True]])
    habit = np.zeros((1, 2))
    v = m.utilities(np.array([fare]), np.array([subsidy]), np.array([waits]), installed, habit)
    v_ref = m.utilities(
        np.array([ref]),
        np.zeros((1, 2)),
        np.full((1, 3), m.s.reference_wait_s),
        installed,
        habit,
    )
    return v, v_ref


def test_reference_conditions_give_the_reference_share():
    m = model(take_at_reference=0.4)
    v, v_ref = one_rider(m, 25.0, (0.0, 0.0), (300.0, 300.0, 300.0), ref=25.0)
    assert m.take_probability(v, v_ref)[0] == pytest.approx(0.4)


def test_fare_elasticity_at_the_reference_point_is_the_documented_one():
    """-beta x fare x (1 - p_ref): -0.22 for a 25-yuan trip with the defaults."""
    m = model()
    fare, h = 25.0, 1e-4
    p0 = m.take_probability(*one_rider(m, fare, (0, 0), (300,) * 3, ref=fare))[0]
    p1 = m.take_probability(*one_rider(m, fare * (1 + h), (0, 0), (300,) * 3, ref=fare))[0]
    elasticity = (p1 - p0) / p0 / h
    assert elasticity == pytest.approx(-m.s.beta_per_yuan * fare * (1 - 0.5), rel=1e-3)
    assert elasticity == pytest.approx(-0.22, abs=0.001)


def test_an_app_subsidy_raises_its_share_and_the_trips_and_lowers_the_street():
    m = model()
    waits = (300.0, 300.0, 300.0)
    v0, ref = one_rider(m, 25.0, (0.0, 0.0), waits, ref=25.0)
    v1, _ = one_rider(m, 25.0, (10.0, 0.0), waits, ref=25.0)
    s0, s1 = shares(v0, m.s.mu_per_yuan)[0], shares(v1, m.s.mu_per_yuan)[0]
    assert s1[1] > s0[1] and s1[0] < s0[0] and s1[2] < s0[2]
    # odds of the subsidised app against the street rise by exp(mu x 10)
    assert (s1[1] / s1[0]) / (s0[1] / s0[0]) == pytest.approx(math.exp(3.0))
    assert m.take_probability(v1, ref)[0] > m.take_probability(v0, ref)[0]


def test_a_longer_expected_wait_moves_riders_to_the_other_channels_and_off_taxis():
    m = model()
    v0, ref = one_rider(m, 25.0, (0, 0), (300.0, 300.0, 300.0), ref=25.0)
    v1, _ = one_rider(m, 25.0, (0, 0), (1200.0, 300.0, 300.0), ref=25.0)
    assert shares(v1, m.s.mu_per_yuan)[0, 0] < shares(v0, m.s.mu_per_yuan)[0, 0]
    assert m.take_probability(v1, ref)[0] < m.take_probability(v0, ref)[0]


def test_binary_logit():
    assert binary(0.0) == pytest.approx(0.5)
    assert binary(np.log(3.0)) == pytest.approx(0.75)


def rail_shares(chooser: Chooser, n: int, **kw) -> np.ndarray:
    picks = [chooser.choose(0b011, [0.0, 0.0], [0.0, 0.0], **kw)[0] for _ in range(n)]
    return np.bincount(picks, minlength=2) / n


def test_paying_in_the_app_and_switching_cost_follow_the_logit():
    """Cash (0) against Alipay (1), checkout failures off: the closed-loop term and the
    switching cost shift the odds by exactly their utilities."""
    payment = Payment.model_validate(
        {
            "rails": [
                {"id": "cash"},
                {"id": "alipay", "platform": "kuaidi", "failure_rate": 0.0},
            ],
            "choice": {"closed_loop": 1.2, "switching_cost": 0.7},
        }
    )
    base = [r.convenience - payment.choice.beta_risk * r.risk for r in payment.rails]
    rng = np.random.default_rng(3)
    n = 40_000
    for kw, extra in (
        ({}, 0.0),
        ({"linked": 1}, 1.2),
        ({"last": 0}, -0.7),
        ({"linked": 1, "last": 1}, 1.2 + 0.7),  # cash would now be the switch
    ):
        got = rail_shares(Chooser(payment, rng), n, **kw)[1]
        want = binary(base[1] + extra - base[0])
        assert got == pytest.approx(want, abs=4 * math.sqrt(want * (1 - want) / n)), kw


def test_drivers_choose_sets_of_apps_by_a_logit_over_sets():
    from sim.market.drivers import choose_apps, set_utilities, subsets

    n = 40_000
    value = np.tile([1.0, 0.4], (n, 1))
    running = np.tile([True, False], (n, 1))
    aware = np.ones((n, 2), dtype=bool)
    kw = {"app_cost": 0.2, "multihoming_cost": 0.5, "switching_cost": 0.3}
    u = set_utilities(value[:1], running[:1], aware[:1], **kw)[0]
    # by hand: {} -0.3 (a switch), {a} 0.8, {b} 0.2 - 0.3, {a, b} 1.4 - 0.4 - 0.5 - 0.3
    assert u == pytest.approx([-0.3, 0.8, -0.1, 0.2])
    rng = np.random.default_rng(5)
    got = choose_apps(value, running, aware, np.ones(n, bool), rng.gumbel(size=(n, 4)), **kw)
    codes = (got * [1, 2]).sum(axis=1)
    counts = np.bincount(codes, minlength=4)
    want = np.exp(u) / np.exp(u).sum() * n
    assert stats.chisquare(counts, want).pvalue > 0.001
    # a driver who does not know an app never runs it; one who does not revisit keeps his
    aware[:, 1] = False
    got = choose_apps(value, running, aware, np.zeros(n, bool), rng.gumbel(size=(n, 4)), **kw)
    assert (got == running).all()
    got = choose_apps(value, running, aware, np.ones(n, bool), rng.gumbel(size=(n, 4)), **kw)
    assert not got[:, 1].any()
    assert subsets(2).tolist() == [[False, False], [True, False], [False, True], [True, True]]


def test_drivers_accept_offers_by_value_and_pickup():
    from sim.market.drivers import accept_probability

    assert accept_probability(0.0, 0.1, 0.2, 0.0, 0.0) == pytest.approx(0.5)
    p = accept_probability(2.0, 0.08, 0.25, 30.0, 600.0)
    assert p == pytest.approx(binary(2.0 + 2.4 - 2.5))
    assert accept_probability(2.0, 0.08, 0.25, 40.0, 600.0) > p
    assert accept_probability(2.0, 0.08, 0.25, 30.0, 900.0) < p
