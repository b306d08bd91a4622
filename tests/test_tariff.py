"""The regulated fare: Beijing's 2013 tariff, hand-computed to the fen, component by
component, and through the engine."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim
from sim.core.state import APP, PREBOOK, STREET
from sim.errors import ScenarioError
from sim.money.tariff import fare_fen, fares_fen, local_hours
from sim.scenario.money import Tariff
from tests.conftest import small

DAY0 = datetime(2013, 12, 2)  # a Monday, midnight
H = 3600.0
BEIJING = Tariff()


def fare(dist_m: float, ride_s: float, at_h: float, tariff: Tariff = BEIJING, **kw) -> int:
    return fare_fen(dist_m, ride_s, tariff, at_h * H, DAY0, **kw)


def off(**fields) -> Tariff:
    return Tariff(**fields)


# 10 km in 15 minutes is faster than 12 km/h: no low-speed time. 10 km in an hour is
# 600 s beyond the 3000 s that 10 km take at 12 km/h: two blocks of 5 minutes.
@pytest.mark.parametrize(
    ("dist_m", "ride_s", "at_h", "fen"),
    [
        (2_500, 400, 10, 1300 + 100),  # inside the flag fall, plus the 1 yuan fuel surcharge
        (3_000, 400, 10, 1300 + 100),  # exactly the flag-fall distance
        (10_000, 900, 10, 2900 + 100),  # 13 + 7 x 2.3 = 29.1 -> 29
        (10_000, 3600, 10, 3400 + 100),  # + 2 x 1 km x 2.3 off-peak = 33.7 -> 34
        (10_000, 3600, 8, 3800 + 100),  # + 2 x 2 km x 2.3 in the morning peak = 38.3 -> 38
        (10_000, 3600, 17.5, 3800 + 100),  # evening peak
        (10_000, 3600, 19, 3400 + 100),  # 19:00 is past the evening peak
        (10_000, 900, 23.5, 3300 + 100),  # night: 14 + 7 x 2.76 = 33.32 -> 33
        (10_000, 3600, 23.5, 3900 + 100),  # night low speed at 2.76: 33.32 + 5.52 -> 39
        (10_000, 900, 4.99, 3300 + 100),  # still night before 05:00
        (10_000, 900, 5, 2900 + 100),  # day from 05:00
        (20_000, 1200, 10, 5800 + 100),  # 13 + 17 x 2.3 + 5 x 1.15 = 57.85 -> 58
        (20_000, 1200, 23.5, 6700 + 100),  # 14 + 17 x 2.76 + 5 x 1.15 = 66.67 -> 67
        (15_000, 1200, 10, 4100 + 100),  # 13 + 12 x 2.3 = 40.6: the empty-return surcharge
        # starts beyond 15 km, not at it
    ],
)
def test_beijing_2013_fares_by_hand(dist_m, ride_s, at_h, fen):
    assert fare(dist_m, ride_s, at_h) == fen


def test_meter_rounds_half_up_to_the_whole_yuan_exactly():
    # 13 + 5 x 2.3 = 24.5 exactly: half up gives 25 (not 24 as half to even would).
    assert fare(8_000, 600, 10) == 2500 + 100
    assert fare(7_999, 600, 10) == 2400 + 100  # 24.4977 -> 24
    # 45 km at the empty-return rate beyond 15 km: 13 + 45 x 2.3 + 33 x 1.15 = 154.45 -> 154;
    # without it 13 + 45 x 2.3 = 116.5 exactly, which floats make 116.49999999999999 (the
    # float formula of the old meter gave 116): the integer arithmetic does not drift.
    assert fare(48_000, 3600, 10) == 15400 + 100
    assert fare(48_000, 3600, 10, off(empty_return_surcharge=0)) == 11700 + 100
    assert fare(8_000, 600, 10, off(fuel_surcharge_yuan=0)) == 2500
    # Flat charges are whole amounts added after the meter, not rounded with it.
    assert fare(8_000, 600, 10, off(fuel_surcharge_yuan=0.5)) == 2550


def test_a_trip_too_long_for_int64_terms_is_still_exact():
    # 1,000,000 km: 13 + 999,997 x 2.3 + 999,985 x 1.15 = 3,449,988.85 -> 3,449,989 yuan.
    assert fares_fen([10_000, 1e9], [900, 0], BEIJING, [10 * H] * 2, DAY0) == [
        3000,
        344_998_900 + 100,
    ]


def test_low_speed_time_counts_whole_seconds():
    # 3000 s take 10 km at 12 km/h: 299 s more is not yet a block but is charged pro rata
    # (2.3 x 299 / 300 = 2.292), 29.1 + 2.292 = 31.39 -> 31.
    assert fare(10_000, 3299, 10) == 3100 + 100
    assert fare(10_000, 3299.9, 10) == fare(10_000, 3299, 10)


@pytest.mark.parametrize(
    ("fields", "dist_m", "ride_s", "at_h", "fen"),
    [
        ({"fuel_surcharge_yuan": 0}, 10_000, 900, 10, 2900),
        ({"night_per_km_surcharge": 0}, 10_000, 900, 23.5, 3000 + 100),  # 14 + 16.1
        ({"night_flag_fall_yuan": 13}, 10_000, 900, 23.5, 3200 + 100),  # 13 + 19.32
        ({"night_per_km_surcharge": 0, "night_flag_fall_yuan": 13}, 10_000, 900, 23.5, 3000),
        ({"empty_return_surcharge": 0}, 20_000, 1200, 10, 5200 + 100),  # 13 + 39.1
        ({"slow_kph": 0}, 10_000, 3600, 8, 2900 + 100),
        ({"peaks_h": []}, 10_000, 3600, 8, 3400 + 100),  # off-peak rule all day
        ({"slow_km_per_5min_peak": 1}, 10_000, 3600, 8, 3400 + 100),
        ({"night_from_h": 0, "night_to_h": 1}, 10_000, 900, 23.5, 2900 + 100),
    ],
)
def test_each_component_switches_off(fields, dist_m, ride_s, at_h, fen):
    assert fare(dist_m, ride_s, at_h, off(**fields)) == fen


def test_booking_fee_by_channel():
    assert BEIJING.booking_fee_channels == []  # the apps charged no booking fee
    base = fare(10_000, 900, 10)
    for channel in (STREET, APP, PREBOOK):
        assert fare(10_000, 900, 10, channel=channel) == base
    app = off(booking_fee_channels=["app"])
    assert fare(10_000, 900, 10, app, channel=APP) == base + 500
    assert fare(10_000, 900, 10, app, channel=STREET) == base
    # She first calls her favourite driver: she booked him, not the app.
    assert fare(10_000, 900, 10, app, channel=APP, prebook=True) == base
    both = off(booking_fee_channels=["app", "prebook"])
    assert fare(10_000, 900, 10, both, channel=APP, prebook=True) == base + 500
    assert fare(10_000, 900, 10, both, channel=PREBOOK) == base + 500


def test_local_time_runs_from_the_scenario_start_across_midnight():
    start = datetime(2013, 12, 1, 22, 30)
    assert local_hours([0, 1800, 7 * 3600 - 1], start).tolist() == [22.5, 23.0, 5.5 - 1 / 3600]
    day = fare_fen(10_000, 900, BEIJING, 0, start)
    night = fare_fen(10_000, 900, BEIJING, 3600, start)  # 23:30
    assert (day, night) == (3000, 3400)
    assert fare_fen(10_000, 900, BEIJING, 9 * 86400 + 3600, start) == night  # days later


def test_tariff_refuses_amounts_that_are_not_whole_fen_and_empty_windows():
    with pytest.raises(ValueError, match="whole number of fen"):
        Tariff(per_km_yuan=2.345)
    with pytest.raises(ValueError, match="empty"):
        Tariff(peaks_h=[[7, 7]])
    with pytest.raises(ValueError):
        Tariff(booking_fee_channels=["street"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(0, 80_000),
            st.floats(0, 3 * 3600),
            st.floats(0, 3 * 86400),
            st.sampled_from([STREET, APP, PREBOOK]),
            st.booleans(),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_vectorised_and_scalar_fares_agree(trips):
    tariff = off(booking_fee_channels=["app"])
    d, s, t, c, p = (list(x) for x in zip(*trips, strict=True))
    chunk = fares_fen(np.array(d), np.array(s), tariff, np.array(t), DAY0, np.array(c), p)
    one = [fare_fen(a, b, tariff, at, DAY0, ch, pre) for a, b, at, ch, pre in trips]
    assert chunk == one
    assert all(type(f) is int and f >= 1400 for f in chunk)


def test_the_engine_charges_the_regulated_fare(tmp_path):
    """Through ``sim.run``: every fare carries the fuel surcharge, night fares exceed day
    fares for the same distance, and an app booking fee lands on app rides only (with a
    fixed request stream and drivers who take every offer, so that both runs have the same
    rides)."""
    spec = small(
        duration="1d",
        start="2013-12-02T00:00:00",
        riders={"model": "fixed"},
        dispatch={"accept": {"base": 50.0}},
    )
    base = sim.run(spec, tmp_path / "base").table("rides")
    charged = sim.run(
        spec, tmp_path / "fee", overrides=["tariff.booking_fee_channels=[app]"]
    ).table("rides")
    done = base["status"] == "completed"
    fares = base["fare_fen"][done].astype(np.int64)
    assert done.sum() > 1000 and (fares % 100 == 0).all() and fares.min() >= 1400
    hour = (base["t_request"][done] // 3600) % 24
    short = base["distance_m"][done] <= 3000  # flag fall 13 by day, 14 at night, + 1 fuel
    assert fares[short & (hour == 12)].min() == 1400
    assert fares[short & (hour == 2)].min() == 1500
    # The same seed gives the same rides; only app rides (not prebooked) pay 5 yuan more.
    same = (charged["status"] == base["status"]) & done
    assert same.sum() > 0.95 * done.sum()
    extra = (charged["fare_fen"] - base["fare_fen"])[same]
    is_app = (base["channel"] == "app")[same]
    assert set(extra[is_app].tolist()) == {500} and set(extra[~is_app].tolist()) == {0}


def test_riders_weigh_an_app_booking_fee(tmp_path):
    """With riders who answer money, a booking fee on apps sends hails to the street."""
    spec = small(
        duration="1d",
        start="2013-12-02T00:00:00",
        population={"riders_apps": {"didi": 0.6, "kuaidi": 0.6}},
    )
    base = sim.run(spec, tmp_path / "base").summary["demand"]
    fee = sim.run(spec, tmp_path / "fee", overrides=["tariff.booking_fee_channels=[app]"])
    charged = fee.summary["demand"]
    assert charged["app_orders"] < 0.8 * base["app_orders"], (base, charged)
    assert charged["street_hails"] > base["street_hails"]


def test_bad_tariff_in_yaml_is_one_line(tmp_path):
    with pytest.raises(ScenarioError, match="per_km_yuan"):
        sim.run(small(tariff={"per_km_yuan": 2.345}), tmp_path / "r")
