"""Durations in bounded memory: exact while small, a histogram past that, and the run's
summary agreeing with the exact figures either way."""

from __future__ import annotations

import numpy as np
import pytest

import sim
import sim.core.samples as samples
from sim.core.samples import BIN_S, Durations
from tests.conftest import small


def _mixed(n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.exponential(200, n), rng.uniform(3e4, 5e4, 30), np.zeros(200)])
    rng.shuffle(x)
    return x


def test_small_samples_are_exact():
    x = _mixed(5000)
    d = Durations()
    for v in x.tolist():
        d.append(v)
    d.compact()  # under EXACT: nothing folded
    got = d.describe((0.5, 0.9))
    assert d.counts is None
    assert got == {
        "mean": round(float(x.mean()), 3),
        "p50": round(float(np.quantile(x, 0.5)), 3),
        "p90": round(float(np.quantile(x, 0.9)), 3),
    }


def test_folded_samples_keep_bounded_memory_and_close_quantiles(monkeypatch):
    monkeypatch.setattr(samples, "EXACT", 1000)
    x = _mixed(60_000)
    d = Durations()
    for i, v in enumerate(x.tolist()):
        d.append(v)
        if i % 4000 == 3999:
            d.compact()
            assert len(d.values) <= 1000 + 4000
    qs = (0.1, 0.5, 0.9, 0.9995)  # the last one lands among durations beyond SPAN_S
    got = d.describe(qs)
    want = np.quantile(x, qs)
    assert d.n_folded > 50_000 and len(d) == len(x)
    assert got["mean"] == pytest.approx(float(x.mean()), abs=1e-3)
    for q, w in zip(qs, want, strict=True):
        assert abs(got[f"p{round(q * 100)}"] - w) <= BIN_S / 2 + 1e-3, q
    assert d.minimum() == x.min() and d.positive() == int((x > 0).sum())
    assert d.total() == pytest.approx(float(x.sum()), rel=1e-12)


def test_run_summary_with_folded_samples_matches_exact(tmp_path, monkeypatch):
    scn = small(duration="2d", demand={"daily_requests": 3000})
    exact = sim.run(scn, tmp_path / "exact").summary
    monkeypatch.setattr(samples, "EXACT", 200)  # fold at the first midnight
    folded = sim.run(scn, tmp_path / "folded").summary
    for key in ("pickup_wait_s", "match_wait_s", "pickup_s", "busy_s_per_ride"):
        assert folded[key]["mean"] == pytest.approx(exact[key]["mean"], abs=2e-3), key
        for q in ("p50", "p90"):
            assert abs(folded[key][q] - exact[key][q]) <= BIN_S / 2 + 1e-3, (key, q)
    assert folded["match_wait_s"]["p_wait"] == exact["match_wait_s"]["p_wait"]
    assert folded["utilization"] == pytest.approx(exact["utilization"], abs=1e-6)
    assert folded["completed"] == exact["completed"]


def test_folded_quantiles_exact_where_a_bin_holds_one_value(monkeypatch):
    """Zero waits and whole-second pickups stay exact after folding."""
    monkeypatch.setattr(samples, "EXACT", 4)
    for x in ([0.0] * 50 + [33.0] * 5, [float(v) for v in range(100, 113)] * 5):
        d = Durations()
        for v in x:
            d.append(v)
        exact = d.describe((0.5, 0.9, 1.0))
        d.compact()
        assert d.counts is not None and not len(d.values)
        assert d.describe((0.5, 0.9, 1.0)) == exact
