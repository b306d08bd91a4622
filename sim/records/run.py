"""What a finished run hands to its readers (summary, writers, checks): its records, not
the engine that made them."""

from __future__ import annotations

from dataclasses import dataclass

from sim.market.fleet import Fleet
from sim.money.ledger import Ledger
from sim.money.subsidies import PolicyBook
from sim.records.ridelog import ChannelStats, Stats
from sim.records.tables import Row
from sim.scenario.spec import Scenario


@dataclass
class RunRecord:
    """The records of a finished run and what it cost to make them."""

    scenario: Scenario
    stats: Stats
    channels: list[ChannelStats]
    daily: list[Row]  # daily.csv rows (``sim.records.tables.DAILY``)
    demand: list[Row]  # demand.csv rows
    platforms: list[Row]  # platforms.csv rows
    timeseries: list[Row]  # timeseries.csv rows
    ledger: Ledger
    book: PolicyBook
    fleet: Fleet  # its shifts, for the time on duty
    n_riders: int  # simulated riders
    rails: list[str]  # rail ids, in the scenario's order (cash first)
    paid_by_rail: list[int]  # payments taken per rail
    fare_by_rail: list[int]  # fares paid per rail (fen)
    failed_payments: int
    wall_s: float
    events: int
