"""fit.png: the model against the record, one panel per target."""

from __future__ import annotations

import math
from pathlib import Path

from sim.calibrate.spec import Calibration
from sim.io import files as io
from sim.search.study import Trial


def write_fit(path: Path, cal: Calibration, best: Trial, band: list[Trial]) -> None:
    """Each target with its tolerance (grey band), every replication of the best trials
    (dots), their range (a bar) and the best trial's mean (a diamond)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(cal.targets)
    cols = min(n, 4)
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.0 * rows), squeeze=False)
    for ax, t in zip(axes.flat, cal.targets, strict=False):
        runs = [r[t.id] for tr in band for r in tr.details["runs"]]
        ax.axhspan(t.value - t.tolerance, t.value + t.tolerance, color="0.85", label="tolerance")
        ax.axhline(t.value, color="0.3", lw=1.5, label="target")
        ax.vlines(0, min(runs), max(runs), color="tab:blue", lw=6, alpha=0.35, label="band")
        ax.scatter(
            [0.15] * len(runs), runs, s=10, color="tab:blue", label="runs of the best trials"
        )
        ax.scatter(
            [0],
            [best.details["mean"][t.id]],
            marker="D",
            color="tab:red",
            zorder=3,
            label=f"best (trial {best.number})",
        )
        ax.set_xlim(-1, 1)
        ax.set_xticks([])
        ax.set_title(t.id, fontsize=10)
        ax.text(
            0.5,
            -0.04,
            "\n".join(_wrap(t.label(), 34)),
            transform=ax.transAxes,
            ha="center",
            va="top",
            fontsize=7,
        )
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.suptitle(
        f"Model against the record: best {len(band)} trials x "
        f"{cal.spec.replications} replication(s)",
        fontsize=11,
    )
    fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    io.write_file(
        path, lambda p: fig.savefig(p, format="png", dpi=110, metadata={"Software": None})
    )
    plt.close(fig)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width)[:4]
