"""The calibration section of the report: the model against the record, read back from a
directory ``run_sim.py calibrate`` wrote (its ``sweep.json``, ``trials.csv`` and
``figures.csv``, and the targets file its calibration file names).

It reads files only, as every view of ``sim.report`` does: the calibration package sits
above the report in the layers, so the few columns needed are read here with ``csv``.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from sim.errors import BadInput
from sim.report.rundir import read_json

SWEEP_FILE = "sweep.json"


@dataclass(frozen=True)
class Target:
    id: str
    what: str  # how the model's figure is read: "mean of daily.drivers_accepting_share ..."
    value: float
    tolerance: float
    source: str


@dataclass(frozen=True)
class Calibrated:
    """A finished calibration as the report shows it."""

    dir: Path
    name: str
    targets: list[Target]
    params: list[str]
    trials: list[dict[str, str]]  # finished trials, best (lowest loss) first
    band: list[int]  # trial numbers of the best ``band_trials``
    replications: int
    runs: dict[tuple[int, str], list[float]]  # (trial, target) -> one value per replication

    @property
    def best(self) -> dict[str, str]:
        return self.trials[0]

    def best_run_dir(self) -> Path:
        """The run directory of the best trial's first replication."""
        return self.dir / "runs" / f"{int(self.best['trial']) * self.replications:05d}"


def is_calibration_dir(path: str | Path) -> bool:
    """A directory ``calibrate`` wrote: a ``sweep.json`` that records a calibration."""
    path = Path(path)
    if not (path / SWEEP_FILE).is_file() or not (path / "trials.csv").is_file():
        return False
    try:
        spec = read_json(path / SWEEP_FILE).get("spec")
    except BadInput:
        return False
    return isinstance(spec, dict) and isinstance(spec.get("calibration"), dict)


def read_calibrated(path: str | Path) -> Calibrated:
    """The calibration in ``path``, or ``BadInput`` naming what is missing or damaged."""
    path = Path(path)
    if not path.is_dir():
        raise BadInput(f"{path}: " + ("not a directory" if path.exists() else "no such directory"))
    if not is_calibration_dir(path):
        raise BadInput(
            f"{path}: not a calibration directory (no sweep.json of a calibration with "
            "trials.csv; run_sim.py calibrate writes one)"
        )
    record = read_json(path / SWEEP_FILE)
    spec = record["spec"]["calibration"]
    source = Path(str(record.get("sweep_file") or ""))
    targets = _targets(source.parent / str(spec.get("targets", "")), path)
    trials = _rows(path / "trials.csv")
    ids = [t.id for t in targets]
    done = [r for r in trials if r.get("status") == "ok" and _num(r.get("loss")) is not None]
    if not done:
        raise BadInput(f"{path / 'trials.csv'}: no trial finished, so nothing to show")
    done.sort(key=lambda r: (_num(r["loss"]), int(r["trial"])))
    columns = list(trials[0]) if trials else []
    params = [c for c in columns[3:] if c not in ids and c != "error"]
    runs: dict[tuple[int, str], list[float]] = {}
    for row in _rows(path / "figures.csv"):
        value = _num(row.get("value"))
        if value is not None:
            runs.setdefault((int(row["trial"]), row["target"]), []).append(value)
    band = [int(r["trial"]) for r in done[: int(spec.get("band_trials", 5))]]
    return Calibrated(
        path,
        source.name or path.name,
        targets,
        params,
        done,
        band,
        int(spec.get("replications", 1)),
        runs,
    )


def _rows(path: Path) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            return list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BadInput(f"{path}: cannot be read ({exc})") from None


def _num(text: Any) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _targets(path: Path, caldir: Path) -> list[Target]:
    if not path.is_file():
        raise BadInput(
            f"{caldir}: the targets file of its calibration, {path}, is not there (moved?)"
        )
    out = []
    for i, row in enumerate(_rows(path), start=2):
        value, tol = _num(row.get("value")), _num(row.get("tolerance"))
        if not row.get("id") or value is None or tol is None:
            raise BadInput(f"{path}: line {i}: needs an id, a value and a tolerance")
        out.append(Target(row["id"], _what(row), value, tol, row.get("source") or ""))
    return out


def _what(row: dict[str, str]) -> str:
    """How the model's figure is read, in the targets file's own terms."""
    text = f"{row.get('agg') or 'mean'} of {row.get('table')}.{row.get('metric')}"
    if row.get("where"):
        text += f" where {row['where']}"
    if row.get("period"):
        text += f" on {row['period']}"
    if row.get("ratio_to"):
        text += f" / the same on {row['ratio_to']}"
    if row.get("scale") and _num(row["scale"]) not in (None, 1.0):
        text += f" x {row['scale']}"
    return text


def _z(cal: Calibrated, t: Target, value: float) -> float:
    return (value - t.value) / t.tolerance if t.tolerance else math.nan


def targets_frame(cal: Calibrated) -> pd.DataFrame:
    """One row per target: the record and its tolerance, the best trial's mean, the band
    over every replication of the best trials, and z = (model - record) / tolerance."""
    rows = []
    for t in cal.targets:
        band = [v for k in cal.band for v in cal.runs.get((k, t.id), [])]
        mean = _num(cal.best.get(t.id))
        rows.append(
            {
                "target": t.id,
                "read from the model as": t.what,
                "record": t.value,
                "tolerance": t.tolerance,
                "model (best trial)": mean,
                "band low": min(band) if band else None,
                "band high": max(band) if band else None,
                "z": round(_z(cal, t, mean), 3) if mean is not None else None,
                "source": t.source,
            }
        )
    return pd.DataFrame(rows)


def params_frame(cal: Calibrated) -> pd.DataFrame:
    """The fitted values: the best trial's, and their range over the best trials."""
    band = [r for r in cal.trials if int(r["trial"]) in cal.band]
    rows = []
    for p in cal.params:
        values = [v for v in (_num(r.get(p)) for r in band) if v is not None]
        best = cal.best.get(p, "")
        rows.append(
            {
                "parameter": p,
                "fitted (best trial)": _num(best) if _num(best) is not None else best,
                "lowest of the best trials": min(values) if values else None,
                "highest of the best trials": max(values) if values else None,
            }
        )
    return pd.DataFrame(rows)


def fit_figure(cal: Calibrated) -> go.Figure:
    """Each target on one scale, (model - record) / tolerance: the tolerance is the band
    from -1 to 1; dots are every replication of the best trials, the bar their range, the
    diamond the best trial's mean. Hover gives the figures in the target's own units."""
    ids = [t.id for t in cal.targets]
    zs_all = [-1.0, 1.0]  # the tolerance is always in view
    fig = go.Figure()
    fig.add_hrect(y0=-1, y1=1, fillcolor="#d9d9d9", opacity=0.6, line_width=0, layer="below")
    fig.add_hline(y=0, line={"color": "#4d4d4d", "width": 1.5})
    for i, t in enumerate(cal.targets):
        values = [(k, v) for k in cal.band for v in cal.runs.get((k, t.id), [])]
        if values:
            zs = [_z(cal, t, v) for _, v in values]
            zs_all += [z for z in zs if math.isfinite(z)]
            fig.add_trace(
                go.Scatter(
                    x=[t.id, t.id],
                    y=[min(zs), max(zs)],
                    mode="lines",
                    line={"color": "rgba(22,119,255,0.35)", "width": 14},
                    name="band: runs of the best trials",
                    legendgroup="band",
                    showlegend=i == 0,
                    hoverinfo="skip",
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=[t.id] * len(values),
                    y=zs,
                    mode="markers",
                    marker={"color": "#1677ff", "size": 6},
                    name="a run of a best trial",
                    legendgroup="runs",
                    showlegend=i == 0,
                    customdata=[[k, v] for k, v in values],
                    hovertemplate=f"{t.id}, trial %{{customdata[0]}}: %{{customdata[1]:.4g}}"
                    f" (record {t.value:.4g} ± {t.tolerance:.4g})<extra></extra>",
                )
            )
        mean = _num(cal.best.get(t.id))
        if mean is not None:
            fig.add_trace(
                go.Scatter(
                    x=[t.id],
                    y=[_z(cal, t, mean)],
                    mode="markers",
                    marker={"color": "#b3261e", "size": 12, "symbol": "diamond"},
                    name=f"best trial ({cal.best['trial']}), mean",
                    legendgroup="best",
                    showlegend=i == 0,
                    hovertemplate=f"{t.id}: model {mean:.4g}, record {t.value:.4g} ± "
                    f"{t.tolerance:.4g}<extra></extra>",
                )
            )
    fig.update_layout(
        title=f"Model against the record: best {len(cal.band)} trials x "
        f"{cal.replications} replication(s); grey: within the tolerance",
        xaxis={"categoryorder": "array", "categoryarray": ids, "title": "target"},
        yaxis={
            "title": "(model - record) / tolerance",
            "zeroline": False,
            "range": [min(zs_all) - 0.5, max(zs_all) + 0.5],
        },
        height=420,
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 60},
    )
    return fig
