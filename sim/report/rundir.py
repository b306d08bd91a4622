"""A finished run read back from its directory, for the views of ``sim.report``.

Every read names the file it comes from when it fails, so a damaged run directory (a
truncated ``summary.json``, a ``daily.csv`` cut in the middle of a row) is one line,
``DIR/FILE: what is wrong``, raised as ``BadInput``, never a traceback.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import BadInput, ScenarioError
from sim.io import files as io

DAILY_NEEDS = ("day", "date", "rail", "riders_bound_share", "ride_share", "rides_paid")


def check_run_dir(path: str | Path) -> Path:
    """The directory of a finished run, or ``BadInput`` saying what is missing."""
    path = Path(path)
    if not path.is_dir():
        raise BadInput(f"{path}: no such run directory")
    for name in ("summary.json", "daily.csv"):
        if not (path / name).is_file():
            raise BadInput(f"{path}: not a run directory (no {name})")
    if any(path.glob("*.parquet")):
        try:  # said before any table is read, not as an import error halfway through
            io.require_parquet()
        except BadInput as exc:
            raise BadInput(f"{path}: reading a run written with {exc}") from None
    return path


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from a run directory, or ``BadInput`` naming the file."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise BadInput(
            f"{path}: damaged, not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    if not isinstance(data, dict):
        raise BadInput(f"{path}: damaged, not a JSON object")
    return data


def read_table(folder: Path, name: str, columns: list[str] | None = None) -> dict[str, np.ndarray]:
    """A table of a run directory (CSV or parquet), or ``BadInput`` naming the file when it
    is damaged: rows of the wrong length, a cut file, columns of the wrong kind."""
    where = folder / (f"{name}.parquet" if (folder / f"{name}.parquet").exists() else f"{name}.csv")
    try:
        table = io.read_columns(folder, name, columns)
    except BadInput as exc:
        raise BadInput(str(exc) if str(where) in str(exc) else f"{where}: {exc}") from None
    except StopIteration:
        raise BadInput(f"{where}: damaged, empty file (no header)") from None
    except IndexError:
        raise BadInput(f"{where}: damaged, a row is shorter than the header") from None
    except (ValueError, csv.Error, UnicodeDecodeError, KeyError, OSError) as exc:
        raise BadInput(f"{where}: damaged ({type(exc).__name__}: {exc})") from None
    except Exception as exc:  # pyarrow's own errors for a damaged parquet file
        if type(exc).__module__.startswith("pyarrow"):
            raise BadInput(f"{where}: damaged ({exc})") from None
        raise
    return table


def run_labels(dirs: Sequence[Path]) -> list[str]:
    """Directory names, with parents added where two runs would share a name."""
    labels = [d.name for d in dirs]
    if len(set(labels)) < len(labels):
        labels = [f"{d.parent.name}/{d.name}" for d in dirs]
    if len(set(labels)) < len(labels):
        labels = [str(d) for d in dirs]
    return labels


@dataclass
class Run:
    """One finished run: summary, manifest, daily table and scenario, read once."""

    dir: Path
    label: str
    summary: dict[str, Any] = field(repr=False)
    manifest: dict[str, Any] = field(repr=False)
    daily: dict[str, np.ndarray] = field(repr=False)

    @classmethod
    def read(cls, path: str | Path, label: str | None = None) -> Run:
        d = check_run_dir(path)
        summary = read_json(d / "summary.json")
        manifest = read_json(d / "manifest.json") if (d / "manifest.json").exists() else {}
        daily = read_table(d, "daily")
        missing = [c for c in DAILY_NEEDS if c not in daily]
        if missing:
            raise BadInput(f"{d / 'daily.csv'}: damaged, no column {', '.join(missing)}")
        return cls(d, label or d.name, summary, manifest, daily)

    @cached_property
    def scenario(self):
        """The resolved scenario of the manifest, or None when another version wrote it."""
        from sim.scenario.load import scenario_from_dict

        try:
            return scenario_from_dict(self.manifest["scenario"], "manifest.json")
        except (ScenarioError, KeyError, TypeError):
            return None

    @property
    def rails(self) -> list[str]:
        """The mobile rails of the daily table, in their order."""
        return [r for r in dict.fromkeys(self.daily["rail"].tolist()) if r != "cash"]

    @property
    def days(self) -> float:
        return float(self.summary.get("simulated_days", 1))

    @property
    def start(self) -> datetime:
        if self.scenario is not None:
            return self.scenario.start
        first = str(self.daily["date"][0]) if len(self.daily["date"]) else "2000-01-01"
        return datetime.fromisoformat(first)

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    def rail_rows(self, rail: str) -> np.ndarray:
        return self.daily["rail"] == rail

    def dates(self, rows: np.ndarray) -> list[date]:
        return [date.fromisoformat(str(d)) for d in self.daily["date"][rows]]

    def windows(self) -> list[dict[str, Any]]:
        """Subsidy windows that fall inside the run, clipped to it: policy, rail, side,
        start, planned end, end (after any extension)."""
        if self.scenario is None:
            return []
        out = []
        for p in self.scenario.policies:
            lo, hi = max(p.start, self.start), min(p.effective_end, self.end)
            if lo < hi:
                out.append(
                    {
                        "policy": p.id,
                        "rail": p.rail,
                        "side": p.side,
                        "start": lo,
                        "planned_end": min(p.end, self.end),
                        "end": hi,
                        "extended": p.effective_end > p.end,
                    }
                )
        return out

    @property
    def full_riders(self) -> float:
        """Riders of the full city (the sample scaled back)."""
        sample = self.summary.get("sample") or 1.0
        return float(self.summary.get("simulated_riders", 0)) / float(sample)

    @property
    def full_drivers(self) -> float:
        sample = self.summary.get("sample") or 1.0
        return float(self.summary.get("simulated_drivers", 0)) / float(sample)

    @cached_property
    def rides(self):
        """The ride columns the report uses, as a pandas frame (read once, in C), or None
        when the run kept no ride table."""
        import pandas as pd

        cols = [
            *("channel", "platform", "status", "driver_id", "origin", "destination"),
            *("t_request", "t_match", "t_pickup", "t_dropoff", "t_paid", "t_abandon"),
        ]
        pq, text = self.dir / "rides.parquet", self.dir / "rides.csv"
        where = pq if pq.exists() else text
        if not where.exists():
            return None
        try:
            if where is pq:
                df = pd.read_parquet(pq, columns=cols)
            else:
                df = pd.read_csv(
                    text, usecols=cols, dtype={"channel": str, "platform": str, "status": str}
                )
        except (ValueError, OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
            raise BadInput(f"{where}: damaged ({str(exc).splitlines()[0]})") from None
        except Exception as exc:  # pyarrow's own errors for a damaged parquet file
            if type(exc).__module__.startswith("pyarrow"):
                raise BadInput(f"{where}: damaged ({exc})") from None
            raise
        short = df["t_request"].isna() | df["status"].isna()
        if short.any():
            line = int(np.argmax(short.to_numpy())) + 2  # the file's line: the header is 1
            raise BadInput(f"{where}: damaged, line {line} has no request time or status")
        return df

    def has_table(self, name: str) -> bool:
        return any((self.dir / f"{name}.{ext}").exists() for ext in ("csv", "parquet"))


def read_runs(paths: Sequence[str | Path], labels: Sequence[str] | None = None) -> list[Run]:
    """Several runs, labelled by directory name (or ``labels``); every directory is checked
    before any is read."""
    dirs = [check_run_dir(p) for p in paths]
    if labels is not None and len(labels) != len(dirs):
        raise BadInput(f"--label given {len(labels)} times for {len(dirs)} runs")
    names = list(labels) if labels is not None else run_labels(dirs)
    return [Run.read(d, n) for d, n in zip(dirs, names, strict=True)]
