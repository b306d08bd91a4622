"""Several finished runs on one figure: adoption of each mobile rail, and riders' waits.

Runs are read back from their directories (CSV or parquet tables), so runs made by
``run_sim.py run``, by a sweep or by ``sim.run`` in a notebook compare alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is

from sim.io import files as io

ADOPTION_PANELS = (
    ("riders_bound_share", "riders: card bound"),
    ("ride_share", "share of rides paid with the rail"),
    ("drivers_accepting_share", "drivers: accepting"),
)
RAIL_STYLES = ("-", "--", ":", "-.")
TIME_UNITS = {"hours": 3600.0, "days": 86400.0}  # seconds per unit of a wait curve's x
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")  # as listed in check_image_out's message


def check_run_dir(path: str | Path) -> Path:
    """The directory of a finished run, or ``BadInput`` saying what is missing."""
    path = Path(path)
    if not path.is_dir():
        raise io.BadInput(f"{path}: no such run directory")
    for name in ("summary.json", "daily.csv"):
        if not (path / name).is_file():
            raise io.BadInput(f"{path}: not a run directory (no {name})")
    if any(path.glob("*.parquet")):
        try:  # said before any table is read, not as an import error halfway through
            io.require_parquet()
        except io.BadInput as exc:
            raise io.BadInput(f"{path}: reading a run written with {exc}") from None
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


def run_days(run_dir: str | Path) -> float:
    """Simulated length of a run in days, from its summary."""
    summary = json.loads((Path(run_dir) / "summary.json").read_text("utf-8"))
    return float(summary.get("simulated_days", 1))


def wait_step(days: float) -> float:
    """Seconds per point of a wait curve: hours for runs up to three days, else days."""
    return 3600.0 if days <= 3 else 86400.0


def wait_series(
    run_dir: str | Path, step_s: float | None = None, unit: str = "days"
) -> tuple[np.ndarray, np.ndarray, str] | None:
    """Mean wait from request to pickup of completed rides per ``step_s`` seconds (default:
    ``wait_step`` of the run), as (x, mean wait in minutes, axis label); None without a
    ride table.

    x is the middle of each step (of its simulated part, for the last one) in ``unit``
    since the start, so runs of any length and step share one axis.
    """
    run_dir = Path(run_dir)
    if not any((run_dir / f"rides.{ext}").exists() for ext in ("csv", "parquet")):
        return None
    if unit not in TIME_UNITS:
        raise ValueError(f"unit must be one of {', '.join(TIME_UNITS)} (got {unit!r})")
    label = f"{unit} since start"
    end = run_days(run_dir) * 86400.0
    step = step_s or wait_step(end / 86400.0)
    rides = io.read_columns(run_dir, "rides", ["t_request", "t_pickup", "status"])
    done = (rides["status"] == "completed") & np.isfinite(rides["t_pickup"])
    t = rides["t_request"][done]
    wait = (rides["t_pickup"] - rides["t_request"])[done] / 60.0
    if not len(t):
        return np.array([]), np.array([]), label
    b = (t // step).astype(int)
    n = np.bincount(b)
    sums = np.bincount(b, weights=wait)
    keep = np.nonzero(n > 0)[0]
    lo = keep * step
    mid = (lo + np.maximum(np.minimum(lo + step, end), lo)) / 2.0
    return mid / TIME_UNITS[unit], sums[keep] / n[keep], label


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
                ax.plot(
                    x, table[key][rows], color=colour, linestyle=style, label=f"{label}: {rail}"
                )
        ax.set_title(title)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", rotation=30)
        ax.set_xlabel("date" if same_start else "day of run")
    if axes[0, 0].get_lines():  # cash-only runs have no curve to name
        axes[0, 0].legend(fontsize=7)
    ax = axes[1, 1]
    # One step and one unit for every run: a 3-day and a 7-day run share the axis.
    step = wait_step(max(run_days(d) for d in dirs))
    unit = "days" if step >= 86400.0 else "hours"
    label_x = ""
    for d, label, colour in zip(dirs, labels, colours, strict=True):
        series = wait_series(d, step, unit)
        if series is None:
            continue
        x, y, label_x = series
        ax.plot(x, y, color=colour, label=label, marker="." if len(x) < 60 else None)
    ax.set_title("riders' wait from request to pickup (completed rides)")
    ax.set_ylabel("mean wait (min)")
    ax.set_xlabel(label_x or "no ride tables in these runs")
    ax.grid(alpha=0.3)
    ax.tick_params(axis="x", rotation=30)
    if ax.get_lines():
        ax.legend(fontsize=7)
    fig.suptitle(f"comparison of {len(dirs)} runs")
    fig.tight_layout()
    return fig


def check_image_out(out: str | Path) -> Path:
    """``out`` as a figure file to write, or ``BadInput``: a known image suffix, not a
    directory (matplotlib would add ``.png`` to a bare name and write elsewhere)."""
    out = Path(out)
    if out.suffix.lower() not in IMAGE_SUFFIXES:
        raise io.BadInput(f"{out}: not a .png, .svg or .pdf file name")
    if out.is_dir():
        raise io.BadInput(f"{out}: is a directory, not a file")
    return out


def write_compare(
    run_dirs: Sequence[str | Path], out: str | Path, labels: Sequence[str] | None = None
) -> Path:
    """Write the comparison figure of ``run_dirs`` to ``out`` (.png, .svg or .pdf)."""
    out = check_image_out(out)
    fig = compare_figure(run_dirs, labels)
    io.write_file(out, lambda tmp: fig.savefig(tmp, format=out.suffix[1:].lower(), dpi=100))
    return out
