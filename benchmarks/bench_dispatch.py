"""Per-request dispatch cost against fleet size (Beijing had about 66,000 taxis).

    python benchmarks/bench_dispatch.py [--requests 20000] [--idle 0.3]

For each fleet size, a share of the fleet stands idle at random nodes of a ~10,000-node
grid and random requests are dispatched by the ``nearest`` and ``broadcast`` policies;
the matched driver is left idle so the idle set stays the same size. Prints one JSON line:
microseconds per request per policy and fleet size, and each cost as a ratio of the
1,000-driver cost measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SIZES = (1000, 5000, 20000, 66000)


def world_for(drivers: int, policy: str, side: int):
    from sim.engine.world import World
    from sim.scenario.load import scenario_from_dict

    scn = scenario_from_dict(
        {
            "name": "bench-dispatch",
            "duration": "1h",
            "city": {
                "kind": "grid",
                "rows": side,
                "cols": side,
                "block_m": 250,
                "max_matrix_nodes": side * side + 10,
            },
            "fleet": {"drivers": drivers},
            "population": {
                "platforms": ["app"],
                "riders_apps": {"app": 1.0},
                "drivers_apps": {"app": 1.0},
            },
            "payment": {"rails": [{"id": "cash"}]},
            "dispatch": {"policy": policy},
            "riders": {"model": "fixed", "fixed": {"street_share": 0.0}},
            "outputs": {"rides": False, "plots": False},
        }
    )
    return World(scn, None)


def measure(drivers: int, policy: str, args) -> float:
    from sim.core.ride import Ride

    w = world_for(drivers, policy, args.side)
    rng = np.random.default_rng(args.seed)
    idle = rng.choice(drivers, size=max(1, int(drivers * args.idle)), replace=False)
    for d in idle.tolist():
        w.fleet.state[d] = 1  # IDLE
        w.dispatch.add_idle(d)
    matched = []
    w.assign = lambda ride, d, pickup_s: matched.append(d)  # leave the driver idle
    w.wait = lambda ride: None
    matcher = w.dispatch.app[0]
    origins = rng.integers(0, w.city.n, args.requests).tolist()
    rides = [
        Ride(
            rid=i,
            t=0.0,
            rider=0,
            channel=1,
            platform=0,
            prebook=False,
            origin=o,
            dest=o,
            patience=600.0,
            dist_m=0.0,
            ride_s=60.0,
            fare=1300,
        )
        for i, o in enumerate(origins)
    ]
    t0 = time.perf_counter()
    for ride in rides:
        matcher.request(ride)
    wall = time.perf_counter() - t0
    if policy == "nearest" and len(matched) < 0.9 * len(rides):
        raise SystemExit(f"only {len(matched)} of {len(rides)} requests found a driver")
    return wall / len(rides) * 1e6


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=20000)
    p.add_argument("--idle", type=float, default=0.3, help="share of the fleet idle")
    p.add_argument("--side", type=int, default=100)
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    out: dict = {
        "requests": args.requests,
        "idle_share": args.idle,
        "nodes": args.side**2,
        "us_per_request": {},
        "ratio_to_1000": {},
    }
    for policy in ("nearest", "broadcast"):
        costs = {n: measure(n, policy, args) for n in SIZES}
        out["us_per_request"][policy] = {str(n): round(c, 2) for n, c in costs.items()}
        out["ratio_to_1000"][policy] = {
            str(n): round(c / costs[SIZES[0]], 2) for n, c in costs.items()
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
