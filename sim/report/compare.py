"""Several finished runs on one figure: adoption of each mobile rail, and riders' waits.

Runs are read back from their directories (CSV or parquet tables), so runs made by
``run_sim.py run``, by a sweep or by ``sim.run`` in a notebook compare alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is

from sim.io import files as io
from sim.report.figures import merged_windows
from sim.report.rundir import Run, read_json, read_runs, read_table

ADOPTION_PANELS = (
    ("riders_bound_share", "riders: card bound"),
    ("ride_share", "share of rides paid with the rail"),
    ("drivers_accepting_share", "drivers: accepting"),
)
RAIL_STYLES = ("-", "--", ":", "-.")
TIME_UNITS = {"hours": 3600.0, "days": 86400.0}  # seconds per unit of a wait curve's x
IMAGE_SUFFIXES = (".png", ".svg", ".pdf")  # as listed in check_image_out's message


def run_days(run_dir: str | Path) -> float:
    """Simulated length of a run in days, from its summary."""
    summary = read_json(Path(run_dir) / "summary.json")
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
    rides = read_table(run_dir, "rides", ["t_request", "t_pickup", "status"])
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


def text_label(label: str) -> str:
    """A label matplotlib prints as written: ``$`` would start mathtext (and a lone one
    fails to parse), so it is escaped."""
    return label.replace("$", r"\$")


def compare_figure(run_dirs: Sequence[str | Path], labels: Sequence[str] | None = None) -> Figure:
    """Adoption per mobile rail (colour: run, line style: rail), each run's subsidy windows
    shaded in its colour, and the mean wait of each run, on one time axis: dates when the
    runs start on the same day, else days since each run's start."""
    runs = read_runs(run_dirs, labels)
    same_start = len({r.start for r in runs}) <= 1
    fig = Figure(figsize=(13, 8.6))
    axes = fig.subplots(2, 2)
    colours = [f"C{i % 10}" for i in range(len(runs))]

    def x_of(run: Run, when: datetime) -> Any:
        return when if same_start else (when - run.start).total_seconds() / 86400.0

    x_label = "date" if same_start else "days since the run's start"
    for n, ax in enumerate(axes.flat):
        for run, colour in zip(runs, colours, strict=True):
            for i, (_rail, lo, hi) in enumerate(merged_windows(run)):
                label = f"{text_label(run.label)}: subsidy window" if n == 0 and i == 0 else None
                ax.axvspan(x_of(run, lo), x_of(run, hi), color=colour, alpha=0.08, label=label)
    for ax, (key, title) in zip(axes.flat[:3], ADOPTION_PANELS, strict=True):
        for run, colour in zip(runs, colours, strict=True):
            for style, rail in zip(RAIL_STYLES, run.rails, strict=False):
                rows = run.rail_rows(rail)
                x: Any = run.dates(rows) if same_start else run.daily["day"][rows]
                ax.plot(
                    x,
                    run.daily[key][rows],
                    color=colour,
                    linestyle=style,
                    label=text_label(f"{run.label}: {rail}"),
                )
        ax.set_title(title)
        ax.set_ylim(0, 1)
        ax.grid(alpha=0.3)
        ax.tick_params(axis="x", rotation=30)
        ax.set_xlabel(x_label)
    if axes[0, 0].get_legend_handles_labels()[0]:  # cash-only runs have no curve to name
        axes[0, 0].legend(fontsize=7)
    ax = axes[1, 1]
    # One step for every run: a 3-day and a 7-day run share the axis.
    step = wait_step(max(r.days for r in runs))
    drawn = False
    for run, colour in zip(runs, colours, strict=True):
        series = wait_series(run.dir, step, "days")
        if series is None:
            continue
        x, y, _ = series
        xs: Any = [run.start + timedelta(days=float(v)) for v in x] if same_start else x
        ax.plot(
            xs, y, color=colour, label=text_label(run.label), marker="." if len(x) < 60 else None
        )
        drawn = True
    ax.set_title("riders' wait from request to pickup (completed rides)")
    ax.set_ylabel("mean wait (min)")
    ax.set_xlabel(x_label if drawn else "no ride tables in these runs")
    ax.grid(alpha=0.3)
    ax.tick_params(axis="x", rotation=30)
    if drawn:
        ax.legend(fontsize=7)
    fig.suptitle(f"comparison of {len(runs)} runs (shaded: subsidy windows)")
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
