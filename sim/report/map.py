"""An animated map of a run over a window of simulated time: the road graph, taxis coloured
by state and riders waiting, with play, pause and a time slider (plotly frames).

Positions are rebuilt from the ride table, so any run with ``rides.csv`` (or parquet) can be
mapped without recording anything more: a taxi is on its way to a pickup between match and
pickup, carrying a rider between pickup and drop-off, being paid until payment, and idle at
its last drop-off otherwise; a rider waits at her origin from request to pickup or until
she gives up. Moves are drawn as straight lines between the two nodes, not along the
roads, and a taxi is shown from its first ride of the run on. Frames are sampled at a fixed
step (at most ``MAX_FRAMES``) so the page stays small whatever the window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import numpy as np

from sim.errors import BadInput
from sim.report.rundir import Run

MAX_FRAMES = 180
MAX_POINTS = 200_000  # taxis x frames: a big fleet gets fewer frames, the page stays small
STATE_COLOURS = {
    "idle": "#2ca02c",
    "to pickup": "#ff7f0e",
    "with rider": "#1f77b4",
    "being paid": "#9467bd",
}
WINDOW = re.compile(
    r"^(?:(?P<date>\d{4}-\d{2}-\d{2})[ T])?(?P<a>\d{1,2}:\d{2})-(?P<b>\d{1,2}:\d{2})$"
)
DEFAULT_WINDOW = "07:00-10:00"


@dataclass(frozen=True)
class Window:
    """A span of local time: ``DATE HH:MM-HH:MM``, or ``HH:MM-HH:MM`` on the run's first day."""

    text: str

    def bounds(self, start: datetime) -> tuple[datetime, datetime]:
        """The window's local start and end; a bare one falls on the day of ``start``."""
        m = WINDOW.match(self.text.strip())
        if m is None:
            raise BadInput(
                f"--map {self.text!r}: give HH:MM-HH:MM or YYYY-MM-DD HH:MM-HH:MM"
                " (e.g. 07:00-10:00)"
            )
        try:
            day = datetime.fromisoformat(m["date"]).date() if m["date"] else start.date()
            a, b = (time.fromisoformat(m[k].zfill(5)) for k in ("a", "b"))
        except ValueError as exc:
            raise BadInput(f"--map {self.text!r}: {exc}") from None
        lo, hi = datetime.combine(day, a), datetime.combine(day, b)
        if hi <= lo:
            hi += timedelta(days=1)  # 22:00-02:00 runs past midnight
        return lo, hi


def road_segments(run: Run) -> tuple[np.ndarray, list[float | None], list[float | None]]:
    """Node positions (km) and the roads as one polyline with gaps, from the scenario."""
    from sim.city.travel import build_city

    city = build_city(run.scenario.city, matrices=False)
    xy = city.xy / 1000.0
    coo = city._fwd.tocoo()  # the road graph's edges (the city keeps no other list of them)
    keep = coo.row < coo.col  # a two-way road once
    xs: list[float | None] = []
    ys: list[float | None] = []
    for u, v in zip(coo.row[keep], coo.col[keep], strict=True):
        xs += [xy[u, 0], xy[v, 0], None]
        ys += [xy[u, 1], xy[v, 1], None]
    return xy, xs, ys


def _positions(r: dict[str, np.ndarray], xy: np.ndarray, t: float) -> dict[str, np.ndarray]:
    """Taxis by state and waiting riders at second ``t``, as (n, 2) arrays of km."""
    waiting = (r["t_request"] <= t) & ~(r["t_pickup"] <= t) & ~(r["t_abandon"] <= t)
    out = {"waiting": xy[r["origin"][waiting]]}
    now = (r["t_match"] <= t) & (t < r["next_match"])  # each taxi's latest ride by then
    tm, tp, td, tpay = (r[k][now] for k in ("t_match", "t_pickup", "t_dropoff", "t_paid"))
    a, o, d = xy[r["prev"][now]], xy[r["origin"][now]], xy[r["destination"][now]]

    def along(p: np.ndarray, q: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore", divide="ignore"):
            f = np.clip(np.nan_to_num((t - t0) / (t1 - t0)), 0.0, 1.0)
        return p + (q - p) * f[:, None]

    to_pickup = ~(tp <= t)
    riding = ~to_pickup & ~(td <= t)
    paying = ~to_pickup & ~riding & (t < tpay)
    idle = ~(to_pickup | riding | paying)
    out["to pickup"] = along(a, o, tm, tp)[to_pickup]
    out["with rider"] = along(o, d, tp, td)[riding]
    out["being paid"] = d[paying]
    out["idle"] = d[idle]
    return {k: np.round(v, 3) for k, v in out.items()}  # metres: enough for a map


def _rides(run: Run, t0: float, t1: float) -> dict[str, np.ndarray]:
    """The rides that matter in [t0, t1): requests waiting then, and each taxi's rides from
    the last one matched before t0 on, with the node it starts from and its next match."""
    df = run.rides
    need = ["driver_id", "t_match", "t_dropoff", "t_paid", "t_abandon", "origin", "destination"]
    if df is None or any(c not in df for c in need):
        return {}
    df = df[df["t_request"] < t1].sort_values(["driver_id", "t_match"], kind="stable")
    same = df["driver_id"].eq(df["driver_id"].shift(-1)) & df["driver_id"].notna()
    nxt = df["t_match"].shift(-1).where(same, np.inf)
    prev = df["destination"].shift(1).where(df["driver_id"].eq(df["driver_id"].shift(1)))
    r = {
        k: df[k].to_numpy(dtype=float)
        for k in ("t_request", "t_match", "t_pickup", "t_dropoff", "t_paid", "t_abandon")
    }
    r["next_match"] = nxt.to_numpy(dtype=float)
    for k in ("origin", "destination"):
        r[k] = df[k].to_numpy(dtype=np.int64)
    r["prev"] = prev.fillna(df["origin"]).to_numpy(dtype=np.int64)
    keep = (r["next_match"] > t0) | (r["t_request"] >= t0)
    return {k: v[keep] for k, v in r.items()}


def _markers(name: str, pts: np.ndarray, marker: dict) -> dict:
    return {
        "type": "scatter",
        "x": pts[:, 0].tolist(),
        "y": pts[:, 1].tolist(),
        "mode": "markers",
        "marker": marker,
        "name": name,  # no count: with redraw off, the legend keeps the first frame's text
        "hoverinfo": "skip",
    }


def _traces(rides: dict[str, np.ndarray], xy: np.ndarray, t: float) -> list[dict]:
    pos = _positions(rides, xy, t)
    out = [
        _markers(
            f"taxi {s}", pos[s], {"color": c, "size": 7, "line": {"width": 0.5, "color": "white"}}
        )
        for s, c in STATE_COLOURS.items()
    ]
    waiting = {"color": "#d62728", "size": 9, "symbol": "x-thin", "line": {"width": 2}}
    out.append(
        _markers(
            "rider waiting", pos["waiting"], {**waiting, "line": {"width": 2, "color": "#d62728"}}
        )
    )
    return out


def map_figure(run: Run, window: Window) -> dict | None:
    """The animated map of ``run`` over ``window`` as a plotly figure (a plain mapping:
    hundreds of frames are written without plotly's per-property checks); None when the
    run has no ride table, no scenario to rebuild its city from, or misses the window."""
    if run.scenario is None or not run.has_table("rides"):
        return None
    lo, hi = window.bounds(run.start)
    lo, hi = max(lo, run.start), min(hi, run.end)
    if hi <= lo:
        return None
    t0, t1 = (lo - run.start).total_seconds(), (hi - run.start).total_seconds()
    rides = _rides(run, t0, t1)
    if not rides:
        return None
    xy, road_x, road_y = road_segments(run)
    taxis = len(np.unique(rides["prev"])) + 1  # about how many taxis a frame holds
    n_frames = max(20, min(MAX_FRAMES, MAX_POINTS // taxis))
    step = max(60.0, np.ceil((t1 - t0) / n_frames / 60.0) * 60.0)
    times = np.arange(t0, t1, step)

    def stamp(t: float) -> str:
        return (run.start + timedelta(seconds=float(t))).strftime("%Y-%m-%d %H:%M")

    roads = {
        "type": "scatter",
        "x": road_x,
        "y": road_y,
        "mode": "lines",
        "line": {"color": "#d0d0d0", "width": 1},
        "hoverinfo": "skip",
        "name": "roads",
        "showlegend": False,
    }
    still = {"frame": {"duration": 0, "redraw": False}, "mode": "immediate"}
    frames = [
        {
            "name": stamp(t),
            "data": _traces(rides, xy, t),
            "traces": [1, 2, 3, 4, 5],  # the roads (trace 0) stay
        }
        for t in times
    ]
    pad = 0.03 * float(np.ptp(xy[:, 0]) or 1.0)
    play = {"frame": {"duration": 150, "redraw": False}, "transition": {"duration": 0}}
    layout = {
        "title": {"text": f"{run.label}: {stamp(times[0])} to {stamp(t1)[11:]} (axes in km)"},
        "height": 760,
        "plot_bgcolor": "white",
        "xaxis": {
            "range": [xy[:, 0].min() - pad, xy[:, 0].max() + pad],
            "showgrid": False,
            "zeroline": False,
        },
        "yaxis": {
            "scaleanchor": "x",
            "showgrid": False,
            "zeroline": False,
        },
        "legend": {"orientation": "h", "y": 1.08},
        "margin": {"l": 50, "r": 20, "t": 100, "b": 40},
        "updatemenus": [
            {
                "type": "buttons",
                "direction": "left",
                "x": 0.0,
                "y": -0.04,
                "xanchor": "left",
                "yanchor": "top",
                "buttons": [
                    {
                        "label": "▶ play",
                        "method": "animate",
                        "args": [None, {**play, "fromcurrent": True}],
                    },
                    {"label": "❚❚ pause", "method": "animate", "args": [[None], still]},
                ],
            }
        ],
        "sliders": [
            {
                "active": 0,
                "x": 0.16,
                "len": 0.84,
                "y": -0.02,
                "yanchor": "top",
                "currentvalue": {"prefix": "simulated time: "},
                "steps": [
                    {"label": stamp(t)[11:], "method": "animate", "args": [[stamp(t)], still]}
                    for t in times
                ],
            }
        ],
    }
    return {"data": [roads, *frames[0]["data"]], "layout": layout, "frames": frames}


def map_sections(runs: list[Run], window: Window | None) -> dict[str, dict]:
    """The map of each run that has one for ``window``, by run label."""
    if window is None:
        return {}
    out = {}
    for run in runs:
        fig = map_figure(run, window)
        if fig is not None:
            out[run.label] = fig
    return out
