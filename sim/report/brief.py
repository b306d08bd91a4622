"""The words of a report: a headline written from the numbers, figures against a baseline,
plain names for dispatch figures, and flags on Bass fits that should not be read as normal.

Pure functions of ``Run`` objects and summaries, so each sentence can be tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from sim.analysis.fits import M_BOUNDS, P_BOUNDS, Q_BOUNDS
from sim.report.rundir import Run

RETAIN_DAYS = 30  # "still active N days after the stop": the horizon of the incremental cost
RAIL_NAMES = {"cash": "cash", "alipay": "Alipay", "wechat_pay": "WeChat Pay"}


def rail_name(rail: str) -> str:
    return RAIL_NAMES.get(rail, rail.replace("_", " "))


def pct(x: float | None, digits: int = 0) -> str:
    if x is None or not np.isfinite(x):
        return "–"
    return f"{100 * x:.{digits}f}%"


def yuan(x: float | None) -> str:
    """Money for a sentence: 48.3 million yuan, 12,500 yuan, 8.37 yuan."""
    if x is None or not np.isfinite(x):
        return "–"
    if abs(x) >= 1e6:
        return f"{x / 1e6:,.1f} million yuan"
    if abs(x) >= 100:
        return f"{x:,.0f} yuan"
    return f"{x:,.2f} yuan"


def count(x: float) -> str:
    return f"{x:+,.0f}" if x else "0"


def value_on(run: Run, rail: str, key: str, day: date | None = None) -> float | None:
    """``key`` of ``rail`` in the daily table on ``day`` (default: the last day)."""
    rows = run.rail_rows(rail)
    if not rows.any():
        return None
    values = run.daily[key][rows]
    if day is None:
        return float(values[-1])
    dates = run.daily["date"][rows]
    hit = np.nonzero(dates == day.isoformat())[0]
    return float(values[hit[0]]) if len(hit) else None


def last_stop(run: Run) -> datetime | None:
    """When the last subsidy window inside the run closes (None: no subsidy ran)."""
    ends = [w["end"] for w in run.windows()]
    return max(ends) if ends else None


def _leader(run: Run, key: str, day: date | None = None) -> list[tuple[str, float]]:
    shares = [(r, value_on(run, r, key, day)) for r in run.rails]
    return sorted(((r, v) for r, v in shares if v is not None), key=lambda rv: -rv[1])


def _race(ranked: list[tuple[str, float]], who: str, verb: str) -> str:
    if not ranked:
        return ""
    (first, v1), rest = ranked[0], ranked[1:]
    if not rest:
        return f"{pct(v1)} of {who} {verb} {rail_name(first)}."
    (second, v2) = rest[0]
    if abs(v1 - v2) < 0.005:
        return f"No rail leads {who}: {rail_name(first)} {pct(v1)}, {rail_name(second)} {pct(v2)}."
    return (
        f"{rail_name(first)} wins {who}: {pct(v1)} {verb} it at the end, against "
        f"{pct(v2)} for {rail_name(second)}."
    )


def recent_ride_shares(run: Run, days: int = 7) -> dict[str, float]:
    """Share of rides paid on each rail over the last ``days`` days (by rides paid)."""
    last = int(run.daily["day"].max()) if len(run.daily["day"]) else 0
    keep = run.daily["day"] > last - days
    rails = run.daily["rail"][keep]
    paid = run.daily["rides_paid"][keep].astype(float)
    total = paid.sum()
    return {
        r: float(paid[rails == r].sum() / total) if total else 0.0
        for r in dict.fromkeys(rails.tolist())
    }


def headline(run: Run) -> list[str]:
    """A few sentences that say who wins riders, drivers and rides, at what cost, and what
    remains after the last subsidy, from the run's own numbers."""
    out = [
        _race(_leader(run, "riders_bound_share"), "riders", "have a card bound to"),
        _race(_leader(run, "drivers_accepting_share"), "drivers", "accept"),
    ]
    shares = recent_ride_shares(run)
    if shares:
        parts = [
            f"{pct(v, 1)} {rail_name(r)}" for r, v in sorted(shares.items(), key=lambda x: -x[1])
        ]
        out.append(f"Rides paid over the last 7 days: {', '.join(parts)}.")
    money = run.summary.get("money", {})
    total = money.get("subsidy_total_yuan") or 0.0
    if total:
        side = money.get("subsidy_by_side_yuan", {})
        out.append(
            f"Subsidies cost {yuan(total)} ({yuan(money.get('subsidy_per_mobile_ride_yuan'))} "
            f"per mobile-paid ride; {pct((side.get('rider') or 0) / total)} to riders, "
            f"{pct((side.get('driver') or 0) / total)} to drivers)."
        )
    else:
        out.append("No subsidy was paid.")
    out.append(remains(run))
    return [s for s in out if s]


def remains(run: Run) -> str:
    """What is left N days after the last subsidy stops, against the last subsidised day."""
    stop = last_stop(run)
    if stop is None:
        return ""
    after = (run.end - stop).total_seconds() / 86400
    if after < 1:
        return "The last subsidy still runs when the run ends."
    at_stop = (stop - timedelta(days=1)).date()
    bits = []
    for rail in dict.fromkeys(w["rail"] for w in run.windows()):
        b0, b1 = (
            value_on(run, rail, "riders_bound_share", at_stop),
            value_on(run, rail, "riders_bound_share"),
        )
        s0, s1 = value_on(run, rail, "ride_share", at_stop), value_on(run, rail, "ride_share")
        bits.append(
            f"{rail_name(rail)} has {pct(b1)} of riders with a card bound ({pct(b0)} on the "
            f"last subsidised day) and is paid for {pct(s1, 1)} of the day's rides ({pct(s0, 1)})"
        )
    return f"{after:.0f} days after the last subsidy stopped ({at_stop + timedelta(days=1)}), " + (
        "; ".join(bits) + "."
    )


@dataclass
class Increment:
    """One run against the baseline: extra adopters, rides and cost at a stated horizon."""

    run: str
    baseline: str
    horizon: date
    horizon_note: str
    extra_bound: dict[str, float]  # rail -> riders of the full city
    extra_drivers: dict[str, float]
    extra_mobile_rides: float
    extra_subsidy_yuan: float

    @property
    def cost_per_adopter(self) -> float | None:
        extra = sum(v for v in self.extra_bound.values() if v > 0)
        return self.extra_subsidy_yuan / extra if extra > 0 else None


def increment(run: Run, base: Run) -> Increment:
    """``run`` minus ``base``: card-bound riders and accepting drivers of the full city at
    ``RETAIN_DAYS`` after ``run``'s last subsidy stops (or its last day, when it ends
    sooner), mobile-paid rides over the days both runs cover, and subsidy spent."""
    last_day = date.fromisoformat(str(run.daily["date"][-1]))
    stop = last_stop(run)
    if stop is None:
        horizon, note = last_day, "last day (no subsidy in this run)"
    else:
        want = (stop + timedelta(days=RETAIN_DAYS - 1)).date()
        after = (last_day - stop.date()).days + 1
        horizon = min(want, last_day)
        note = (
            f"{RETAIN_DAYS} days after the last subsidy stopped"
            if want <= last_day
            else f"the run's last day, {after} days after the last subsidy stopped "
            f"(short of {RETAIN_DAYS})"
        )
    base_last = date.fromisoformat(str(base.daily["date"][-1]))
    at_base = min(horizon, base_last)
    rails = list(dict.fromkeys([*run.rails, *base.rails]))

    def diff(key: str, scale: float) -> dict[str, float]:
        out = {}
        for r in rails:
            a, b = value_on(run, r, key, horizon), value_on(base, r, key, at_base)
            out[r] = ((a or 0.0) - (b or 0.0)) * scale
        return out

    common = np.intersect1d(run.daily["date"], base.daily["date"])

    def mobile_rides(x: Run) -> float:
        keep = (x.daily["rail"] != "cash") & np.isin(x.daily["date"], common)
        return float(x.daily["rides_paid"][keep].sum())

    def spent(x: Run) -> float:
        return float(x.summary.get("money", {}).get("subsidy_total_yuan") or 0.0)

    return Increment(
        run.label,
        base.label,
        horizon,
        note,
        diff("riders_bound_share", run.full_riders),
        diff("drivers_accepting_share", run.full_drivers),
        mobile_rides(run) - mobile_rides(base),
        spent(run) - spent(base),
    )


def increment_sentence(inc: Increment) -> str:
    bound = ", ".join(f"{count(v)} {rail_name(r)}" for r, v in inc.extra_bound.items())
    cost = inc.cost_per_adopter
    per = (
        f"{yuan(cost)} of extra subsidy per extra card-bound rider"
        if cost is not None
        else "no extra card-bound rider to spread the cost over"
    )
    return (
        f"On {inc.horizon}, {inc.horizon_note}, {inc.run} has card-bound riders {bound} "
        f"against {inc.baseline}; over the run {count(inc.extra_mobile_rides)} mobile-paid "
        f"rides and {yuan(inc.extra_subsidy_yuan)} more in subsidies: {per}."
    )


# --- Bass fits -----------------------------------------------------------------------------
BOUNDS = {"p": P_BOUNDS, "q": Q_BOUNDS, "m": M_BOUNDS}


def bass_flags(fit: dict[str, Any]) -> list[str]:
    """Why a Bass fit should not be read as a normal diffusion curve (empty: nothing)."""
    if not fit:
        return []
    if fit.get("r2") is None:
        return ["flat curve: p, q not identified"]
    flags = []
    for k, (lo, hi) in BOUNDS.items():
        v = fit.get(k)
        if v is None:
            continue
        if v <= lo * 1.01:
            flags.append(f"{k} at lower bound")
        elif v >= hi * 0.999:
            flags.append(f"{k} at upper bound")
    p, q = fit.get("p"), fit.get("q")
    if p is not None and q is not None and q <= p:
        flags.append("not S-shaped (q ≤ p)")
    if not fit.get("converged", True):
        flags.append("did not converge")
    if (fit.get("r2") or 0) < 0.9:
        flags.append("poor fit (R² < 0.9)")
    return flags


# --- dispatch in plain words ---------------------------------------------------------------
def channel_name(key: str) -> str:
    if key == "street":
        return "street hails"
    if key == "prebook":
        return "pre-booked rides"
    if key.startswith("app:"):
        return f"app hails via {key[4:]}"
    return key


DISPATCH_ROWS = (
    ("requests", "requests (full city)", "count"),
    ("matched_share", "matched with a taxi", "share"),
    ("abandoned_share", "gave up waiting", "share"),
    ("match_wait_s.mean", "wait from request to match, mean (s)", "s"),
    ("match_wait_s.p50", "wait from request to match, median (s)", "s"),
    ("match_wait_s.p90", "wait from request to match, 90th percentile (s)", "s"),
    ("pickup_s_mean", "taxi's drive to the pickup, mean (s)", "s"),
    ("deadhead_km", "km driven empty to pickups (full city)", "count"),
    ("utilization", "share of drivers' on-duty time on these rides", "share"),
    ("grab_race.pushes", "broadcast pushes", "count"),
    ("grab_race.drivers_reached_per_push", "drivers reached per push", "ratio"),
    ("grab_race.grabs_per_push", "drivers grabbing per push", "ratio"),
)


def plain_key(key: str) -> str:
    """A dotted summary key in words, for figures without a name of their own."""
    return key.replace("grab_race.", "broadcast: ").replace("_", " ").replace(".", ", ")
