"""Every row builder puts each of its fields in its own column, in CSV and in parquet.

Each field gets a distinct sentinel; a builder that swapped two fields (even two of one
type) would put a sentinel under the wrong name. The rows go through the real writers
(``RideLog``, ``write_tables``, ``tables_to_parquet``) and are read back by name.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from sim.core.ride import Ride
from sim.core.state import PREBOOK
from sim.io import files as io
from sim.money.ledger import Ledger
from sim.records import tables as T
from sim.records.ridelog import RideLog

BLANK = None


def sentinel_ride() -> Ride:
    ride = Ride(1001, 2001.125, 1002, PREBOOK, 1003, True, 1004, 1005, 1006.0, 3001.0, 1007.0, 1008)
    ride.driver = 1009
    ride.t_match = 2002.25
    ride.t_pickup = 2003.375
    ride.t_dropoff = 2004.5
    ride.deadhead_m = 3002.0
    ride.failed = True
    ride.tip_fen = 1010
    return ride


def completed_expected() -> dict[str, object]:
    return {
        "ride_id": 1001,
        "rider_id": 1002,
        "driver_id": 1009,
        "channel": "prebook",
        "platform": "plat_x",
        "t_request": 2001.125,
        "t_match": 2002.25,
        "t_pickup": 2003.375,
        "t_dropoff": 2004.5,
        "t_paid": 2005.625,
        "t_abandon": BLANK,
        "status": "completed",
        "origin": 1004,
        "destination": 1005,
        "distance_m": 3001.0,
        "fare_fen": 1011,
        "rail": "rail_x",
        "payment_failed": 1,
        "tip_fen": 1012,
        "fee_fen": 1013,
        "rider_subsidy_fen": 1014,
        "driver_subsidy_fen": 1015,
        "deadhead_m": 3002.0,
        "free_ride": 0,
    }


def abandoned_expected() -> dict[str, object]:
    out = dict.fromkeys(T.RIDES.columns, BLANK)
    out.update(
        ride_id=1001,
        rider_id=1002,
        channel="prebook",
        platform="plat_y",
        t_request=2001.125,
        t_abandon=2006.75,
        status="abandoned",
        origin=1004,
        destination=1005,
        tip_fen=1010,
    )
    return out


def open_expected(matched: bool) -> dict[str, object]:
    out = dict.fromkeys(T.RIDES.columns, BLANK)
    out.update(
        ride_id=1001,
        rider_id=1002,
        channel="prebook",
        platform="plat_z",
        t_request=2001.125,
        status="open",
        origin=1004,
        destination=1005,
        tip_fen=1010,
    )
    if matched:
        out.update(driver_id=1009, t_match=2002.25, deadhead_m=3002.0)
    return out


def read_back(folder: Path, name: str, parquet: bool) -> list[dict[str, object]]:
    if parquet:
        io.tables_to_parquet(folder, (name,))
        assert (folder / f"{name}.parquet").exists() and not (folder / f"{name}.csv").exists()
    cols = io.read_columns(folder, name)
    assert tuple(cols) == T.TABLES[name].columns
    n = len(next(iter(cols.values())))
    return [{c: v[i].item() for c, v in cols.items()} for i in range(n)]


def same(value: object, expected: object) -> bool:
    if expected is BLANK:
        return value == "" or (isinstance(value, float) and math.isnan(value))
    return value == expected


def check_row(row: dict[str, object], expected: dict[str, object]) -> None:
    assert set(expected) == set(row)
    wrong = {c: (row[c], expected[c]) for c in expected if not same(row[c], expected[c])}
    assert not wrong, wrong


def distinct(*expected: dict[str, object]) -> None:
    """The sentinels of one row differ from each other (constants and blanks aside)."""
    for e in expected:
        values = [v for c, v in e.items() if v is not BLANK and c not in ("status", "free_ride")]
        assert len(values) == len({repr(v) for v in values})


@pytest.mark.parametrize("parquet", [False, True])
def test_ride_builders_put_every_field_in_its_column(tmp_path: Path, parquet: bool) -> None:
    distinct(completed_expected(), abandoned_expected(), open_expected(True))
    ride = sentinel_ride()
    log = RideLog(tmp_path / "rides.csv")
    log.completed(T.completed_row(ride, 2005.625, "plat_x", "rail_x", 1011, 1012, 1013, 1014, 1015))
    log.abandoned(T.abandoned_row(ride, 2006.75, "plat_y"))
    log.add(T.open_row(ride, "plat_z", matched=True))
    log.add(T.open_row(ride, "plat_z", matched=False))
    log.close()
    rows = read_back(tmp_path, "rides", parquet)
    expected = [completed_expected(), abandoned_expected(), open_expected(True)]
    expected.append(open_expected(False))
    assert len(rows) == len(expected)
    for row, exp in zip(rows, expected, strict=True):
        check_row(row, exp)


def test_a_lottery_winner_is_marked_in_free_ride(tmp_path: Path) -> None:
    log = RideLog(tmp_path / "rides.csv", hold=True)
    log.completed(T.completed_row(sentinel_ride(), 2005.625, "", "rail_x", 1, 2, 3, 4, 5), True)
    log.mark_free(1001)
    log.close()
    (row,) = read_back(tmp_path, "rides", parquet=False)
    assert row["free_ride"] == 1 and row["fare_fen"] == 1


def tables_dir(tmp_path: Path) -> Path:
    """timeseries, daily, ledger_daily and ledger with sentinel rows, via ``write_tables``."""
    timeseries = [T.timeseries_row(2007.5, "time_x", [101, 102, 103, 104, 105], 106)]
    daily = [
        T.daily_row(
            day=201,
            date="date_x",
            rail="rail_x",
            riders_installed_share=0.125,
            riders_bound_share=0.25,
            riders_active_share=0.375,
            drivers_accepting_share=0.5,
            rides_paid=202,
            ride_share=0.625,
            subsidy_rider_yuan=203.5,
            subsidy_driver_yuan=204.5,
            free_rides=205,
            free_ride_yuan=206.5,
            unsettled_yuan=207.5,
            linked_app_ride_share=0.875,
        )
    ]
    ledger = Ledger(keep_journal=True)
    src = ledger.account("acc_a", "rail_a", "pol_a")
    dst = ledger.account("acc_b", "rail_b", "pol_b")
    ledger.post(2008.25, 301, "rider_subsidy", src, dst, 302, ride=303)
    demand = [
        T.demand_row(
            day=401,
            date="date_d",
            potential_trips=402,
            requests=403,
            take_share=0.125,
            street_hails=404,
            app_orders=405,
            prebooked=406,
            completed=407,
            abandoned=408,
        )
    ]
    platforms = [
        T.platform_row(
            day=501,
            date="date_p",
            platform="app_p",
            orders=502,
            order_share=0.25,
            matched=503,
            completed=504,
            abandoned=505,
            riders_installed_share=0.375,
            riders_used=506,
            drivers_running_share=0.5,
            drivers_running=507,
            subsidy_rider_yuan=508.5,
            subsidy_driver_yuan=509.5,
            subsidy_per_completed_yuan=0.625,
        )
    ]
    io.write_tables(tmp_path, timeseries, daily, demand, platforms, ledger)
    return tmp_path


@pytest.mark.parametrize("parquet", [False, True])
def test_table_builders_put_every_field_in_its_column(tmp_path: Path, parquet: bool) -> None:
    folder = tables_dir(tmp_path)
    (ts,) = read_back(folder, "timeseries", parquet)
    check_row(
        ts,
        {
            "t": 2007.5,
            "time": "time_x",
            "off": 101,
            "idle": 102,
            "en_route": 103,
            "on_trip": 104,
            "paying": 105,
            "waiting_riders": 106,
        },
    )
    (day,) = read_back(folder, "daily", parquet)
    check_row(
        day,
        {
            "day": 201,
            "date": "date_x",
            "rail": "rail_x",
            "riders_installed_share": 0.125,
            "riders_bound_share": 0.25,
            "riders_active_share": 0.375,
            "drivers_accepting_share": 0.5,
            "rides_paid": 202,
            "ride_share": 0.625,
            "subsidy_rider_yuan": 203.5,
            "subsidy_driver_yuan": 204.5,
            "free_rides": 205,
            "free_ride_yuan": 206.5,
            "unsettled_yuan": 207.5,
            "linked_app_ride_share": 0.875,
        },
    )
    (demand,) = read_back(folder, "demand", parquet)
    check_row(
        demand,
        {
            "day": 401,
            "date": "date_d",
            "potential_trips": 402,
            "requests": 403,
            "take_share": 0.125,
            "street_hails": 404,
            "app_orders": 405,
            "prebooked": 406,
            "completed": 407,
            "abandoned": 408,
        },
    )
    (platform,) = read_back(folder, "platforms", parquet)
    check_row(
        platform,
        {
            "day": 501,
            "date": "date_p",
            "platform": "app_p",
            "orders": 502,
            "order_share": 0.25,
            "matched": 503,
            "completed": 504,
            "abandoned": 505,
            "riders_installed_share": 0.375,
            "riders_used": 506,
            "drivers_running_share": 0.5,
            "drivers_running": 507,
            "subsidy_rider_yuan": 508.5,
            "subsidy_driver_yuan": 509.5,
            "subsidy_per_completed_yuan": 0.625,
        },
    )
    flows = read_back(folder, "ledger_daily", parquet)
    inflow = [r for r in flows if r["amount_fen"] > 0]
    assert len(flows) == 2 and len(inflow) == 1
    check_row(
        inflow[0],
        {
            "day": 301,
            "account": "acc_b",
            "rail": "rail_b",
            "policy": "pol_b",
            "entry": "rider_subsidy",
            "amount_fen": 302,
        },
    )
    (entry,) = read_back(folder, "ledger", parquet)
    check_row(
        entry,
        {
            "t": 2008.25,
            "ride_id": 303,
            "entry": "rider_subsidy",
            "from_account": "acc_a",
            "from_rail": "rail_a",
            "from_policy": "pol_a",
            "to_account": "acc_b",
            "to_rail": "rail_b",
            "to_policy": "pol_b",
            "amount_fen": 302,
        },
    )


def test_every_table_is_declared_once_with_known_kinds() -> None:
    assert set(T.TABLES) == {
        "rides",
        "timeseries",
        "daily",
        "demand",
        "platforms",
        "ledger_daily",
        "ledger",
    }
    assert {name: t.kinds for name, t in T.TABLES.items()} == io.SCHEMAS
    assert set(T.COMPLETED_FIELDS) | {"t_abandon"} == set(T.RIDES.columns)
    assert set(T.ABANDONED_FIELDS) <= set(T.RIDES.columns)
    with pytest.raises(ValueError, match="driver counts"):
        T.timeseries_row(0.0, "", [1, 2], 0)
