"""Output directories written atomically, the manifest, and reading tables back.

A run writes into a hidden staging directory beside its target and renames it into place
only when everything is written, so a directory under its real name is always complete.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sim.daybook import DAILY_COLUMNS
from sim.metrics import TIMESERIES_COLUMNS

LIBRARIES = ("simpy", "numpy", "scipy", "networkx", "matplotlib", "pydantic", "pyyaml", "tqdm")


class OutputExists(Exception):
    """The output directory exists and holds files; pass ``force`` to replace it."""


def check_target(out: Path, force: bool) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())) and not force:
        raise OutputExists(f"{out}: output directory exists and is not empty (use --force)")


def staging_dir(out: Path) -> Path:
    """A fresh hidden directory beside ``out``; renamed to ``out`` by ``commit``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.incomplete-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


def commit(staging: Path, out: Path) -> None:
    """Move a finished staging directory into place, replacing an old ``out``."""
    if out.exists():
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
        os.replace(staging, out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out)


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n",
                    encoding="utf-8")


def write_csv(path: Path, columns: tuple[str, ...] | list[str], rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)


def manifest(scenario, wall_s: float, source: str | None = None) -> dict[str, Any]:
    """Everything needed to reproduce a run: resolved scenario, seed, versions, commit."""
    versions = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    try:
        version = metadata.version("taxisim")
    except metadata.PackageNotFoundError:
        version = None
    return {
        "scenario_file": source,
        "seed": scenario.seed,
        "package_version": version,
        "git_commit": _git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": versions,
        "wall_s": round(wall_s, 3),
        "scenario": scenario.model_dump(mode="json"),
    }


def _git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def write_tables(world, staging: Path) -> None:
    """Every table of a finished run except rides.csv, which was streamed during it."""
    write_csv(staging / "timeseries.csv", TIMESERIES_COLUMNS, world.timeseries)
    write_csv(staging / "daily.csv", DAILY_COLUMNS, world.days.rows)
    write_csv(staging / "ledger_daily.csv",
              ("day", "account", "rail", "policy", "entry", "amount_fen"),
              world.ledger.daily_rows())
    if world.ledger.journal is not None:
        acc = world.ledger.accounts
        write_csv(staging / "ledger.csv",
                  ("t", "ride_id", "entry", "from_account", "from_rail", "from_policy",
                   "to_account", "to_rail", "to_policy", "amount_fen"),
                  ((round(t, 3), ride, kind, *acc[a], *acc[b], fen)
                   for t, ride, kind, a, b, fen in world.ledger.journal))


def read_table(path: str | Path) -> dict[str, np.ndarray]:
    """A CSV output as columns: numbers as float arrays, anything else as strings."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        cols: list[list[str]] = [[] for _ in header]
        for row in reader:
            for c, v in zip(cols, row, strict=True):
                c.append(v)
    out = {}
    for name, values in zip(header, cols, strict=True):
        try:
            out[name] = np.array([float(v) if v != "" else np.nan for v in values])
        except ValueError:
            out[name] = np.array(values)
    return out
