"""Closed forms checked against brute-force formulas and small numpy Monte Carlo runs."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from sim.analysis.theory import (
    bass_cdf,
    bass_discrete,
    erlang_b,
    erlang_c,
    littles_law_busy,
    logit_shares,
    mmc_mean_wait,
    mmc_wait_quantile,
    two_state_stationary,
)

CASES = [(1, 0.5), (2, 1.0), (3, 2.5), (5, 4.0), (10, 7.5), (20, 15.0), (40, 35.0)]


def _erlang_b_direct(c: int, a: float) -> float:
    terms = [a**k / math.factorial(k) for k in range(c + 1)]
    return terms[-1] / sum(terms)


def _erlang_c_direct(c: int, a: float) -> float:
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def _lindley_waits(rng: np.random.Generator, lam: float, mu: float, n: int) -> np.ndarray:
    """FIFO M/M/1 queueing waits via W_{k+1} = max(0, W_k + S_k - A_{k+1}), vectorised."""
    steps = rng.exponential(1 / mu, n - 1) - rng.exponential(1 / lam, n - 1)
    walk = np.concatenate(([0.0], np.cumsum(steps)))
    return walk - np.minimum.accumulate(walk)


@pytest.mark.parametrize("a", [0.0, 0.1, 1.0, 7.3])
def test_erlang_b_single_server(a: float) -> None:
    assert erlang_b(1, a) == pytest.approx(a / (1 + a))


@pytest.mark.parametrize(("c", "a"), CASES)
def test_erlang_b_matches_direct_formula(c: int, a: float) -> None:
    assert erlang_b(c, a) == pytest.approx(_erlang_b_direct(c, a), rel=1e-10)


def test_erlang_b_stable_for_large_fleet() -> None:
    b = erlang_b(5000, 4900.0)
    assert 0.0 < b < 1.0
    assert erlang_b(0, 3.0) == 1.0


@pytest.mark.parametrize(("c", "a"), CASES)
def test_erlang_c_matches_textbook(c: int, a: float) -> None:
    assert erlang_c(c, a) == pytest.approx(_erlang_c_direct(c, a), rel=1e-10)


def test_erlang_c_rejects_unstable_load() -> None:
    with pytest.raises(ValueError):
        erlang_c(2, 2.0)
    with pytest.raises(ValueError):
        mmc_mean_wait(1, 1.0, 1.0)


def test_erlang_c_single_server_is_utilisation() -> None:
    assert erlang_c(1, 0.7) == pytest.approx(0.7)


@pytest.mark.parametrize(("lam", "mu"), [(0.5, 1.0), (0.9, 1.0), (3.0, 4.0)])
def test_mm1_mean_wait(lam: float, mu: float) -> None:
    rho = lam / mu
    assert mmc_mean_wait(1, lam, 1 / mu) == pytest.approx(rho / (mu - lam))


def test_mm1_wait_monte_carlo() -> None:
    lam, mu = 0.5, 1.0
    waits = _lindley_waits(np.random.default_rng(20240611), lam, mu, 400_000)
    expected = mmc_mean_wait(1, lam, 1 / mu)
    assert waits.mean() == pytest.approx(expected, rel=0.05)
    # Tail: P(W > t) = rho exp(-(mu - lam) t), so the 90% quantile matches too.
    q90 = mmc_wait_quantile(1, lam, 1 / mu, 0.9)
    assert np.quantile(waits, 0.9) == pytest.approx(q90, rel=0.05)


def test_wait_quantile_zero_below_atom() -> None:
    # P(wait = 0) = 1 - C, so every level up to that is a zero wait.
    c, lam, s = 3, 1.5, 1.0
    atom = 1 - erlang_c(c, lam * s)
    assert mmc_wait_quantile(c, lam, s, atom * 0.99) == 0.0
    assert mmc_wait_quantile(c, lam, s, 0.99) > 0.0


def test_bass_cdf_shape() -> None:
    p, q, m = 0.01, 0.3, 0.7
    t = np.linspace(0, 200, 2001)
    f = bass_cdf(t, p, q, m)
    assert isinstance(f, np.ndarray)
    assert f[0] == 0.0
    assert np.all(np.diff(f) >= 0)
    assert np.all(np.diff(f[:1000]) > 0)
    assert f[-1] == pytest.approx(m, abs=1e-9)
    assert bass_cdf(1e6, p, q, m) == pytest.approx(m)
    assert isinstance(bass_cdf(3.0, p, q), float)


def test_bass_cdf_solves_its_ode() -> None:
    p, q, m = 0.02, 0.4, 0.8
    t, h = np.linspace(0.5, 40, 50), 1e-5
    slope = (bass_cdf(t + h, p, q, m) - bass_cdf(t - h, p, q, m)) / (2 * h)
    f = bass_cdf(t, p, q, m)
    np.testing.assert_allclose(slope, (p + q * f / m) * (m - f), rtol=1e-5, atol=1e-9)


def test_bass_discrete_first_day_and_monotone() -> None:
    shares = bass_discrete(0.01, 0.3, 60, m=0.6)
    assert shares.shape == (60,)
    assert shares[0] == pytest.approx(0.6 * 0.01)
    assert np.all(np.diff(shares) >= 0)
    assert shares[-1] <= 0.6


def test_bass_discrete_small_daily_rate_close_to_continuous() -> None:
    t = np.arange(1, 61)
    p, q = 0.01, 0.1
    gap = np.abs(bass_discrete(p, q, 60) - bass_cdf(t, p, q)).max()
    assert gap < 0.02


def test_bass_discrete_converges_to_continuous() -> None:
    # Daily steps with p=0.01, q=0.3 lag the continuous curve (gap ~0.08); splitting the
    # day brings it below 0.02 and the gap shrinks roughly as 1/substeps.
    t = np.arange(1, 61)
    p, q = 0.01, 0.3
    gaps = [
        np.abs(bass_discrete(p, q, 60, substeps=k) - bass_cdf(t, p, q)).max()
        for k in (1, 2, 5, 20, 100)
    ]
    assert all(later < earlier for earlier, later in itertools.pairwise(gaps))
    assert gaps[2] < 0.02
    assert gaps[-1] < 0.002


def test_logit_shares() -> None:
    v = np.array([0.3, -1.2, 2.0, 0.0])
    s = logit_shares(v)
    assert s.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(logit_shares(v + 123.4), s, rtol=1e-12)
    np.testing.assert_allclose(s, np.exp(v) / np.exp(v).sum())
    big = logit_shares(np.array([1000.0, 999.0, -1000.0]))
    assert np.all(np.isfinite(big))
    assert big == pytest.approx([1 / (1 + math.exp(-1)), math.exp(-1) / (1 + math.exp(-1)), 0])


def test_logit_shares_rows() -> None:
    v = np.array([[0.0, 1.0], [5.0, 5.0]])
    s = logit_shares(v)
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    np.testing.assert_allclose(s[1], [0.5, 0.5])


def test_two_state_chain_converges() -> None:
    a, b = 0.07, 0.2
    rng = np.random.default_rng(7)
    chains, steps = 4000, 400
    state = np.zeros(chains, dtype=bool)
    time_in_one = 0
    for step in range(steps):
        u = rng.random(chains)
        state = np.where(state, u >= b, u < a)
        if step >= 100:
            time_in_one += int(state.sum())
    share = time_in_one / (chains * (steps - 100))
    assert share == pytest.approx(two_state_stationary(a, b), abs=0.005)
    assert two_state_stationary(a, b) == pytest.approx(a / (a + b))


def test_two_state_rejects_frozen_chain() -> None:
    with pytest.raises(ValueError):
        two_state_stationary(0.0, 0.0)


def test_littles_law() -> None:
    # 120 trips/hour, 0.25 h each: 30 taxis busy on average.
    assert littles_law_busy(120.0, 0.25) == pytest.approx(30.0)
