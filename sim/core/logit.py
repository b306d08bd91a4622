"""Logit choice, vectorised over many decision makers at once.

Utilities come as an (n, J) array, one row per decision, with ``-inf`` for alternatives a
row does not have. Shares are exp(mu V_j) / sum_k exp(mu V_k); the logsum (expected
maximum utility, in the utilities' own units) is log(sum_k exp(mu V_k)) / mu. A draw uses
one uniform per row against the cumulative shares, so it is reproducible from the stream.
"""

from __future__ import annotations

import numpy as np


def shares(v: np.ndarray, mu: float = 1.0) -> np.ndarray:
    """Choice probabilities of each row's alternatives (rows of all ``-inf``: zeros)."""
    top = np.max(v, axis=1, keepdims=True)
    safe_top = np.where(np.isfinite(top), top, 0.0)
    w = np.exp(mu * (v - safe_top))
    total = w.sum(axis=1, keepdims=True)
    return np.divide(w, total, out=np.zeros_like(w), where=total > 0)


def logsum(v: np.ndarray, mu: float = 1.0) -> np.ndarray:
    """Expected maximum utility of each row, in the units of ``v`` (``-inf`` if empty)."""
    top = np.max(v, axis=1)
    safe_top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe_top + np.log(np.exp(mu * (v - safe_top[:, None])).sum(axis=1)) / mu


def draw(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index of the alternative each row picks, by inverse CDF with uniforms ``u``."""
    cum = np.cumsum(p, axis=1)
    pick = (cum <= u[:, None] * cum[:, -1:]).sum(axis=1)
    return np.minimum(pick, p.shape[1] - 1)


def binary(x: np.ndarray | float) -> np.ndarray:
    """Probability of the 'yes' of a binary logit with utility difference ``x``."""
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))
