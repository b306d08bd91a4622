"""Interactive figures of finished runs (plotly): the policy timeline, adoption curves with
each run's subsidy windows, and riders' waits; hover and zoom come with the library.

Every label is text: plotly renders LaTeX only when mathjax is on the page, which the
report never loads, so a ``$`` in a run's name is shown as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from sim.errors import BadInput
from sim.report.brief import rail_name
from sim.report.rundir import Run, read_table

RAIL_COLOURS = {"cash": "#737373", "alipay": "#1677ff", "wechat_pay": "#07a35a"}
OTHER_COLOURS = ("#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#17becf")
RUN_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
RUN_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b")
ADOPTION_PANELS = (
    ("riders_bound_share", "riders with a card bound"),
    ("ride_share", "share of the day's rides paid with the rail"),
    ("drivers_accepting_share", "drivers accepting the rail"),
)
LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 60, "r": 20, "t": 50, "b": 40},
    "hovermode": "x unified",
    "hoverdistance": -1,  # the nearest day, however far apart the days are drawn
    "font": {"family": "system-ui, sans-serif", "size": 12},
}


def rail_colour(rail: str, rails: Sequence[str] = ()) -> str:
    if rail in RAIL_COLOURS:
        return RAIL_COLOURS[rail]
    i = list(rails).index(rail) if rail in rails else 0
    return OTHER_COLOURS[i % len(OTHER_COLOURS)]


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def merged_windows(run: Run) -> dict[tuple, list[str]]:
    """A run's subsidy windows by (rail, start, end), so policies that share a window (a
    rider and a driver side) shade it once, in one tint."""
    out: dict[tuple, list[str]] = {}
    for w in run.windows():
        out.setdefault((w["rail"], w["start"], w["end"]), []).append(w["policy"])
    return out


def adoption_figure(runs: Sequence[Run]) -> go.Figure | None:
    """Adoption per mobile rail and side by date: colour per rail, dash per run; each run's
    subsidy windows shaded in the rail's tint, one legend entry per window (click to hide)."""
    rails = list(dict.fromkeys(r for run in runs for r in run.rails))
    if not rails:
        return None
    fig = make_subplots(
        rows=len(ADOPTION_PANELS),
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.06,
        subplot_titles=[t for _, t in ADOPTION_PANELS],
    )
    for i, run in enumerate(runs):
        dash = RUN_DASHES[i % len(RUN_DASHES)]
        for (rail, lo, hi), ids in merged_windows(run).items():
            colour = _rgba(rail_colour(rail, rails), 0.12)
            group = f"{run.label}: {' + '.join(ids)}"
            for row in range(1, len(ADOPTION_PANELS) + 1):
                fig.add_trace(
                    go.Scatter(
                        x=[lo, lo, hi, hi],
                        y=[0, 1, 1, 0],
                        fill="toself",
                        fillcolor=colour,
                        line={"width": 0},
                        mode="lines",
                        name=f"subsidy window {group}",
                        legendgroup=group,
                        showlegend=row == 1,
                        hoverinfo="skip",
                    ),
                    row=row,
                    col=1,
                )
        for rail in run.rails:
            rows = run.rail_rows(rail)
            x = run.dates(rows)
            for row, (key, _) in enumerate(ADOPTION_PANELS, start=1):
                fig.add_trace(
                    go.Scatter(
                        x=x,
                        y=run.daily[key][rows],
                        mode="lines",
                        line={"color": rail_colour(rail, rails), "dash": dash, "width": 2},
                        name=f"{run.label}: {rail_name(rail)}",
                        legendgroup=f"{run.label}: {rail}",
                        showlegend=row == 1,
                        hovertemplate="%{y:.1%}",
                    ),
                    row=row,
                    col=1,
                )
    fig.update_yaxes(range=[0, 1], tickformat=".0%")
    fig.update_layout(LAYOUT, height=760, legend={"orientation": "h", "y": -0.08})
    return fig


def timeline_figure(runs: Sequence[Run]) -> go.Figure | None:
    """Each run's subsidy policies as bars over its dates: the planned window solid, an
    extension lighter, the run's own span as a thin grey bar."""
    rails = list(dict.fromkeys(r for run in runs for r in run.rails))
    bars: list[tuple[str, datetime, datetime, str, str, str]] = []
    for run in runs:
        bars.append((f"{run.label}: run", run.start, run.end, "#bbbbbb", "run", ""))
        if run.scenario is None:
            continue
        for p in run.scenario.policies:
            amount = p.amount_yuan
            if not isinstance(amount, float):
                amount = f"{amount.min:g}-{amount.max:g}"
            what = (
                f"{rail_name(p.rail)}, {p.side}, {amount:g} yuan"
                if isinstance(amount, float)
                else f"{rail_name(p.rail)}, {p.side}, {amount} yuan"
            )
            what += f", {p.daily_free_rides} free rides a day" if p.daily_free_rides else ""
            label = f"{run.label}: {p.id}"
            colour = rail_colour(p.rail, rails)
            bars.append((label, p.start, p.end, colour, "planned", what))
            if p.effective_end > p.end:
                bars.append((label, p.end, p.effective_end, _rgba(colour, 0.4), "extended", what))
    fig = go.Figure()
    seen = set()
    for label, lo, hi, colour, kind, what in bars:
        fig.add_trace(
            go.Bar(
                y=[label],
                x=[(hi - lo).total_seconds() * 1000],
                base=[lo.isoformat()],
                orientation="h",
                marker={"color": colour},
                name=kind,
                legendgroup=kind,
                showlegend=kind not in seen,
                hovertemplate=f"{label} ({kind}): {lo:%Y-%m-%d} to {hi:%Y-%m-%d}"
                + (f"<br>{what}" if what else "")
                + "<extra></extra>",
            )
        )
        seen.add(kind)
    fig.update_xaxes(type="date")
    fig.update_yaxes(autorange="reversed")
    fig.update_layout(
        LAYOUT,
        barmode="overlay",
        height=120 + 34 * len({b[0] for b in bars}),
        hovermode="closest",
        legend={"orientation": "h", "y": 1.12},
    )
    return fig


def wait_days(run: Run) -> tuple[list, np.ndarray] | None:
    """Mean wait from request to pickup of the completed rides requested each day, in
    minutes, by date; None without a ride table."""
    rides = run.rides
    if rides is None:
        return None
    done = rides[(rides["status"] == "completed") & rides["t_pickup"].notna()]
    if done.empty:
        return [], np.array([])
    wait = ((done["t_pickup"] - done["t_request"]) / 60.0).groupby(
        (done["t_request"] // 86400).astype(int)
    )
    mean = wait.mean()
    return [(run.start + timedelta(days=int(d))).date() for d in mean.index], mean.to_numpy()


def waits_figure(runs: Sequence[Run]) -> go.Figure | None:
    """Riders' mean wait from request to pickup by day, one line per run."""
    fig = go.Figure()
    for i, run in enumerate(runs):
        series = wait_days(run)
        if series is None or not len(series[0]):
            continue
        fig.add_trace(
            go.Scatter(
                x=series[0],
                y=series[1],
                mode="lines+markers" if len(series[0]) < 40 else "lines",
                name=run.label,
                line={"color": RUN_COLOURS[i % len(RUN_COLOURS)]},
                hovertemplate="%{y:.1f} min",
            )
        )
    if not fig.data:
        return None
    fig.update_layout(
        LAYOUT,
        height=340,
        yaxis_title="mean wait, request to pickup (min)",
        legend={"orientation": "h", "y": 1.15},
    )
    fig.update_yaxes(rangemode="tozero")
    return fig


def fleet_figure(runs: Sequence[Run]) -> go.Figure | None:
    """Hourly means of drivers busy (to a pickup, on a trip, paying) and idle, and of riders
    waiting, from each run's time series (simulated drivers), one colour per run."""
    from sim.report.plots import STATES, hourly_means

    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=[
            "drivers busy (solid) and idle (dotted), hourly means",
            "riders waiting for a taxi, hourly means",
        ],
    )
    for i, run in enumerate(runs):
        if not run.has_table("timeseries"):
            continue
        ts = read_table(run.dir, "timeseries")
        if any(k not in ts for k in ("t", *STATES, "waiting_riders")):
            raise BadInput(f"{run.dir / 'timeseries.csv'}: damaged, columns missing")
        rows = list(zip(*(ts[k] for k in ("t", "time", *STATES, "waiting_riders")), strict=True))
        x, means = hourly_means(rows, run.start)
        colour = RUN_COLOURS[i % len(RUN_COLOURS)]
        busy = means["en_route"] + means["on_trip"] + means["paying"]
        for row, y, dash, what in (
            (1, busy, "solid", "busy"),
            (1, means["idle"], "dot", "idle"),
            (2, means["waiting_riders"], "solid", "waiting"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    line={"color": colour, "dash": dash, "width": 1.2},
                    name=f"{run.label}: {what}",
                    hovertemplate="%{y:.0f}",
                ),
                row=row,
                col=1,
            )
    if not fig.data:
        return None
    fig.update_layout(LAYOUT, height=520, legend={"orientation": "h", "y": -0.12})
    return fig
