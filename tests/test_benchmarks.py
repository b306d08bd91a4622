"""The benchmark scripts still run against the current model (tiny sizes; no timings)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _bench(script: str, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_bench_dispatch_prints_a_cost_per_policy_and_fleet_size() -> None:
    got = _bench("bench_dispatch.py", "--requests", "50", "--side", "10")
    for policy in ("nearest", "broadcast"):
        costs = got["us_per_request"][policy]
        assert set(costs) == {"1000", "5000", "20000", "66000"}
        assert all(c > 0 for c in costs.values())
        assert got["ratio_to_1000"][policy]["1000"] == 1.0


def test_bench_cityday_runs_model_and_skeleton_on_the_same_rides() -> None:
    got = _bench("bench_cityday.py", "--drivers", "100", "--requests", "3000", "--side", "10")
    model, plain, base = got["model"], got["no_behaviour"], got["baseline"]
    assert 0 < model["completed"] <= model["requests"] and base["rides"] == 3000
    assert got["ratio"] == round(model["cpu_s"] / base["cpu_s"], 2)
    assert got["behaviour_ratio"] == round(model["cpu_s"] / plain["cpu_s"], 2)
    # Without the market response every request is an app order and no offer is declined.
    assert plain["requests"] != model["requests"] and plain["completed"] > 0


def test_bench_cityday_side_by_side_gives_the_median_of_paired_ratios() -> None:
    got = _bench(
        "bench_cityday.py", "--drivers", "100", "--requests", "3000", "--side", "10",
        "--side-by-side", "--repeat", "3",
    )  # fmt: skip
    pairs = got["pairs_cpu_s"]
    assert len(pairs["model"]) == len(pairs["no_behaviour"]) == 3
    ratios = sorted(m / b for m, b in pairs["model"])
    assert got["ratio"] == round(ratios[1], 2)
    plain = sorted(m / b for m, b in pairs["no_behaviour"])
    assert got["behaviour_ratio"] == round(ratios[1] / plain[1], 2)
    assert got["model"]["completed"] > 0 and got["baseline"]["rides"] == 3000


def test_bench_season_times_a_scenario_as_run_sim_runs_it() -> None:
    got = _bench(
        "bench_season.py",
        "scenarios/alipay_5plus5_2013.yaml",
        "--set",
        "duration=2h",
        "--baseline-rides",
        "2000",
    )
    model = got["model"]
    assert model["simulated_requests"] > 0 and model["rides_csv_mb"] >= 0
    assert model["wall_s"] >= model["sim_wall_s"] > 0 and model["peak_rss_mb"] > 0
    assert got["baseline"]["rides"] == 2000
    assert got["ratio_per_request"] == round(
        model["us_per_request"] / got["baseline"]["us_per_ride"], 2
    )
