"""Several finished runs on one figure: adoption of each mobile rail, and riders' waits.

Runs are read back from their directories (CSV or parquet tables), so runs made by
``run_sim.py run``, by a sweep or by ``sim.run`` in a notebook compare alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is

from sim import io

ADOPTION_PANELS = (("riders_bound_share", "riders: card bound"),
                   ("ride_share", "share of rides paid with the rail"),
                   ("drivers_accepting_share", "drivers: accepting"))
RAIL_STYLES = ("-", "--", ":", "-.")


def check_run_dir(path: str | Path) -> Path:
    """The directory of a finished run, or ``BadInput`` saying what is missing."""
    path = Path(path)
    if not path.is_dir():
        raise io.BadInput(f"{path}: no such run directory")
    for name in ("summary.json", "daily.csv"):
        if not (path / name).is_file():
            raise io.BadInput(f"{path}: not a run directory (no {name})")
    return path


def run_labels(dirs: Sequence[Path]) -> list[str]:
    """Directory names, with parents added where two runs would share a name."""
    labels = [d.name for d in dirs]
    if len(set(labels)) < len(labels):
        labels = [f"{d.parent.name}/{d.name}" for d in dirs]
    if len(set(labels)) < len(labels):
        labels = [str(d) for d in dirs]
    return labels


def daily(run_dir: Path) -> dict[str, np.ndarray]:
    """daily.csv of a run as columns."""
    return io.read_columns(run_dir, "daily")


def wait_series(run_dir: str | Path) -> tuple[np.ndarray, np.ndarray, str] | None:
    """Mean wait from request to pickup of completed rides, by hour (runs up to three days)
    or by day, as (x, mean wait in minutes, unit of x); None without a ride table."""
    run_dir = Path(run_dir)
    if not any((run_dir / f"rides.{ext}").exists() for ext in ("csv", "parquet")):
        return None
    rides = io.read_columns(run_dir, "rides", ["t_request", "t_pickup", "status"])
    done = (rides["status"] == "completed") & np.isfinite(rides["t_pickup"])
    t = rides["t_request"][done]
    wait = (rides["t_pickup"] - rides["t_request"])[done] / 60.0
    days = json.loads((run_dir / "summary.json").read_text("utf-8")).get("simulated_days", 1)
    step, unit = (3600.0, "hours since start") if days <= 3 else (86400.0, "days since start")
    if not len(t):
        return np.array([]), np.array([]), unit
    b = (t // step).astype(int)
    n = np.bincount(b)
    sums = np.bincount(b, weights=wait)
    keep = n > 0
    return np.nonzero(keep)[0].astype(float), sums[keep] / n[keep], unit


def mobile_rails(table: dict[str, np.ndarray]) -> list[str]:
    """The rails of a daily table other than cash, in their order."""
    return [r for r in dict.fromkeys(table["rail"].tolist()) if r != "cash"]


def _dates(table: dict[str, np.ndarray], rows: np.ndarray) -> list[date]:
    return [date.fromisoformat(d) for d in table["date"][rows]]


def compare_figure(run_dirs: Sequence[str | Path], labels: Sequence[str] | None = None) -> Figure:
    """Adoption per mobile rail (colour: run, line style: rail) and mean wait of each run."""
    dirs = [check_run_dir(d) for d in run_dirs]
    labels = list(labels) if labels is not None else run_labels(dirs)
    tables = [daily(d) for d in dirs]
    same_start = len({str(t["date"][0]) for t in tables if len(t["date"])}) <= 1
    fig = Figure(figsize=(13, 8.2))
    axes = fig.subplots(2, 2)
    colours = [f"C{i % 10}" for i in range(len(dirs))]
    for ax, (key, title) in zip(axes.flat[:3], ADOPTION_PANELS, strict=True):
        for table, label, colour in zip(tables, labels, colours, strict=True):
            for style, rail in zip(RAIL_STYLES, mobile_rails(table), strict=False):
                rows = table["rail"] == rail
                x: Any = _dates(table, rows) if same_start else table["day"][rows]
                ax.plot(x, table[key][rows], color=colour, linestyle=style,
                        label=f"{label}: {rail}")
        ax.set_title(title)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", rotation=30)
        ax.set_xlabel("date" if same_start else "day of run")
    axes[0, 0].legend(fontsize=7)
    ax = axes[1, 1]
    unit = ""
    for d, label, colour in zip(dirs, labels, colours, strict=True):
        series = wait_series(d)
        if series is None:
            continue
        x, y, unit = series
        table = tables[dirs.index(d)]
        if same_start and unit.startswith("days") and len(table["date"]):
            first = date.fromisoformat(str(table["date"][0]))
            x, unit = [first + timedelta(days=int(v)) for v in x], "date"
        ax.plot(x, y, color=colour, label=label, marker="." if len(x) < 60 else None)
    ax.set_title("riders' wait from request to pickup (completed rides)")
    ax.set_ylabel("mean wait (min)")
    ax.set_xlabel(unit or "no ride tables in these runs")
    ax.grid(alpha=0.3)
    ax.tick_params(axis="x", rotation=30)
    if ax.get_lines():
        ax.legend(fontsize=7)
    fig.suptitle(f"comparison of {len(dirs)} runs")
    fig.tight_layout()
    return fig


def write_compare(run_dirs: Sequence[str | Path], out: str | Path,
                  labels: Sequence[str] | None = None) -> Path:
    """Write the comparison figure of ``run_dirs`` to ``out`` (PNG, or any matplotlib format)."""
    fig = compare_figure(run_dirs, labels)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=100)
    return out
