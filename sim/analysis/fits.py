"""Fitting and summarising simulator outputs.

Results are plain Python floats (or None where a quantity is undefined) so they can be
written to JSON as they are: NaN and infinity are not valid JSON.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sim.analysis.theory import bass_cdf

# Bounds of the Bass fit; p and m must stay positive for the curve to be defined.
P_BOUNDS = (1e-6, 1.0)
Q_BOUNDS = (1e-6, 10.0)
M_BOUNDS = (1e-6, 1.0)

_P_GRID = np.logspace(np.log10(P_BOUNDS[0]), np.log10(P_BOUNDS[1]), 49)
_Q_GRID = np.logspace(-4, np.log10(Q_BOUNDS[1]), 49)


def _bass_model(t: np.ndarray, p: float, q: float, m: float) -> np.ndarray:
    return np.asarray(bass_cdf(t, p, q, m), dtype=float)


def _grid_fit(t: np.ndarray, y: np.ndarray) -> tuple[float, float, float]:
    """Best (p, q, m) on a log grid of p and q, with m solved by least squares.

    Never fails, so it seeds the optimiser and stands in for it when it cannot run.
    For fixed p and q the curve is m g(t), so the best m is sum(g y) / sum(g^2).
    """
    pp = _P_GRID[:, None, None]
    qq = _Q_GRID[None, :, None]
    e = np.exp(-(pp + qq) * np.maximum(t, 0.0)[None, None, :])
    g = (1.0 - e) / (1.0 + (qq / pp) * e)
    gg = np.sum(g * g, axis=-1)
    gy = np.sum(g * y, axis=-1)
    m = np.clip(np.divide(gy, gg, out=np.zeros_like(gy), where=gg > 0), *M_BOUNDS)
    sse = np.sum((m[..., None] * g - y) ** 2, axis=-1)
    i, j = np.unravel_index(int(np.argmin(sse)), sse.shape)
    return float(_P_GRID[i]), float(_Q_GRID[j]), float(m[i, j])


def _curve_fit(
    t: np.ndarray, y: np.ndarray, start: tuple[float, float, float]
) -> tuple[float, float, float] | None:
    """Refine ``start`` with bounded least squares; None if it does not converge."""
    from scipy import optimize  # imported when a curve is fitted, not by every run

    lower = (P_BOUNDS[0], Q_BOUNDS[0], M_BOUNDS[0])
    upper = (P_BOUNDS[1], Q_BOUNDS[1], M_BOUNDS[1])
    x0 = np.clip(start, lower, upper)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            popt, _ = optimize.curve_fit(
                _bass_model, t, y, p0=x0, bounds=(lower, upper), maxfev=20000
            )
    except (RuntimeError, ValueError, optimize.OptimizeWarning):
        return None
    if not np.all(np.isfinite(popt)):
        return None
    return float(popt[0]), float(popt[1]), float(popt[2])


def _sse(t: np.ndarray, y: np.ndarray, params: tuple[float, float, float]) -> float:
    return float(np.sum((_bass_model(t, *params) - y) ** 2))


def fit_bass(t: ArrayLike, share: ArrayLike) -> dict[str, Any]:
    """Fit the Bass curve ``bass_cdf(t, p, q, m)`` to a cumulative adoption curve.

    Adoption parameters are compared across scenarios, so the fit must always return
    something usable. A coarse grid search (p, q on log grids, m solved exactly) seeds
    ``scipy.optimize.curve_fit`` with bounds 0 < p <= 1, 0 < q <= 10, 0 < m <= 1.

    Returns a dict of plain Python values:
    ``p``, ``q``, ``m`` (always floats), ``r2`` (float, or None when the curve is flat
    so the total variance is zero), ``rmse`` (float, or None with no usable points),
    ``n`` (points used; non-finite pairs are dropped), ``converged`` (whether
    curve_fit succeeded) and ``method`` ("curve_fit" or "grid").

    With a flat curve, fewer than three points or a failed optimisation the grid
    result is returned with ``converged`` False. For a curve of all zeros that means
    m at its floor 1e-6 and p, q uninformative (any values fit); nothing is raised.
    """
    tt = np.asarray(t, dtype=float).ravel()
    yy = np.asarray(share, dtype=float).ravel()
    if tt.shape != yy.shape:
        raise ValueError(f"t and share differ in length: {tt.size} vs {yy.size}")
    ok = np.isfinite(tt) & np.isfinite(yy)
    tt, yy = tt[ok], yy[ok]
    n = int(tt.size)
    if n == 0:
        return {
            "p": P_BOUNDS[0],
            "q": Q_BOUNDS[0],
            "m": M_BOUNDS[0],
            "r2": None,
            "rmse": None,
            "n": 0,
            "converged": False,
            "method": "grid",
        }

    params = _grid_fit(tt, yy)
    method, converged = "grid", False
    flat = float(np.ptp(yy)) == 0.0
    if not flat and n >= 3:
        refined = _curve_fit(tt, yy, params)
        if refined is not None:
            converged = True
            if _sse(tt, yy, refined) <= _sse(tt, yy, params):
                params, method = refined, "curve_fit"

    sse = _sse(tt, yy, params)
    ss_tot = float(np.sum((yy - yy.mean()) ** 2))
    r2 = None if flat or ss_tot == 0.0 else 1.0 - sse / ss_tot
    p, q, m = params
    return {
        "p": p,
        "q": q,
        "m": m,
        "r2": r2,
        "rmse": float(np.sqrt(sse / n)),
        "n": n,
        "converged": converged,
        "method": method,
    }


def mean_ci(x: ArrayLike, level: float = 0.95) -> tuple[float, float, float]:
    """Sample mean and Student-t confidence interval, as (mean, lo, hi).

    Replication counts are small, so the t quantile rather than the normal one sets the
    width. With fewer than two values there is no spread estimate and (mean, mean,
    mean) is returned; an empty sample raises ValueError.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    xx = np.asarray(x, dtype=float).ravel()
    if xx.size == 0:
        raise ValueError("mean_ci needs at least one value")
    mean = float(xx.mean())
    if xx.size < 2:
        return mean, mean, mean
    sem = float(xx.std(ddof=1)) / math.sqrt(xx.size)
    from scipy import stats  # most of a second to import: only sweeps and searches need it

    half = float(stats.t.ppf(0.5 + level / 2.0, df=xx.size - 1)) * sem
    return mean, mean - half, mean + half
