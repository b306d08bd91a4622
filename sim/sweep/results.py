"""The tables and figures of a sweep, rebuilt from its run directories on every invocation.

Nothing here reads a clock or depends on the order runs finished in, so ``runs.csv`` and
``aggregate.csv`` are byte-identical whatever the workers; wall times go to ``timing.csv``.
"""

from __future__ import annotations

import contextlib
import csv
import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from sim.analysis.fits import mean_ci
from sim.io import files as io
from sim.records.summary import flatten, renamed_metric
from sim.registry import unknown_name

DEFAULT_METRICS = ("completed_share", "pickup_wait_s.mean", "money.subsidy_total_yuan")
STATS = ("mean", "std", "ci_lo", "ci_hi")


def unknown_metrics(wanted: list[str], known: set[str]) -> list[str]:
    """One message per wanted metric that is not in ``known``, with the nearest names (or
    the new name of a renamed one)."""
    examples = [
        m for m in (*DEFAULT_METRICS, "adoption.final.alipay.riders_bound") if m in known
    ] or sorted(known)[:4]
    return [
        unknown_name(
            "metric",
            m,
            sorted(known),
            near=3,
            renamed=renamed_metric(m, known),
            examples=examples,
        )
        for m in wanted
        if m not in known
    ]


def read_runs(tasks, failures: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One record per run: the task, its status and error, its flattened summary."""
    failed = {f["index"]: f for f in failures}
    records = []
    for t in tasks:
        rec: dict[str, Any] = {
            "task": t,
            "status": "missing",
            "error": "",
            "metrics": {},
            "wall_s": None,
        }
        run_dir = Path(t.dir)
        if t.index in failed:
            rec.update(status="error", error=" ".join(failed[t.index]["error"].split()))
        elif (run_dir / "summary.json").is_file():
            rec["status"] = "ok"
            rec["metrics"] = flatten(json.loads((run_dir / "summary.json").read_text("utf-8")))
            with contextlib.suppress(OSError, ValueError, KeyError):
                rec["wall_s"] = json.loads((run_dir / "sweep_run.json").read_text())["wall_s"]
        records.append(rec)
    return records


def write_results(
    out: Path, spec, tasks, failures: list[dict[str, Any]], attempted: set[int]
) -> None:
    """runs.csv, aggregate.csv, timing.csv, failures.json and plots/ of a sweep."""
    params = spec.params()
    records = read_runs(tasks, failures)
    fixed = ["index", "point", "replication", *params, "seed", "status", "error"]
    metrics: dict[str, None] = {}
    for rec in records:
        for name in rec["metrics"]:
            metrics.setdefault(name)
    columns = {m: (f"summary.{m}" if m in fixed else m) for m in metrics}
    _write_csv(
        out / "runs.csv",
        [*fixed, *columns.values()],
        (
            [
                t.index,
                t.point,
                t.replication,
                *(cell(t.params[p]) for p in params),
                t.seed,
                rec["status"],
                rec["error"],
                *(_num(rec["metrics"].get(m)) for m in metrics),
            ]
            for rec in records
            for t in [rec["task"]]
        ),
    )
    _write_csv(
        out / "aggregate.csv",
        ["point", *params, "metric", "n", *STATS],
        aggregate_rows(records, params, list(metrics)),
    )
    _write_csv(
        out / "timing.csv",
        ["index", "status", "computed_now", "wall_s"],
        (
            [
                r["task"].index,
                r["status"],
                int(r["task"].index in attempted and r["status"] == "ok"),
                _num(r["wall_s"]),
            ]
            for r in records
        ),
    )
    tmp = out / ".failures.json.tmp"
    io.write_json(tmp, failures)
    os.replace(tmp, out / "failures.json")
    wanted = list(spec.metrics) or [m for m in DEFAULT_METRICS if m in metrics]
    missing = [m for m in wanted if m not in metrics]
    if missing:
        import sys

        for m in missing:
            print(
                f"warning: metrics: no numeric summary metric {m!r} in the runs "
                "(see the columns of runs.csv)",
                file=sys.stderr,
            )
    if params:
        write_plots(out / "plots", spec, records, [m for m in wanted if m in metrics])


def aggregate_rows(
    records: list[dict[str, Any]], params: list[str], metrics: list[str]
) -> Iterable[list[Any]]:
    """Per grid point and metric: runs with a value, mean, std and 95% Student-t interval."""
    points: dict[int, list[dict[str, Any]]] = {}
    for rec in records:
        points.setdefault(rec["task"].point, []).append(rec)
    for point, recs in sorted(points.items()):
        head = [point, *(cell(recs[0]["task"].params[p]) for p in params)]
        for m in metrics:
            values = [
                r["metrics"][m]
                for r in recs
                if r["status"] == "ok" and r["metrics"].get(m) is not None
            ]
            yield [*head, m, len(values), *(_num(v) for v in stats(values))]


def stats(values: list[float]) -> tuple[float | None, ...]:
    """(mean, std, ci_lo, ci_hi) of a sample; std and the interval need two values."""
    if not values:
        return (None, None, None, None)
    mean, lo, hi = mean_ci(values)
    if len(values) < 2:
        return (mean, None, None, None)
    return (mean, float(np.std(values, ddof=1)), lo, hi)


def cell(v: Any) -> str:
    """A parameter value as a CSV cell or label."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float | str):
        return str(v)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return json.dumps(v, sort_keys=True, default=str)


def _num(v: Any) -> str:
    """Numbers printed the same way on every machine: integers as such, floats to 12 digits."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return ""
    if isinstance(v, int):
        return str(v)
    return f"{v:.12g}"


def _write_csv(path: Path, columns: list[str], rows: Iterable[list[Any]]) -> None:
    tmp = path.parent / f".{path.name}.tmp"
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)
    os.replace(tmp, path)


MAX_LINES = 6  # more lines than this in one panel are pooled into one, labelled so


def _wrap(text: str, width: int, sep: str = ".") -> str:
    """Break a long dotted name (or ``sep``-joined list) after a separator so it fits."""
    lines, line = [], ""
    for part in text.split(sep):
        piece = part if not line else sep + part
        if line and len(line) + len(piece) > width:
            lines.append(line + sep.rstrip())
            piece = part
            line = ""
        line += piece
    return "\n".join([*lines, line])


def write_plots(folder: Path, spec, records: list[dict[str, Any]], metrics: list[str]) -> None:
    """plots/<metric>.png (':' as '_'), one figure per metric (see ``sweep_figure``)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):  # metrics of an earlier invocation
        old.unlink()
    for metric in metrics:
        sweep_figure(spec, records, metric).savefig(
            folder / f"{metric.replace(':', '_').replace('/', '_')}.png", dpi=100
        )


def sweep_figure(spec, records: list[dict[str, Any]], metric: str):
    """Mean and 95% interval of ``metric`` against each swept axis, one line per combination
    of the other axes' values; past six, one line pooling them, labelled so."""
    from matplotlib.figure import Figure  # no pyplot: a notebook's backend stays as it is

    axes = spec.axes()
    ok = [r for r in records if r["status"] == "ok"]
    width = 5.2 * len(axes)
    fig = Figure(figsize=(width, 4.2))
    panels = fig.subplots(1, len(axes), squeeze=False)
    legend = max(
        _panel(ax, metric, spec, ok, paths, rows)
        for ax, (_, paths, rows) in zip(panels[0], axes, strict=True)
    )
    fig.set_figheight(4.2 + 0.1 * legend)  # legends sit under their panels
    fig.suptitle(
        f"{_wrap(metric, int(width * 11))}\nmean and 95% interval over replications", fontsize=10
    )
    fig.tight_layout()
    return fig


def _panel(
    ax, metric: str, spec, ok: list[dict[str, Any]], paths: list[str], rows: list[tuple[Any, ...]]
) -> int:
    """Draw one axis of a sweep; returns the number of text lines of its legend."""
    key = paths[0]
    xs = [row[0] for row in rows]
    numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in xs)
    pos = {cell(x): (x if numeric else i) for i, x in enumerate(xs)}
    others = [p for p in spec.params() if p not in paths]
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for r in ok:
        groups.setdefault(tuple(cell(r["task"].params[p]) for p in others), []).append(r)
    pooled = len(groups) > MAX_LINES
    if pooled:  # too many lines to read: one line over all values of the other parameters
        groups = {(): ok}
    for g, recs in groups.items():
        pts = []
        for label, x in pos.items():
            vals = [
                r["metrics"][metric]
                for r in recs
                if cell(r["task"].params[key]) == label and r["metrics"].get(metric) is not None
            ]
            if vals:
                mean, lo, hi = mean_ci(vals)
                pts.append((x, mean, mean - lo, hi - mean))
        if pts:
            x, y, dlo, dhi = zip(*pts, strict=True)
            name = (
                "\n".join(_wrap(f"{p}={v}", 40) for p, v in zip(others, g, strict=False))
                if not pooled
                else f"all {_combinations(others, ok)} combinations of\n"
                + _wrap(", ".join(others), 40, ", ")
                + "\npooled"
            )
            ax.errorbar(x, y, yerr=[dlo, dhi], marker="o", capsize=3, label=name or None)
    if not numeric:
        ax.set_xticks(list(pos.values()), [_wrap(t, 14, " ") for t in pos], fontsize=8, rotation=20)
    ax.set_xlabel(_wrap(" = ".join(paths), 40, " = "), fontsize=9)
    ax.set_ylabel(_wrap(metric, 30), fontsize=8)
    ax.tick_params(labelsize=8)
    ax.grid(alpha=0.3)
    labels = ax.get_legend_handles_labels()[1]
    if (len(groups) == 1 and not pooled) or not labels:
        return 0
    ncol = 2 if len(labels) > 3 else 1
    ax.legend(
        fontsize=6.5, ncol=ncol, loc="upper center", bbox_to_anchor=(0.5, -0.2), frameon=False
    )
    per_row = [
        max(t.count("\n") + 1 for t in labels[i : i + ncol]) for i in range(0, len(labels), ncol)
    ]
    return sum(per_row) + len(per_row) // 2 + 1


def _combinations(others: list[str], ok: list[dict[str, Any]]) -> int:
    return len({tuple(cell(r["task"].params[p]) for p in others) for r in ok})
