"""Calibrate the behavioural parameters of scenarios/subsidy_war_2014.yaml to its targets.

    python docs/calibrate_2014.py [--sample 0.005] [--workers 2]

Targets (and nothing else):
  T1  Beijing taxis accepting Alipay: ~5,000 on 2013-12-05
  T2  ... growing by ~500 a day toward ~20,000 by the end of December (2013-12-31)
  T3  about 1/3 of Didi's app rides paid with WeChat Pay in late January (01-20..01-31)
  T4  76% of Didi's app rides paid with WeChat Pay on the peak day, 2014-02-07
A grid over three parameters is run to 2014-02-10 at a small sample; the loss is the sum
of squared relative errors. Prints one JSON line per grid point and the best one last.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
TAXIS = 66_000
GRID = {
    "adoption.drivers.cash_preference": [2.0, 3.0, 4.0],
    "adoption.drivers.switching_cost": [1.5, 2.5],
    "payment.choice.beta_subsidy_per_yuan": [0.35, 0.6],
}


def figures(daily) -> dict[str, float]:
    def pick(rail: str, date: str, key: str) -> float:
        rows = (daily["rail"] == rail) & (daily["date"] == date)
        return float(daily[key][rows][0])

    late_jan = [f"2014-01-{d}" for d in range(20, 32)]
    wx = [pick("wechat_pay", d, "linked_app_ride_share") for d in late_jan]
    return {
        "alipay_taxis_1205": pick("alipay", "2013-12-05", "drivers_accepting_share") * TAXIS,
        "alipay_taxis_1231": pick("alipay", "2013-12-31", "drivers_accepting_share") * TAXIS,
        "wechat_didi_share_late_jan": sum(wx) / len(wx),
        "wechat_didi_share_0207": pick("wechat_pay", "2014-02-07", "linked_app_ride_share"),
    }


TARGETS = {
    "alipay_taxis_1205": 5000,
    "alipay_taxis_1231": 20000,
    "wechat_didi_share_late_jan": 1 / 3,
    "wechat_didi_share_0207": 0.76,
}


def evaluate(point: tuple, sample: float) -> dict:
    import sim

    over = [f"{k}={v}" for k, v in zip(GRID, point, strict=True)]
    res = sim.run(
        ROOT / "scenarios/subsidy_war_2014.yaml",
        seed=1,
        overrides=[
            *over,
            "duration=72d",
            f"population.sample={sample}",
            "outputs.rides=false",
            "outputs.plots=false",
        ],
    )
    got = figures(res.table("daily"))
    loss = sum((got[k] / v - 1) ** 2 for k, v in TARGETS.items())
    return {"params": dict(zip(GRID, point, strict=True)), "figures": got, "loss": round(loss, 4)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sample", type=float, default=0.005)
    p.add_argument("--workers", type=int, default=2)
    args = p.parse_args()
    points = list(itertools.product(*GRID.values()))
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(evaluate, points, [args.sample] * len(points)))
    for r in results:
        print(json.dumps(r))
    print(json.dumps({"best": min(results, key=lambda r: r["loss"]), "targets": TARGETS}))


if __name__ == "__main__":
    main()
