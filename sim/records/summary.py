"""The figures of ``summary.json``, computed from a finished run's records and book."""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.money import ledger as L
from sim.records.run import RunRecord
from sim.records.tables import Row


def summarize(w: RunRecord) -> dict[str, Any]:
    """Headline figures of a run; counts are scaled back to the full city by the sample."""
    st = w.stats
    sample = w.scenario.population.sample
    scale = 1.0 / sample
    paid_total = sum(w.paid_by_rail)
    on_shift_s = _on_shift_seconds(w)
    busy_s = st.busy.total()
    return {
        "scenario": w.scenario.name,
        "seed": w.scenario.seed,
        "sample": sample,
        "simulated_days": round(w.scenario.duration_s / 86400, 4),
        "simulated_drivers": w.fleet.n,
        "simulated_riders": w.n_riders,
        "requests": round(st.requests * scale),
        "completed": round(st.completed * scale),
        "abandoned": round(st.abandoned * scale),
        "open_at_end": round(st.open * scale),
        "completed_share": _share(st.completed, st.requests),
        "abandoned_share": _share(st.abandoned, st.requests),
        "pickup_wait_s": st.wait.describe(),
        "match_wait_s": {
            **st.match_wait.describe(),
            "p_wait": _share(st.match_wait.positive(), len(st.match_wait)),
        },
        "pickup_s": st.pickup.describe(),
        "busy_s_per_ride": st.busy.describe(),
        "utilization": round(busy_s / on_shift_s, 6) if on_shift_s else None,
        "cruise_km": round(st.cruise_m * scale / 1000, 1),
        "payment_share": {
            r: _share(n, paid_total) for r, n in zip(w.rails, w.paid_by_rail, strict=True)
        },
        "payment_failures": round(w.failed_payments * scale),
        "dispatch": {c.name: c.summary(scale, on_shift_s) for c in w.channels},
        "money": _money(w, scale),
        "demand": demand_summary(w.demand),
        "platforms": platform_summary(w.platforms),
        "adoption": adoption_summary(w.daily, w.rails),
        "events": w.events,
        "wall_s": round(w.wall_s, 3),
    }


def adoption_summary(rows: list[Row], rails: list[str]) -> dict[str, Any]:
    """Final adoption per mobile rail and side, and a Bass fit of each daily curve."""
    from sim.analysis.fits import fit_bass
    from sim.records.daybook import DAILY_COLUMNS

    col = {c: i for i, c in enumerate(DAILY_COLUMNS)}
    curves = {
        "riders_bound": "riders_bound_share",
        "riders_active": "riders_active_share",
        "drivers_accepting": "drivers_accepting_share",
    }
    final: dict[str, float] = {}
    fits: dict[str, dict[str, Any]] = {}
    for rail in rails[1:]:
        mine = [r for r in rows if r[col["rail"]] == rail]
        if not mine:
            continue
        days = np.array([r[col["day"]] for r in mine], dtype=float)
        for name, key in curves.items():
            y = np.array([r[col[key]] for r in mine], dtype=float)
            final[f"{rail}.{name}"] = round(float(y[-1]), 6)
            if name != "riders_active" and len(y) >= 5:
                fit = fit_bass(days + 1, y)
                fits[f"{rail}.{name}"] = {
                    k: (round(v, 6) if isinstance(v, float) else v) for k, v in fit.items()
                }
    return {"final": final, "bass_fit": fits}


def demand_summary(rows: list[tuple]) -> dict[str, Any]:
    """Trips over the run: weighed, requested, on the street or by app (full-city counts)."""
    from sim.records.tables import DEMAND

    col = {c: i for i, c in enumerate(DEMAND.columns)}
    total = {
        k: sum(int(r[col[k]]) for r in rows)
        for k in ("potential_trips", "requests", "street_hails", "app_orders", "prebooked")
    }
    return {
        **total,
        "take_share": _share(total["requests"], total["potential_trips"]),
        "app_order_share": _share(total["app_orders"], total["requests"]),
    }


def platform_summary(rows: list[tuple]) -> dict[str, Any]:
    """Per app over the run: orders and their share, completions, subsidies, and who had or
    ran it at the end."""
    from sim.records.tables import PLATFORMS

    col = {c: i for i, c in enumerate(PLATFORMS.columns)}
    names = list(dict.fromkeys(r[col["platform"]] for r in rows))
    all_orders = sum(int(r[col["orders"]]) for r in rows)
    out: dict[str, Any] = {}
    for name in names:
        mine = [r for r in rows if r[col["platform"]] == name]

        def total(key: str, mine: list[tuple] = mine) -> float:
            return sum(float(r[col[key]]) for r in mine)

        subsidy = total("subsidy_rider_yuan") + total("subsidy_driver_yuan")
        completed = int(total("completed"))
        out[name] = {
            "orders": int(total("orders")),
            "order_share": _share(total("orders"), all_orders),
            "completed": completed,
            "subsidy_rider_yuan": round(total("subsidy_rider_yuan"), 2),
            "subsidy_driver_yuan": round(total("subsidy_driver_yuan"), 2),
            "subsidy_per_completed_yuan": round(subsidy / completed, 4) if completed else None,
            "riders_installed_share": mine[-1][col["riders_installed_share"]],
            "drivers_running_share": mine[-1][col["drivers_running_share"]],
        }
    return out


def _share(a: float, b: float) -> float | None:
    return round(a / b, 6) if b else None


def _on_shift_seconds(w: RunRecord) -> float:
    """Driver-seconds on duty, from the shift windows clipped to the run."""
    from sim.market.fleet import shift_windows

    total = 0.0
    for i, sh in enumerate(w.fleet.shifts):
        members = w.fleet.shift_of.count(i)
        windows = shift_windows(sh.start_hour, sh.hours, w.scenario.start, w.scenario.duration_s)
        total += members * sum(b - a for a, b in windows)
    return total


def _money(w: RunRecord, scale: float) -> dict[str, Any]:
    led = w.ledger
    yuan = lambda fen: round(fen * scale / 100, 2)  # noqa: E731
    by_policy = {}
    for p in w.book.policies:
        spent = -led.total(L.SUBSIDY, policy=p.id)
        by_policy[p.id] = {
            "rail": p.spec.rail,
            "side": p.spec.side,
            "spent_yuan": yuan(spent),
            "rides_paid": round(p.paid_rides * scale),
            "free_rides": round(p.free_rides * scale),
        }
    mobile_rides = sum(n for r, n in zip(w.rails, w.paid_by_rail, strict=True) if r != "cash")
    spent_total = -led.total(L.SUBSIDY)
    return {
        "fares_yuan": yuan(sum(w.fare_by_rail)),
        "fares_by_rail_yuan": {r: yuan(f) for r, f in zip(w.rails, w.fare_by_rail, strict=True)},
        "fees_yuan": {r: yuan(led.total(L.FEE, rail=r)) for r in w.rails},
        "subsidy_by_policy": by_policy,
        "subsidy_by_side_yuan": {
            side: round(sum(v["spent_yuan"] for v in by_policy.values() if v["side"] == side), 2)
            for side in ("rider", "driver")
        },
        "subsidy_total_yuan": yuan(spent_total),
        "subsidy_per_mobile_ride_yuan": round(spent_total / mobile_rides / 100, 4)
        if mobile_rides
        else None,
        "driver_income_settled_yuan": yuan(led.total(L.DRIVER)),
        "driver_income_unsettled_yuan": yuan(led.total(L.DRIVER_PENDING)),
        "ledger_entries": led.entries,
    }


def renamed_metric(name: str, known: set[str] | None = None) -> str | None:
    """The new name of a metric of an older ``summary.json``: ``wait_s`` said neither where
    a wait ends, so request to pickup is ``pickup_wait_s`` at the top and request to match
    is ``match_wait_s`` in each ``dispatch`` channel. None for any other name (or when the
    new name is not in ``known``)."""
    parts = name.split(".")
    if parts[0] == "wait_s":
        new = ".".join(["pickup_wait_s", *parts[1:]])
    elif len(parts) > 2 and parts[0] == "dispatch" and parts[2] == "wait_s":
        new = ".".join([*parts[:2], "match_wait_s", *parts[3:]])
    else:
        return None
    return new if known is None or new in known else None


# Not metrics of a sweep: the seed has its own column; wall time differs between machines.
NOT_METRICS = frozenset({"seed", "wall_s"})


def flatten(summary: dict[str, Any], prefix: str = "") -> dict[str, float | int | None]:
    """Numeric leaves of a summary under dotted names (``pickup_wait_s.mean``); strings
    dropped."""
    out: dict[str, float | int | None] = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if not prefix and key in NOT_METRICS:
            continue
        if isinstance(value, dict):
            out.update(flatten(value, name + "."))
        elif value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
            out[name] = value
    return out
