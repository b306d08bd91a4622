"""Static figures of one run, written beside its tables: adoption curves per rail and side,
and the fleet over time. Axes end where the run ends; subsidy windows are bands along the
top of each panel, one row and one tint per rail, named in the legend, so windows of two
rails never mix their colours."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
from matplotlib.dates import ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from sim.records.tables import DAILY, TIMESERIES, Row
from sim.scenario.spec import Scenario

DAILY_COLUMNS, TIMESERIES_COLUMNS = DAILY.columns, TIMESERIES.columns

RAIL_COLOURS = {"cash": "0.45", "alipay": "#1677ff", "wechat_pay": "#07c160"}
OTHER_COLOURS = ("#d62728", "#9467bd", "#8c564b", "#e377c2")
STATES = ("idle", "en_route", "on_trip", "paying", "off")


def write_plots(folder: Path, scenario: Scenario, daily: list[Row], timeseries: list[Row]) -> None:
    """The run's figures from its daily and timeseries rows."""
    folder.mkdir(parents=True, exist_ok=True)
    adoption_figure(daily, scenario).savefig(folder / "adoption.png", dpi=110)
    fleet_figure(timeseries, scenario).savefig(folder / "fleet.png", dpi=110)


def _colour(rail: str, rails: list[str]) -> str:
    return RAIL_COLOURS.get(rail) or OTHER_COLOURS[rails.index(rail) % len(OTHER_COLOURS)]


def policy_bands(ax, scenario, rails: list[str], end: datetime) -> list[Patch]:
    """Each rail's subsidy windows (clipped to the run) as a band in its own row along the
    top of ``ax``; returns one legend handle per rail that has a window."""
    handles = []
    height = 0.035
    for i, rail in enumerate(rails):
        spans = [
            (max(p.start, scenario.start), min(p.effective_end, end))
            for p in scenario.policies
            if p.rail == rail
        ]
        spans = [(lo, hi) for lo, hi in spans if lo < hi]
        if not spans:
            continue
        colour = _colour(rail, rails)
        y = 1 - height * (i + 1)
        for lo, hi in spans:
            ax.axvspan(lo, hi, ymin=y, ymax=y + height, color=colour, alpha=0.55, lw=0)
            ax.axvspan(lo, hi, color=colour, alpha=0.04, lw=0)
        handles.append(Patch(color=colour, alpha=0.55, label=f"{rail} subsidy window"))
    return handles


def adoption_figure(rows: list[tuple], scenario):
    """Riders' and drivers' adoption of each mobile rail by day, from the run's start to
    its end, with each rail's subsidy windows."""
    col = {c: i for i, c in enumerate(DAILY_COLUMNS)}
    rails = [r.id for r in scenario.payment.rails if r.id != "cash"]
    start = scenario.start
    end = start + timedelta(seconds=scenario.duration_s)
    fig = Figure(figsize=(14, 4.6))  # no pyplot: a notebook's inline backend stays as it is
    axes = fig.subplots(1, 3, sharex=True)
    panels = (
        ("riders_bound_share", "riders: card bound"),
        ("ride_share", "rides paid with it (share of rides)"),
        ("drivers_accepting_share", "drivers: accepting"),
    )
    bands: list[Patch] = []
    for ax, (key, title) in zip(axes, panels, strict=True):
        for rail in rails:
            pts = [
                (start + timedelta(days=r[col["day"]]), r[col[key]])
                for r in rows
                if r[col["rail"]] == rail
            ]
            if pts:
                ax.plot(*zip(*pts, strict=True), label=rail, color=_colour(rail, rails))
        bands = policy_bands(ax, scenario, rails, end)
        ax.set_title(title)
        ax.set_ylim(0, 1)
        ax.set_xlim(start, end)
        ax.grid(alpha=0.3)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(ax.xaxis.get_major_locator()))
    axes[0].set_ylabel("share")
    lines = axes[0].get_legend_handles_labels()[0]
    if lines or bands:  # a cash-only run has nothing to name
        fig.legend(handles=[*lines, *bands], loc="lower center", ncol=6, fontsize=9)
    fig.suptitle(f"{scenario.name}: adoption of payment rails")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def hourly_means(timeseries: list[tuple], start: datetime) -> tuple[list[datetime], dict]:
    """Samples averaged over each hour of simulated time: (hour starts, column -> means)."""
    col = {c: i for i, c in enumerate(TIMESERIES_COLUMNS)}
    if not timeseries:
        return [], {k: np.array([]) for k in (*STATES, "waiting_riders")}
    data = np.array([[r[col[k]] for k in ("t", *STATES, "waiting_riders")] for r in timeseries])
    hour = (data[:, 0] // 3600).astype(int)
    n = np.bincount(hour)
    keep = np.nonzero(n)[0]
    means = {
        k: np.bincount(hour, weights=data[:, i + 1])[keep] / n[keep]
        for i, k in enumerate((*STATES, "waiting_riders"))
    }
    return [start + timedelta(hours=int(h)) for h in keep], means


def fleet_figure(timeseries: list[tuple], scenario):
    """Drivers by state and riders waiting against the date: hourly means for a week or
    less; for longer runs, each day's mean of those hourly means as a line, with the band
    between the day's quietest and busiest hour, so the daily cycle does not fill the
    panel."""
    start = scenario.start
    end = start + timedelta(seconds=scenario.duration_s)
    x, means = hourly_means(timeseries, start)
    daily = scenario.duration_s > 7 * 86400 and len(x) > 0
    fig = Figure(figsize=(11, 5.5))
    ax, ax2 = fig.subplots(2, 1, sharex=True)
    colours = {k: f"C{i}" for i, k in enumerate(STATES)}
    colours["waiting_riders"] = "crimson"
    for a, keys in ((ax, STATES), (ax2, ("waiting_riders",))):
        for key in keys:
            label = key.replace("_", " ")
            if daily:
                day = np.array([(h - start).days for h in x])
                days = np.unique(day)
                mid = [start + timedelta(days=int(d), hours=12) for d in days]
                v = means[key]
                lo = [v[day == d].min() for d in days]
                hi = [v[day == d].max() for d in days]
                avg = [v[day == d].mean() for d in days]
                a.fill_between(mid, lo, hi, color=colours[key], alpha=0.15, lw=0)
                a.plot(mid, avg, color=colours[key], label=label, lw=1.4)
            else:
                a.plot(x, means[key], color=colours[key], label=label, lw=1)
    unit = "daily mean; band: quietest to busiest hour" if daily else "hourly mean"
    ax.set_ylabel("drivers")
    ax.legend(ncol=5, fontsize=8, loc="upper left")
    ax2.set_ylabel("riders waiting")
    ax2.set_xlim(start, end)
    for a in (ax, ax2):
        a.grid(alpha=0.3)
        a.xaxis.set_major_formatter(ConciseDateFormatter(a.xaxis.get_major_locator()))
    ax.set_title(f"{scenario.name}: the fleet by state ({unit}; simulated drivers)")
    fig.tight_layout()
    return fig
