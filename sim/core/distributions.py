"""Vectorised draws of the scenario's random durations."""

from __future__ import annotations

import numpy as np

from sim.scenario.market import Duration


def draw(rng: np.random.Generator, spec: Duration, n: int) -> np.ndarray:
    """Draw ``n`` durations in seconds; ``never`` gives +inf (the rider never gives up)."""
    if spec.kind == "never":
        return np.full(n, np.inf)
    if spec.kind == "fixed" or spec.mean_s == 0:
        return np.full(n, float(spec.mean_s))
    if spec.kind == "exponential":
        return rng.exponential(spec.mean_s, n)
    return lognormal(rng, spec.mean_s, spec.cv, n)


def lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    """Lognormal draws with the given mean and coefficient of variation."""
    if mean <= 0 or cv <= 0:
        return np.full(n, float(mean))
    sigma2 = np.log1p(cv * cv)
    mu = np.log(mean) - sigma2 / 2
    return rng.lognormal(mu, np.sqrt(sigma2), n)
