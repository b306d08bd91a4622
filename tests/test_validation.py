"""Dispatch against queueing theory: the shipped Erlang C and Erlang B scenarios.

Each load runs as independent replications (different seeds); a figure passes when the
closed form lies inside the replications' 95% confidence interval or the replications'
mean is within 5% of it, and in any case within 15% (so a wide interval cannot pass a
biased estimate). Loads 0.5 and 0.95 were not used to set anything in the scenarios.
"""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.analysis.fits import mean_ci
from sim.analysis.theory import erlang_b, erlang_c, mmc_mean_wait
from tests.conftest import ROOT

C = 10
RIDE_S = 600.0
REPLICATIONS = 4


def replicate(tmp_path, name: str, load: float, days: int) -> list[dict]:
    per_day = load * C / RIDE_S * 86400
    out = []
    for rep in range(REPLICATIONS):
        res = sim.run(
            ROOT / "scenarios" / "validation" / f"{name}.yaml",
            tmp_path / f"{rep}",
            seed=100 + rep,
            overrides=[
                f"fleet.drivers={C}",
                f"duration={days}d",
                f"demand.daily_requests={per_day}",
                f"demand.ride_time.mean_s={RIDE_S}",
            ],
        )
        out.append(res.summary)
    return out


def agrees(values: list[float], want: float) -> bool:
    mean, lo, hi = mean_ci(np.array(values))
    close = abs(mean / want - 1) < 0.05
    return (lo <= want <= hi or close) and abs(mean / want - 1) < 0.15


@pytest.mark.parametrize("load", [0.5, 0.8, 0.95])
def test_nearest_dispatch_is_erlang_c(tmp_path, load):
    runs = replicate(tmp_path, "erlang_c", load, days=30)
    a = load * C
    p_wait = [r["match_wait_s"]["p_wait"] for r in runs]
    waits = [r["match_wait_s"]["mean"] for r in runs]
    want_p = erlang_c(C, a)
    want_w = mmc_mean_wait(C, a / RIDE_S, RIDE_S)
    assert agrees(p_wait, want_p), (p_wait, want_p)
    assert agrees(waits, want_w), (waits, want_w)


@pytest.mark.parametrize("load", [0.5, 0.8, 1.2])
def test_patience_zero_is_erlang_b(tmp_path, load):
    runs = replicate(tmp_path, "erlang_b", load, days=15)
    blocked = [r["abandoned_share"] for r in runs]
    want = erlang_b(C, load * C)
    assert agrees(blocked, want), (blocked, want)
