"""Bass fitting and confidence intervals."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from sim.analysis.fits import fit_bass, mean_ci
from sim.analysis.theory import bass_cdf

P, Q, M = 0.01, 0.25, 0.6
T = np.arange(1, 61, dtype=float)


def _is_json_safe(result: dict) -> bool:
    json.dumps(result, allow_nan=False)
    return all(v is None or isinstance(v, bool | int | float | str) for v in result.values())


def test_fit_bass_recovers_noiseless() -> None:
    fit = fit_bass(T, bass_cdf(T, P, Q, M))
    assert fit["p"] == pytest.approx(P, rel=0.10)
    assert fit["q"] == pytest.approx(Q, rel=0.10)
    assert fit["m"] == pytest.approx(M, rel=0.10)
    assert fit["r2"] > 0.999
    assert fit["converged"] is True
    assert all(type(fit[k]) is float for k in ("p", "q", "m", "r2", "rmse"))
    assert _is_json_safe(fit)


def test_fit_bass_with_noise() -> None:
    rng = np.random.default_rng(11)
    share = bass_cdf(T, P, Q, M) + rng.normal(0.0, 0.005, T.size)
    fit = fit_bass(T, share)
    assert fit["r2"] > 0.98
    assert fit["p"] == pytest.approx(P, rel=0.3)
    assert fit["q"] == pytest.approx(Q, rel=0.2)
    assert _is_json_safe(fit)


def test_fit_bass_from_pre_takeoff_window() -> None:
    # Only the first 25 days: m is less identified but the fit must still be sane.
    fit = fit_bass(T[:25], bass_cdf(T[:25], P, Q, M))
    assert fit["r2"] > 0.99
    assert 0 < fit["m"] <= 1


@pytest.mark.parametrize(
    "share",
    [np.zeros(60), np.full(60, 0.3), np.r_[np.zeros(59), 1e-3]],
    ids=["zeros", "flat", "one-blip"],
)
def test_fit_bass_degenerate_curves_do_not_raise(share: np.ndarray) -> None:
    fit = fit_bass(T, share)
    for key in ("p", "q", "m"):
        assert isinstance(fit[key], float) and math.isfinite(fit[key])
    assert 0 < fit["m"] <= 1
    assert _is_json_safe(fit)


def test_fit_bass_all_zero_reports_undefined_r2() -> None:
    fit = fit_bass(T, np.zeros(60))
    assert fit["r2"] is None
    assert fit["converged"] is False
    assert fit["rmse"] == pytest.approx(0.0, abs=1e-6)


def test_fit_bass_empty_and_nan() -> None:
    assert _is_json_safe(fit_bass([], []))
    share = bass_cdf(T, P, Q, M)
    share[[3, 30]] = np.nan
    fit = fit_bass(T, share)
    assert fit["n"] == 58
    assert fit["q"] == pytest.approx(Q, rel=0.10)


def test_fit_bass_length_mismatch() -> None:
    with pytest.raises(ValueError):
        fit_bass(T, np.zeros(5))


def test_mean_ci_coverage() -> None:
    rng = np.random.default_rng(3)
    reps, n, mu = 4000, 8, 2.5
    hits = 0
    for _ in range(reps):
        mean, lo, hi = mean_ci(rng.normal(mu, 1.7, n))
        assert lo <= mean <= hi
        hits += lo <= mu <= hi
    # Binomial sd at 0.95 over 4000 reps is ~0.0034; small n checks the t (not z) quantile.
    assert hits / reps == pytest.approx(0.95, abs=0.015)


def test_mean_ci_known_values() -> None:
    x = np.array([1.0, 2.0, 3.0, 4.0])
    mean, lo, hi = mean_ci(x, level=0.9)
    half = 2.3533634348018264 * np.std(x, ddof=1) / 2  # t_{0.95, 3} * s / sqrt(4)
    assert mean == 2.5
    assert (lo, hi) == pytest.approx((2.5 - half, 2.5 + half))
    assert all(type(v) is float for v in (mean, lo, hi))


def test_mean_ci_small_samples() -> None:
    assert mean_ci([4.2]) == (4.2, 4.2, 4.2)
    with pytest.raises(ValueError):
        mean_ci([])
