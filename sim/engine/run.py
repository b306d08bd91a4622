"""One run, start to end: build the world, run it, hand its records to the writers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sim.city.travel import City
from sim.core.clock import events_scheduled
from sim.engine.world import World
from sim.records.run import RunRecord
from sim.scenario.spec import Scenario


@dataclass
class Outcome(RunRecord):
    """What ``simulate`` hands to the writers: the run's records, and the world after the
    run for tests and notebooks that look inside it."""

    world: World


def simulate(
    scenario: Scenario, out_dir: Path | None, progress: bool = False, city: City | None = None
) -> Outcome:
    """Build and run one scenario, streaming ride rows into ``out_dir``."""
    t0 = time.perf_counter()
    world = World(scenario, out_dir, city=city, progress=progress)
    world.run()
    return Outcome(
        scenario=scenario,
        stats=world.stats,
        channels=world.channels,
        daily=world.days.rows,
        demand=world.days.demand_rows,
        platforms=world.days.platform_rows,
        timeseries=world.timeseries,
        ledger=world.ledger,
        book=world.book,
        fleet=world.fleet,
        n_riders=world.pop.n_riders,
        rails=world.rails,
        paid_by_rail=world.cashier.paid_by_rail,
        fare_by_rail=world.cashier.fare_by_rail,
        failed_payments=world.cashier.failed,
        wall_s=time.perf_counter() - t0,
        events=events_scheduled(world.env),
        world=world,
    )
