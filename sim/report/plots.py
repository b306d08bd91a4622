"""Figures of one run: adoption curves per rail and side, and the fleet over time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from sim.records.tables import DAILY, TIMESERIES, Row
from sim.scenario.spec import Scenario

DAILY_COLUMNS, TIMESERIES_COLUMNS = DAILY.columns, TIMESERIES.columns

RAIL_COLOURS = {"cash": "0.45", "alipay": "#1677ff", "wechat_pay": "#07c160"}


def write_plots(folder: Path, scenario: Scenario, daily: list[Row], timeseries: list[Row]) -> None:
    """The run's figures from its daily and timeseries rows."""
    folder.mkdir(parents=True, exist_ok=True)
    adoption_figure(daily, scenario).savefig(folder / "adoption.png", dpi=110)
    fleet_figure(timeseries).savefig(folder / "fleet.png", dpi=110)


def adoption_figure(rows: Sequence[Sequence[Any]], scenario: Scenario) -> Figure:
    """Riders' and drivers' adoption of each mobile rail by day, subsidy windows shaded."""
    col = {c: i for i, c in enumerate(DAILY_COLUMNS)}
    rails = [r.id for r in scenario.payment.rails if r.id != "cash"]
    fig = Figure(figsize=(14, 4.2))  # no pyplot: a notebook's inline backend stays as it is
    axes = fig.subplots(1, 3, sharex=True)
    panels = (
        ("riders_bound_share", "riders: card bound"),
        ("ride_share", "rides paid with it (share of rides)"),
        ("drivers_accepting_share", "drivers: accepting"),
    )
    start = scenario.start
    for ax, (key, title) in zip(axes, panels, strict=True):
        for rail in rails:
            pts = [
                (start + timedelta(days=r[col["day"]]), r[col[key]])
                for r in rows
                if r[col["rail"]] == rail
            ]
            if pts:
                ax.plot(*zip(*pts, strict=True), label=rail, color=RAIL_COLOURS.get(rail))
        for p in scenario.policies:
            ax.axvspan(p.start, p.effective_end, color=RAIL_COLOURS.get(p.rail, "0.8"), alpha=0.06)
        ax.set_title(title)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", rotation=30)
    axes[0].set_ylabel("share")
    if axes[0].get_lines():  # a cash-only run has no curve to name
        axes[0].legend(loc="upper left")
    fig.suptitle(f"{scenario.name}: adoption of payment rails (shaded: subsidy windows)")
    fig.tight_layout()
    return fig


def fleet_figure(timeseries: Sequence[Sequence[Any]]) -> Figure:
    """Drivers by state and riders waiting, over simulated time."""
    col = {c: i for i, c in enumerate(TIMESERIES_COLUMNS)}
    hours = [r[col["t"]] / 3600 for r in timeseries]
    fig = Figure(figsize=(10, 5.5))
    ax, ax2 = fig.subplots(2, 1, sharex=True)
    for state in ("idle", "en_route", "on_trip", "paying", "off"):
        ax.plot(hours, [r[col[state]] for r in timeseries], label=state)
    ax.set_ylabel("drivers")
    ax.legend(ncol=5, fontsize=8)
    ax2.plot(hours, [r[col["waiting_riders"]] for r in timeseries], color="crimson")
    ax2.set_ylabel("riders waiting")
    ax2.set_xlabel("hours since start")
    for a in (ax, ax2):
        a.grid(alpha=0.3)
    fig.tight_layout()
    return fig
