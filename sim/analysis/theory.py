"""Closed-form results the simulator is validated against.

Each function is a textbook formula with no simulation in it, so a test can compare a
simulated statistic with a number that cannot share the simulator's bugs: Erlang B/C
and M/M/c waits for dispatch, the Bass curve for payment adoption, logit shares for
mode choice, a two-state chain for driver on/off behaviour and Little's law for fleet
occupancy.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of an M/M/c/c loss system with offered load ``a``.

    ``a`` is arrival rate times mean service time (in Erlangs). Uses the recursion
    B(0)=1, B(k)=a B(k-1)/(k + a B(k-1)), which never forms a^c or c! and so stays
    accurate for fleets of thousands.
    """
    if c < 0:
        raise ValueError(f"c must be >= 0, got {c}")
    if a < 0:
        raise ValueError(f"offered load must be >= 0, got {a}")
    b = 1.0
    for k in range(1, int(c) + 1):
        b = a * b / (k + a * b)
    return float(b)


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival has to wait in an M/M/c queue (needs ``a < c``).

    Derived from Erlang B as C = c B / (c - a (1 - B)) to inherit its stability.
    """
    if c < 1:
        raise ValueError(f"c must be >= 1, got {c}")
    if not 0 <= a < c:
        raise ValueError(f"M/M/c is unstable unless 0 <= a < c (a={a}, c={c})")
    b = erlang_b(c, a)
    return float(c * b / (c - a * (1.0 - b)))


def _mmc_rates(c: int, lam: float, mean_service: float) -> tuple[float, float]:
    """Return (Erlang C, total drain rate c*mu - lam) after checking stability."""
    if mean_service <= 0:
        raise ValueError(f"mean_service must be > 0, got {mean_service}")
    mu = 1.0 / mean_service
    return erlang_c(c, lam * mean_service), c * mu - lam


def mmc_mean_wait(c: int, lam: float, mean_service: float) -> float:
    """Mean time in queue (before service) for M/M/c: C / (c mu - lam)."""
    prob_wait, drain = _mmc_rates(c, lam, mean_service)
    return float(prob_wait / drain)


def mmc_wait_quantile(c: int, lam: float, mean_service: float, level: float) -> float:
    """Quantile of the M/M/c queueing wait.

    The wait is 0 with probability 1 - C and otherwise exponential with rate
    c mu - lam, so P(W > t) = C exp(-(c mu - lam) t); levels below 1 - C give 0.
    """
    if not 0 <= level < 1:
        raise ValueError(f"level must be in [0, 1), got {level}")
    prob_wait, drain = _mmc_rates(c, lam, mean_service)
    if level <= 1.0 - prob_wait:
        return 0.0
    return float(math.log(prob_wait / (1.0 - level)) / drain)


def bass_cdf(t: ArrayLike, p: float, q: float, m: float = 1.0) -> float | np.ndarray:
    """Cumulative adopter share of the continuous Bass model at time(s) ``t``.

    F(t) = m (1 - e^{-(p+q)t}) / (1 + (q/p) e^{-(p+q)t}), the solution of
    dF/dt = (p + q F/m)(m - F) with F(0) = 0. Returns a float for scalar ``t``.
    """
    if p <= 0:
        raise ValueError(f"p must be > 0, got {p}")
    tt = np.asarray(t, dtype=float)
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-(p + q) * tt)
        f = m * (1.0 - e) / (1.0 + (q / p) * e)
    # Far in the past both numerator and denominator overflow; the limit there is -m p/q.
    f = np.where(np.isfinite(f), f, -m * p / q if q > 0 else -np.inf)
    return float(f) if f.ndim == 0 else f


def bass_discrete(p: float, q: float, days: int, m: float = 1.0, substeps: int = 1) -> np.ndarray:
    """Adopter share after each day of the discrete-time Bass model the agents follow.

    At the start of a day with adopter share F, each of the m - F potential adopters who
    has not yet adopted does so with probability h = p + q F/m (h = p + q F when m = 1),
    capped at 1. Element d of the result is the share after day d + 1, so it lines up
    with ``bass_cdf(np.arange(1, days + 1), p, q, m)``.

    ``bass_cdf`` is the limit of this recursion as the step shrinks: with ``substeps``
    = k the day is split into k steps with hazard h / k each. With one step per day the
    recursion is a forward-Euler scheme whose contagion term uses the start-of-day share,
    so it lags the continuous curve by roughly a day during take-off. The gap is within
    ~0.02 only while the daily p + q is small (about 0.02 for p=0.01, q=0.1); for
    p=0.01, q=0.3 it is about 0.08, and it falls below 0.02 from five substeps.
    """
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days}")
    if substeps < 1:
        raise ValueError(f"substeps must be >= 1, got {substeps}")
    if not 0 < m <= 1:
        raise ValueError(f"m must be in (0, 1], got {m}")
    dt = 1.0 / substeps
    shares = np.empty(int(days), dtype=float)
    f = 0.0
    for day in range(int(days)):
        for _ in range(substeps):
            h = min(max((p + q * f / m) * dt, 0.0), 1.0)
            f += (m - f) * h
        shares[day] = f
    return shares


def logit_shares(v: ArrayLike, axis: int = -1) -> np.ndarray:
    """Multinomial-logit choice shares exp(V_j) / sum_k exp(V_k) along ``axis``.

    The maximum utility is subtracted first, so shares are unchanged by adding a
    constant to every V and do not overflow for utilities in the thousands.
    """
    vv = np.asarray(v, dtype=float)
    z = np.exp(vv - np.max(vv, axis=axis, keepdims=True))
    return z / np.sum(z, axis=axis, keepdims=True)


def two_state_stationary(a: float, b: float) -> float:
    """Long-run share of time in state 1 for a chain with P(0->1)=a and P(1->0)=b.

    Balance of flows (1 - pi) a = pi b gives pi = a / (a + b); undefined if a = b = 0.
    """
    if not (0 <= a <= 1 and 0 <= b <= 1):
        raise ValueError(f"transition probabilities must be in [0, 1], got a={a}, b={b}")
    if a + b == 0:
        raise ValueError("a chain with a = b = 0 never moves; no unique stationary law")
    return float(a / (a + b))


def littles_law_busy(rate: float, mean_time: float) -> float:
    """Mean number in a system (e.g. busy taxis) from L = lambda W.

    Named so that fleet-occupancy checks read as the law they rely on.
    """
    return rate * mean_time
