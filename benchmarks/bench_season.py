"""A whole scenario as a user runs it (default: the 2014 season), against the bare SimPy
skeleton of ``bench_cityday.py`` timed in the same run.

    python benchmarks/bench_season.py                         # the season, ~5 minutes
    python benchmarks/bench_season.py --set duration=30d --baseline-rides 300000

Runs ``run_sim.py run SCENARIO`` (outputs included, into a temporary directory) in a
child process, then the skeleton over ``--baseline-rides`` rides in another, and prints
one JSON line: the command's wall and CPU seconds and peak memory, its simulated requests
and SimPy events, the microseconds each costs the model and the skeleton, and their ratio.
The skeleton moves each ride with a process and 7 events, the floor a SimPy model of the
same rides could reach; on a shared machine compare the ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _child(cmd: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    return time.perf_counter() - t0, out.stdout


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("scenario", nargs="?", default="scenarios/subsidy_war_2014.yaml")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="an override of the scenario, as run_sim.py run --set",
    )
    p.add_argument("--baseline-rides", type=int, default=1_000_000)
    args = p.parse_args()
    sets = [x for s in args.set for x in ("--set", s)]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        # The model is this process's first child, so the children's peak memory is its.
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, _ = _child(
            [
                sys.executable,
                "run_sim.py",
                "run",
                args.scenario,
                "--quiet",
                "--out",
                str(out),
                *sets,
            ]
        )
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = json.loads((out / "summary.json").read_text())
        sample = json.loads((out / "manifest.json").read_text())["scenario"]["population"]["sample"]
        rides = out / "rides.csv"
        rides_mb = rides.stat().st_size / 2**20 if rides.exists() else 0.0
    _, base_out = _child(
        [
            sys.executable,
            "benchmarks/bench_cityday.py",
            "--part",
            "baseline",
            "--requests",
            str(args.baseline_rides),
        ]
    )
    base = json.loads(base_out.strip().splitlines()[-1])
    requests = round(summary["requests"] * sample)  # the summary scales counts to the city
    model_us = round(wall / requests * 1e6, 2)
    base_us = round(base["wall_s"] / base["rides"] * 1e6, 2)
    print(
        json.dumps(
            {
                "scenario": args.scenario,
                "overrides": args.set,
                "model": {
                    "wall_s": round(wall, 1),
                    "cpu_s": round(
                        used.ru_utime + used.ru_stime - before.ru_utime - before.ru_stime, 1
                    ),
                    "peak_rss_mb": round(used.ru_maxrss / 1024),
                    "sim_wall_s": summary["wall_s"],
                    "simulated_requests": requests,
                    "events": summary["events"],
                    "rides_csv_mb": round(rides_mb),
                    "us_per_request": model_us,
                },
                "baseline": {
                    "wall_s": base["wall_s"],
                    "rides": base["rides"],
                    "us_per_ride": base_us,
                },
                "ratio_per_request": round(model_us / base_us, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
