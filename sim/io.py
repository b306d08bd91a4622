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
        if old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
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


class BadInput(ValueError):
    """An input that is not what a command needs (not a run directory, a missing extra)."""


PARQUET_TABLES = ("rides", "ledger_daily", "ledger")


def require_parquet() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise BadInput("--format parquet needs pyarrow: pip install 'taxisim[parquet]'") from None


def tables_to_parquet(folder: Path, names: tuple[str, ...] = PARQUET_TABLES) -> None:
    """Replace the big CSV tables of a run directory by parquet files, one table at a time.

    Call it on a directory that is not yet under its real name (a staging directory), so
    the switch of format is as atomic as the run. Column types come from a first pass over
    the whole file (integers, else floats, else strings; blanks are nulls; a column with
    no value at all is a string column, as policy ids are), so a column
    that is blank for the first hundred thousand rows still gets the right type; both
    passes stream, so memory does not grow with the table.
    """
    require_parquet()
    for name in names:
        src = folder / f"{name}.csv"
        if src.exists():
            _csv_to_parquet(src, folder / f"{name}.parquet")
            src.unlink()


def _csv_to_parquet(src: Path, dst: Path) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv
    from pyarrow import parquet as pq

    def reader(types=None):
        return pacsv.open_csv(src, convert_options=pacsv.ConvertOptions(
            column_types=types or {}, strings_can_be_null=True,
            null_values=[""], quoted_strings_can_be_null=True))

    with open(src, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    order = (pa.int64(), pa.float64(), pa.string())
    rank = dict.fromkeys(header, 0)
    seen: set[str] = set()
    for batch in reader(dict.fromkeys(header, pa.string())):
        for name, col in zip(batch.schema.names, batch.columns, strict=True):
            if col.null_count < len(col):
                seen.add(name)
            while rank[name] < len(order) - 1:
                try:
                    pc.cast(col, order[rank[name]])
                    break
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    rank[name] += 1
    kinds = {n: order[rank[n]] if n in seen else pa.string() for n in header}  # all blank: ids
    tmp = dst.parent / f".{dst.name}.tmp"
    schema = pa.schema([(n, kinds[n]) for n in header])
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for batch in reader(kinds):
            writer.write_batch(batch)
    os.replace(tmp, dst)


def read_columns(folder: str | Path, name: str,
                 columns: list[str] | None = None) -> dict[str, np.ndarray]:
    """A table of a run directory, from ``NAME.csv`` or ``NAME.parquet``, as columns."""
    folder = Path(folder)
    pq_path = folder / f"{name}.parquet"
    if pq_path.exists():
        import pyarrow as pa
        from pyarrow import parquet as pq

        table = pq.read_table(pq_path, columns=columns)
        out: dict[str, np.ndarray] = {}
        for c in table.column_names:
            col = table.column(c)
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                out[c] = np.array(col.fill_null("").to_pylist(), dtype=str)
            else:
                out[c] = col.to_numpy(zero_copy_only=False).astype(float)
        return out
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        keep = [i for i, c in enumerate(header) if columns is None or c in columns]
        cols: list[list[str]] = [[] for _ in keep]
        for row in reader:
            for c, i in zip(cols, keep, strict=True):
                c.append(row[i])
    out = {}  # as read_table: numbers as floats, anything else as strings
    for i, values in zip(keep, cols, strict=True):
        try:
            out[header[i]] = np.array([float(v) if v != "" else np.nan for v in values])
        except ValueError:
            out[header[i]] = np.array(values)
    return out
