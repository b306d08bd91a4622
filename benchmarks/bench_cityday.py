"""A city-day on a ~10,000-node grid (15 km square): the full model against a bare SimPy
skeleton.

    python benchmarks/bench_cityday.py --drivers 2000 --requests 100000

Prints one JSON line: the full model's wall and CPU time, rides/s, events/s and peak
memory; the same figures for a bare SimPy skeleton that moves the same number of rides (a
process per ride, nothing else), and their ratio; and the model with its market response
switched off (riders on the ``fixed`` model, drivers who take every offer: what the
behaviour costs, as ``behaviour_ratio``). Ratios are of CPU seconds, which another job on
the machine disturbs less than wall seconds. Each part runs in its own process so peak memory is
its own. The travel-time matrix is built (or loaded from the cache) before the clock
starts and reported separately. With ``--repeat N`` the parts alternate N times and the
least CPU of each is compared (the machine is shared: the minimum is the least disturbed).
With ``--side-by-side`` (two cores or more) each run of the model, and of the model without
its response, has a skeleton run beside it at the same time, one core each: a change in the
machine's speed then slows both alike, and each ratio is the median over ``--repeat`` such
pairs.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def scenario(drivers: int, requests: int, side: int, seed: int, behaviour: bool = True) -> dict:
    scn = {
        "name": "bench-cityday",
        "seed": seed,
        "start": "2013-12-02T00:00:00",
        "duration": "1d",
        "city": {
            "kind": "grid",
            "rows": side,
            "cols": side,
            "block_m": 150,
            "max_matrix_nodes": side * side + 10,
        },
        "fleet": {"drivers": drivers},
        "demand": {"daily_requests": requests},
        # Every rider weighs the trip and her channels (the logit rider model), and a
        # street far below the apps sends every request through an app, nearest-idle.
        "population": {
            "riders_apps": {"didi": 1.0, "kuaidi": 0.5},
            "drivers_apps": {"didi": 1.0, "kuaidi": 1.0},
        },
        "dispatch": {"policy": "nearest"},
        "riders": {"logit": {"asc_street_yuan": -100.0}},
        "payment": {
            "riders_bound": {"alipay": 0.3, "wechat_pay": 0.2},
            "drivers_accepting": {"alipay": 0.4, "wechat_pay": 0.3},
        },
        "outputs": {"plots": False, "timeseries_every_min": 15},
    }
    if not behaviour:  # every request through an app, taken by the first driver offered
        scn["riders"] = {"model": "fixed", "fixed": {"street_share": 0.0}}
        scn["dispatch"]["accept"] = {"base": 50.0}
    return scn


def cpu_s() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_model(args) -> dict:
    import sim
    from sim.city.travel import build_city
    from sim.scenario.load import scenario_from_dict

    scn = scenario_from_dict(
        scenario(args.drivers, args.requests, args.side, args.seed, args.part == "model")
    )
    t0 = time.perf_counter()
    build_city(scn.city)
    city_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), cpu_s()
        res = sim.run(scn, Path(tmp) / "run")
        wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    s = res.summary
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "sim_wall_s": s["wall_s"],
        "city_build_s": round(city_s, 2),
        "requests": s["requests"],
        "completed": s["completed"],
        "events": s["events"],
        "rides_per_s": round(s["requests"] / wall),
        "events_per_s": round(s["events"] / wall),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def run_baseline(args) -> dict:
    """A bare SimPy loop: one process per ride, timeouts for pickup, boarding, trip, payment."""
    import numpy as np
    import simpy

    rng = np.random.default_rng(args.seed)
    n = args.requests
    arrivals = np.sort(rng.random(n) * 86400).tolist()
    legs = rng.exponential(300, (n, 4)).tolist()
    env = simpy.Environment()
    done = [0]

    def ride(env, leg):
        yield env.timeout(leg[0])  # drive to pickup
        yield env.timeout(leg[1] / 10)  # boarding
        yield env.timeout(leg[2] * 2)  # trip
        yield env.timeout(leg[3] / 10)  # payment
        done[0] += 1

    def demand(env):
        for t, leg in zip(arrivals, legs, strict=True):
            yield env.timeout(t - env.now)
            env.process(ride(env, leg))

    env.process(demand(env))
    t0, c0 = time.perf_counter(), cpu_s()
    env.run()
    wall, cpu = time.perf_counter() - t0, cpu_s() - c0
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "rides": done[0],
        "rides_per_s": round(n / wall),
        "events": next(env._eid),
        "peak_rss_mb": round(peak_rss_mb()),
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--drivers", type=int, default=2000)
    p.add_argument("--requests", type=int, default=100_000)
    p.add_argument("--side", type=int, default=100, help="grid side: side x side nodes")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--part", choices=["model", "no_behaviour", "baseline"], help=argparse.SUPPRESS)
    p.add_argument("--no-baseline", action="store_true")
    p.add_argument(
        "--no-behaviour-part", action="store_true", help="skip the run without market response"
    )
    p.add_argument("--repeat", type=int, default=1, help="alternate the parts N times")
    p.add_argument(
        "--side-by-side",
        action="store_true",
        help="run each part at the same time as a skeleton, one core each; median of pairs",
    )
    args = p.parse_args()
    if args.part:
        fn = run_baseline if args.part == "baseline" else run_model
        print(json.dumps(fn(args)))
        return
    common = [
        "--drivers",
        str(args.drivers),
        "--requests",
        str(args.requests),
        "--side",
        str(args.side),
        "--seed",
        str(args.seed),
    ]

    def start(name: str) -> subprocess.Popen:
        cmd = [sys.executable, __file__, "--part", name, *common]
        return subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)

    def finish(proc: subprocess.Popen) -> dict:
        out, _ = proc.communicate()
        if proc.returncode:
            raise SystemExit(f"error: a part of the benchmark exited {proc.returncode}")
        return json.loads(out.strip().splitlines()[-1])

    def part(name: str) -> dict:
        return finish(start(name))

    if args.side_by_side:
        print(json.dumps(side_by_side(args, start, finish)))
        return
    names = ["model"]
    names += [] if args.no_behaviour_part else ["no_behaviour"]
    names += [] if args.no_baseline else ["baseline"]
    runs: dict[str, list[dict]] = {name: [] for name in names}
    for _ in range(args.repeat):
        for name in names:
            runs[name].append(part(name))
    best = {name: min(got, key=lambda r: r["cpu_s"]) for name, got in runs.items()}
    result = {"drivers": args.drivers, "requests": args.requests, "nodes": args.side**2}
    result.update(best)
    if "baseline" in best:
        result["ratio"] = round(best["model"]["cpu_s"] / best["baseline"]["cpu_s"], 2)
    if "no_behaviour" in best:
        result["behaviour_ratio"] = round(best["model"]["cpu_s"] / best["no_behaviour"]["cpu_s"], 2)
    if args.repeat > 1:
        result["runs_cpu_s"] = {name: [r["cpu_s"] for r in got] for name, got in runs.items()}
    print(json.dumps(result))


def side_by_side(args, start, finish) -> dict:
    """Each of the model's parts at the same time as a skeleton, ``args.repeat`` times."""
    parts = ["model"] + ([] if args.no_behaviour_part else ["no_behaviour"])
    pairs: dict[str, list[tuple[dict, dict]]] = {name: [] for name in parts}
    for _ in range(args.repeat):
        for name in parts:
            model, skeleton = start(name), start("baseline")
            pairs[name].append((finish(model), finish(skeleton)))
    ratios = {name: [m["cpu_s"] / b["cpu_s"] for m, b in got] for name, got in pairs.items()}
    result = {"drivers": args.drivers, "requests": args.requests, "nodes": args.side**2}
    result["side_by_side"] = True
    result["model"], result["baseline"] = pairs["model"][0]  # the first pair's figures
    result["ratio"] = round(statistics.median(ratios["model"]), 2)
    if "no_behaviour" in ratios:
        result["behaviour_ratio"] = round(
            statistics.median(ratios["model"]) / statistics.median(ratios["no_behaviour"]), 2
        )
    result["pairs_cpu_s"] = {
        name: [[m["cpu_s"], b["cpu_s"]] for m, b in got] for name, got in pairs.items()
    }
    return result


if __name__ == "__main__":
    main()
