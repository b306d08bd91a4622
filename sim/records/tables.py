"""Every table a run writes: its columns, each with its kind, and the functions that build
its rows, side by side, so a row's layout is written in one place only.

Kinds: ``int`` (never blank), ``int?`` (integer or blank), ``float`` (blank allowed) and
``str``. Readers and the parquet writer type columns by these kinds (``sim.io.files``),
so a column's type never depends on what one run's data happen to hold.

The ride builders take the ``Ride`` itself and are called once per ride: one call, no
per-ride object beyond the tuple the ride log formats.
"""

from __future__ import annotations

from typing import NamedTuple

from sim.core.ride import Ride
from sim.core.state import CHANNEL_NAMES, DriverState

Row = tuple[object, ...]


class Table(NamedTuple):
    """One output table: its file stem and its columns' kinds, in column order."""

    name: str
    kinds: dict[str, str]

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.kinds)


def _table(name: str, columns: tuple[tuple[str, str], ...]) -> Table:
    kinds = dict(columns)
    if len(kinds) != len(columns) or not set(kinds.values()) <= {"int", "int?", "float", "str"}:
        raise ValueError(f"table {name}: repeated column or unknown kind")
    return Table(name, kinds)


# ---- rides.csv: one row per request ---------------------------------------------------

RIDES = _table(
    "rides",
    (
        ("ride_id", "int"),
        ("rider_id", "int"),
        ("driver_id", "int?"),
        ("channel", "str"),
        ("platform", "str"),
        ("t_request", "float"),
        ("t_match", "float"),
        ("t_pickup", "float"),
        ("t_dropoff", "float"),
        ("t_paid", "float"),
        ("t_abandon", "float"),
        ("status", "str"),
        ("origin", "int"),
        ("destination", "int"),
        ("distance_m", "float"),
        ("fare_fen", "int?"),
        ("rail", "str"),
        ("payment_failed", "int?"),
        ("tip_fen", "int"),
        ("fee_fen", "int?"),
        ("rider_subsidy_fen", "int?"),
        ("driver_subsidy_fen", "int?"),
        ("deadhead_m", "float"),
        ("free_ride", "int?"),
    ),
)
COMPLETED_FIELDS = tuple(c for c in RIDES.columns if c != "t_abandon")
"""The columns ``completed_row`` fills, in order; ``free_ride`` is last (``RideLog``
rewrites it for a lottery's winners)."""


def completed_row(
    ride: Ride,
    t_paid: float,
    platform: str,
    rail: str,
    fare: int,
    tip: int,
    fee: int,
    rider_sub: int,
    driver_sub: int,
) -> Row:
    """A completed ride: the columns of ``COMPLETED_FIELDS``; its money as the cashier
    booked it (fen), its platform and rail by name."""
    return (
        ride.id,
        ride.rider,
        ride.driver,
        CHANNEL_NAMES[ride.channel],
        platform,
        ride.t_request,
        ride.t_match,
        ride.t_pickup,
        ride.t_dropoff,
        t_paid,
        "completed",
        ride.origin,
        ride.dest,
        ride.dist_m,
        fare,
        rail,
        int(ride.failed),
        tip,
        fee,
        rider_sub,
        driver_sub,
        ride.deadhead_m,
        0,
    )


ABANDONED_FIELDS = (
    "ride_id",
    "rider_id",
    "channel",
    "platform",
    "t_request",
    "t_abandon",
    "status",
    "origin",
    "destination",
    "tip_fen",
)


def abandoned_row(ride: Ride, t_abandon: float, platform: str) -> Row:
    """A ride its rider gave up on (or the channel did): the columns of
    ``ABANDONED_FIELDS``."""
    return (
        ride.id,
        ride.rider,
        CHANNEL_NAMES[ride.channel],
        platform,
        ride.t_request,
        t_abandon,
        "abandoned",
        ride.origin,
        ride.dest,
        ride.tip_fen,
    )


def open_row(ride: Ride, platform: str, matched: bool) -> list[object]:
    """A ride still waiting (or riding, when ``matched``) at the end: every column, None
    where blank."""
    return [
        ride.id,
        ride.rider,
        ride.driver if matched else None,
        CHANNEL_NAMES[ride.channel],
        platform,
        ride.t_request,
        ride.t_match if matched else None,
        None,
        None,
        None,
        None,
        "open",
        ride.origin,
        ride.dest,
        None,
        None,
        None,
        None,
        ride.tip_fen,
        None,
        None,
        None,
        ride.deadhead_m if matched else None,
        None,
    ]


# ---- timeseries.csv: the fleet by state, every few minutes ----------------------------

STATE_COLUMNS = tuple(s.name.lower() for s in DriverState)
TIMESERIES = _table(
    "timeseries",
    (
        ("t", "float"),
        ("time", "str"),
        *((s, "int") for s in STATE_COLUMNS),
        ("waiting_riders", "int"),
    ),
)


def timeseries_row(t: float, time: str, drivers_by_state: list[int], waiting_riders: int) -> Row:
    """A sample: run seconds, local time, drivers in each ``DriverState`` (in its order)
    and riders waiting."""
    if len(drivers_by_state) != len(STATE_COLUMNS):
        raise ValueError(f"{len(drivers_by_state)} driver counts for {len(STATE_COLUMNS)} states")
    return (t, time, *drivers_by_state, waiting_riders)


# ---- daily.csv: one row per day and rail ----------------------------------------------

DAILY = _table(
    "daily",
    (
        ("day", "int"),
        ("date", "str"),
        ("rail", "str"),
        ("riders_installed_share", "float"),
        ("riders_bound_share", "float"),
        ("riders_active_share", "float"),
        ("drivers_accepting_share", "float"),
        ("rides_paid", "int"),
        ("ride_share", "float"),
        ("subsidy_rider_yuan", "float"),
        ("subsidy_driver_yuan", "float"),
        ("free_rides", "int"),
        ("free_ride_yuan", "float"),
        ("unsettled_yuan", "float"),
        ("linked_app_ride_share", "float"),
    ),
)


def daily_row(
    *,
    day: int,
    date: str,
    rail: str,
    riders_installed_share: float,
    riders_bound_share: float,
    riders_active_share: float,
    drivers_accepting_share: float,
    rides_paid: int,
    ride_share: float,
    subsidy_rider_yuan: float,
    subsidy_driver_yuan: float,
    free_rides: int,
    free_ride_yuan: float,
    unsettled_yuan: float,
    linked_app_ride_share: float | str,
) -> Row:
    """A day's row for one rail; keyword-only, each argument named as its column (a few
    rows a day, so the names cost nothing)."""
    return (
        day,
        date,
        rail,
        riders_installed_share,
        riders_bound_share,
        riders_active_share,
        drivers_accepting_share,
        rides_paid,
        ride_share,
        subsidy_rider_yuan,
        subsidy_driver_yuan,
        free_rides,
        free_ride_yuan,
        unsettled_yuan,
        linked_app_ride_share,
    )


# ---- demand.csv: one row per day -------------------------------------------------------

DEMAND = _table(
    "demand",
    (
        ("day", "int"),
        ("date", "str"),
        ("potential_trips", "int"),
        ("requests", "int"),
        ("take_share", "float"),
        ("street_hails", "int"),
        ("app_orders", "int"),
        ("prebooked", "int"),
        ("completed", "int"),
        ("abandoned", "int"),
    ),
)


def demand_row(
    *,
    day: int,
    date: str,
    potential_trips: int,
    requests: int,
    take_share: float | str,
    street_hails: int,
    app_orders: int,
    prebooked: int,
    completed: int,
    abandoned: int,
) -> Row:
    """A day's trips: weighed by riders, requested (on the street or through an app),
    matched by a favourite driver, completed, abandoned (full-city counts)."""
    return (
        day,
        date,
        potential_trips,
        requests,
        take_share,
        street_hails,
        app_orders,
        prebooked,
        completed,
        abandoned,
    )


# ---- platforms.csv: one row per day and app platform ----------------------------------

PLATFORMS = _table(
    "platforms",
    (
        ("day", "int"),
        ("date", "str"),
        ("platform", "str"),
        ("orders", "int"),
        ("order_share", "float"),
        ("matched", "int"),
        ("completed", "int"),
        ("abandoned", "int"),
        ("riders_installed_share", "float"),
        ("riders_used", "int"),
        ("drivers_running_share", "float"),
        ("drivers_running", "int"),
        ("subsidy_rider_yuan", "float"),
        ("subsidy_driver_yuan", "float"),
        ("subsidy_per_completed_yuan", "float"),
    ),
)


def platform_row(
    *,
    day: int,
    date: str,
    platform: str,
    orders: int,
    order_share: float | str,
    matched: int,
    completed: int,
    abandoned: int,
    riders_installed_share: float,
    riders_used: int,
    drivers_running_share: float,
    drivers_running: int,
    subsidy_rider_yuan: float,
    subsidy_driver_yuan: float,
    subsidy_per_completed_yuan: float | str,
) -> Row:
    """A day of one app: its orders and their fate, who has it and who used or ran it, and
    the subsidies paid on its rides (full-city counts and yuan)."""
    return (
        day,
        date,
        platform,
        orders,
        order_share,
        matched,
        completed,
        abandoned,
        riders_installed_share,
        riders_used,
        drivers_running_share,
        drivers_running,
        subsidy_rider_yuan,
        subsidy_driver_yuan,
        subsidy_per_completed_yuan,
    )


# ---- ledger_daily.csv and ledger.csv: the money book ----------------------------------

Account = tuple[str, str, str]  # kind, rail, policy (sim.money.ledger)

LEDGER_DAILY = _table(
    "ledger_daily",
    (
        ("day", "int"),
        ("account", "str"),
        ("rail", "str"),
        ("policy", "str"),
        ("entry", "str"),
        ("amount_fen", "int"),
    ),
)


def ledger_daily_row(day: int, account: Account, entry: str, amount_fen: int) -> Row:
    """An account's net flow of one entry kind over a day."""
    kind, rail, policy = account
    return (day, kind, rail, policy, entry, amount_fen)


LEDGER = _table(
    "ledger",
    (
        ("t", "float"),
        ("ride_id", "int"),
        ("entry", "str"),
        ("from_account", "str"),
        ("from_rail", "str"),
        ("from_policy", "str"),
        ("to_account", "str"),
        ("to_rail", "str"),
        ("to_policy", "str"),
        ("amount_fen", "int"),
    ),
)


def ledger_row(
    t: float, ride_id: int, entry: str, source: Account, target: Account, amount_fen: int
) -> Row:
    """One journal entry: money moved from ``source`` to ``target`` (times to the ms)."""
    return (round(t, 3), ride_id, entry, *source, *target, amount_fen)


TABLES = {t.name: t for t in (RIDES, TIMESERIES, DAILY, DEMAND, PLATFORMS, LEDGER_DAILY, LEDGER)}
