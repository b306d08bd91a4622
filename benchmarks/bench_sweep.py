"""Sweep throughput on one Dask worker against two, and whether their tables agree.

    python benchmarks/bench_sweep.py                       # sweeps/subsidy_amount.yaml
    python benchmarks/bench_sweep.py SWEEP.yaml --set duration=14d

Runs the sweep into a fresh directory with ``workers=1``, then into another with
``workers=2``, and prints one JSON line: both wall times, the throughput ratio (runs per
second on two workers over one) and whether runs.csv and aggregate.csv are byte-identical.
The travel-time matrices are built once before the clock starts, so neither side pays it.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sweep", nargs="?", default=str(ROOT / "sweeps" / "subsidy_amount.yaml"))
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="an override added to every run (as the sweep file's overrides)",
    )
    args = p.parse_args()

    import yaml

    from sim.city.travel import build_city
    from sim.scenario.load import load_scenario
    from sim.sweep.runner import run_sweep

    sweep_path = Path(args.sweep).resolve()
    spec = yaml.safe_load(sweep_path.read_text(encoding="utf-8"))
    spec["overrides"] = [*spec.get("overrides", []), *args.set]
    build_city(load_scenario(sweep_path.parent / spec["base"]).city)  # warm the cache once

    result: dict = {"sweep": str(sweep_path), "overrides": spec["overrides"]}
    with tempfile.TemporaryDirectory() as tmp:
        dirs = {}
        for workers in (1, 2):
            out = Path(tmp) / f"w{workers}"
            t0 = time.perf_counter()
            res = run_sweep(spec, out, workers=workers, root=sweep_path.parent)
            wall = time.perf_counter() - t0
            if res.failed:
                sys.exit(f"bench_sweep: {res.failed} runs failed with {workers} worker(s)")
            result[f"workers_{workers}"] = {"runs": res.runs, "wall_s": round(wall, 2)}
            dirs[workers] = out
        result["throughput_ratio"] = round(
            result["workers_1"]["wall_s"] / result["workers_2"]["wall_s"], 2
        )
        result["tables_identical"] = all(
            (dirs[1] / name).read_bytes() == (dirs[2] / name).read_bytes()
            for name in ("runs.csv", "aggregate.csv")
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
