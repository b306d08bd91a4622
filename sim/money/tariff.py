"""The regulated taxi fare: what the meter shows, plus the flat charges, in integer fen.

One owner of the fare. The components and their sources are the fields of
``sim.scenario.money.Tariff`` (Beijing's tariff from 2013-06-10 by default). The meter
part (flag fall, per-km rate with its night and empty-return surcharges, low-speed time)
is rounded half up to the whole yuan, as Beijing meters show it; the fuel surcharge and
the booking fee are whole amounts added after, not metered.

Exact: the trip's metres are taken to the whole metre (as ``rides.csv`` reports them) and
its low-speed time to the whole second; from there every step is integer arithmetic on one
common denominator, so no fare drifts by a fen whatever the chunk or the order of terms.
Night and peak are decided by the local time of the request: the fare a rider weighs when
she hails, and one rule for the whole trip (a meter switches at 23:00 mid-ride; the
simulator does not follow a trip through the clock).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike

from sim.core.state import APP, PREBOOK, STREET
from sim.scenario.money import Tariff

_S_PER_5MIN = 300
_BP = 10_000  # basis points: surcharges are fractions of the per-km rate
_M_PER_KM = 1000
# Meter amounts are counted in fen / _UNIT, exact for every term below.
_UNIT = _S_PER_5MIN * _BP * _M_PER_KM
_CHANNEL_CODES = {"app": APP, "prebook": PREBOOK}


def _fen(yuan: float) -> int:
    return round(yuan * 100)


def _in_window(hour: np.ndarray, window: list[float]) -> np.ndarray:
    """Whether each local ``hour`` lies in [from, to), a window that may wrap midnight."""
    a, b = window
    if a < b:
        return (hour >= a) & (hour < b)
    return (hour >= a) | (hour < b)


def local_hours(t_s: ArrayLike, start: datetime) -> np.ndarray:
    """Local hour of the day (a float in [0, 24)) of each time ``t_s`` seconds after
    ``start``, counted in whole seconds so it does not depend on float rounding."""
    t = np.floor(np.asarray(t_s, dtype=np.float64)).astype(np.int64)
    sod = start.hour * 3600 + start.minute * 60 + start.second
    return ((sod + t) % 86400) / 3600.0


def _may_overflow(metres: np.ndarray, secs: np.ndarray, tariff: Tariff) -> bool:
    """Whether a term of the fare could leave int64 (only for absurd trips or tariffs)."""
    surcharges = 1 + tariff.night_per_km_surcharge + tariff.empty_return_surcharge
    rate = _fen(tariff.per_km_yuan) * _BP * surcharges
    slow_m = max(tariff.slow_km_per_5min, tariff.slow_km_per_5min_peak) * _M_PER_KM
    worst = rate * max(float(metres.max()) * _S_PER_5MIN, float(secs.max()) * slow_m)
    return worst > 2.0**61


def fares_fen(
    dist_m: ArrayLike,
    ride_s: ArrayLike,
    tariff: Tariff,
    t_s: ArrayLike,
    start: datetime,
    channel: ArrayLike | None = None,
    prebook: ArrayLike | None = None,
) -> list[int]:
    """Regulated fares of a chunk of trips, in fen (Python ints).

    ``dist_m`` and ``ride_s`` are each trip's metres and seconds on board, ``t_s`` the
    request times in seconds after ``start`` (local). ``channel`` (codes of
    ``sim.core.state``, street if not given) and ``prebook`` (she first calls her favourite
    driver: she books him, not the app) decide the booking fee.
    """
    metres = np.rint(np.asarray(dist_m, dtype=np.float64)).astype(np.int64)
    secs = np.asarray(ride_s, dtype=np.float64)
    n = len(metres)
    # Python ints, exact at any size but slower, where int64 might not hold a term.
    exact = object if n and _may_overflow(metres, secs, tariff) else np.int64
    hour = local_hours(t_s, start)
    night = _in_window(hour, [tariff.night_from_h, tariff.night_to_h])
    peak = np.zeros(n, dtype=bool)
    for window in tariff.peaks_h:
        peak |= _in_window(hour, window)

    per_km = _fen(tariff.per_km_yuan)
    rate_bp = _BP + np.where(night, round(tariff.night_per_km_surcharge * _BP), 0)
    flag = np.where(night, _fen(tariff.night_flag_fall_yuan), _fen(tariff.flag_fall_yuan))
    beyond_m = np.maximum(0, metres - round(tariff.flag_fall_km * _M_PER_KM)).astype(exact)
    far_m = np.maximum(0, metres - round(tariff.empty_return_km * _M_PER_KM)).astype(exact)
    # Units of fen / _UNIT: metres x fen/km x basis points x seconds per 5 minutes. The
    # night and empty-return surcharges are each a share of the basic per-km rate (the
    # notice's wording), so they add: 2.3 x (1 + 0.2 + 0.5) yuan/km beyond 15 km at night.
    meter = flag.astype(exact) * _UNIT + beyond_m * per_km * rate_bp * _S_PER_5MIN
    meter += far_m * per_km * round(tariff.empty_return_surcharge * _BP) * _S_PER_5MIN
    if tariff.slow_kph > 0:
        # Seconds beyond those the distance takes at slow_kph: time below the threshold.
        slow_s = np.floor(np.fmax(0.0, secs - metres * 3.6 / tariff.slow_kph))
        slow_s = slow_s.astype(np.int64).astype(exact)
        slow_m = np.where(
            peak,
            round(tariff.slow_km_per_5min_peak * _M_PER_KM),
            round(tariff.slow_km_per_5min * _M_PER_KM),
        )
        # seconds x metres-per-5-min x fen/km x bp: the same units as the distance terms.
        meter += slow_s * slow_m * per_km * rate_bp
    yuan = (meter + 50 * _UNIT) // (100 * _UNIT)  # half up to the whole yuan
    fen = yuan * 100 + _fen(tariff.fuel_surcharge_yuan)
    if tariff.booking_fee_channels and channel is not None:
        booked = np.asarray(channel)
        if prebook is not None:
            booked = np.where(np.asarray(prebook, dtype=bool), PREBOOK, booked)
        codes = [_CHANNEL_CODES[c] for c in tariff.booking_fee_channels]
        fen += np.where(np.isin(booked, codes), _fen(tariff.booking_fee_yuan), 0)
    return fen.tolist()


def fare_fen(
    dist_m: float,
    ride_s: float,
    tariff: Tariff,
    t_s: float,
    start: datetime,
    channel: int = STREET,
    prebook: bool = False,
) -> int:
    """The regulated fare of one trip (see ``fares_fen``)."""
    return fares_fen([dist_m], [ride_s], tariff, [t_s], start, [channel], [prebook])[0]
