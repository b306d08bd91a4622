"""Drivers' decisions: which apps to run each day, and whether to take an offered ride.

Which apps: a driver who revisits his choice today picks, among the sets of apps he knows
(installed), the one of highest utility plus a Gumbel shock, so the sets follow a logit:

    U(S) = sum_{k in S} value_k - app_cost x |S| - multihoming_cost x max(0, |S| - 1)
           - switching_cost x [S is not what he runs now]

where value_k is what he has learned app k brings him a day (fares and driver subsidies of
its orders, or his fleet group's experience while he does not run it) and the driver
subsidy it announces per ride. Running none is the street alone.

Whether to take an offer (nearest and batch dispatch): he accepts with probability
1 / (1 + exp(-(base + per_yuan x (fare + tip + driver subsidy) - per_pickup_min x pickup))),
the rule broadcast drivers already follow when they grab.
"""

from __future__ import annotations

import math

import numpy as np


def subsets(k: int) -> np.ndarray:
    """(2^k, k) bool: every set of k apps, the empty set first."""
    codes = np.arange(1 << k)
    return (codes[:, None] >> np.arange(k)[None, :] & 1).astype(bool)


def set_utilities(
    value: np.ndarray,
    running: np.ndarray,
    aware: np.ndarray,
    app_cost: float,
    multihoming_cost: float,
    switching_cost: float,
) -> np.ndarray:
    """(n, 2^k) utility of each set of apps for each driver; -inf for a set holding an app
    he does not know."""
    sets = subsets(value.shape[1])  # (m, k)
    size = sets.sum(axis=1)
    u = value @ sets.T.astype(float) - app_cost * size - multihoming_cost * np.maximum(size - 1, 0)
    current = (running[:, None, :] == sets[None, :, :]).all(axis=2)
    u -= switching_cost * ~current
    feasible = ~(sets[None, :, :] & ~aware[:, None, :]).any(axis=2)
    return np.where(feasible, u, -np.inf)


def choose_apps(
    value: np.ndarray,
    running: np.ndarray,
    aware: np.ndarray,
    revisit: np.ndarray,
    gumbel: np.ndarray,
    app_cost: float,
    multihoming_cost: float,
    switching_cost: float,
) -> np.ndarray:
    """The apps each driver runs tomorrow: a logit choice among sets for those who
    revisit (``gumbel``: one standard Gumbel draw per driver and set), the same apps (those
    he still knows) for the others."""
    u = set_utilities(value, running, aware, app_cost, multihoming_cost, switching_cost)
    pick = np.argmax(u + gumbel, axis=1)
    chosen = subsets(value.shape[1])[pick]
    return np.where(revisit[:, None], chosen, running & aware)


def accept_probability(
    base: float, per_yuan: float, per_pickup_min: float, value_yuan: float, pickup_s: float
) -> float:
    """Chance a driver takes an offered ride worth ``value_yuan`` to him, ``pickup_s`` away."""
    x = base + per_yuan * value_yuan - per_pickup_min * pickup_s / 60.0
    return 1.0 / (1.0 + math.exp(-x))
