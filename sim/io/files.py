"""Output directories written atomically, the manifest, and reading tables back.

A run writes into a hidden staging directory beside its target and renames it into place
only when everything is written, so a directory under its real name is always complete.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import json
import os
import platform
import subprocess
import sys
from collections.abc import Iterable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import BadInput, OutputExists  # noqa: F401  (re-exported)
from sim.io.readers import csv_rows, damaged, read_json  # noqa: F401  (re-exported)
from sim.io.targets import (  # noqa: F401  (the run directory's life cycle, re-exported)
    PROJECT,
    check_target,
    clear_leftovers,
    commit,
    discard,
    existing_parent,
    real_target,
    refuse_protected,
    staging_dir,
    write_file,
)
from sim.money.ledger import Ledger
from sim.records.tables import (
    DAILY,
    DEMAND,
    LEDGER,
    LEDGER_DAILY,
    PLATFORMS,
    TABLES,
    TIMESERIES,
    Row,
    ledger_daily_row,
    ledger_row,
)

LIBRARIES = ("simpy", "numpy", "scipy", "networkx", "matplotlib", "pydantic", "pyyaml", "tqdm")
# The column kinds of every table a run writes (``sim.records.tables``), so their types do
# not depend on what a run's data happen to hold.
SCHEMAS: dict[str, dict[str, str]] = {name: t.kinds for name, t in TABLES.items()}


def write_json(path: Path, data: Any) -> None:
    path.write_text(
        json.dumps(data, indent=2, sort_keys=False, allow_nan=False) + "\n", encoding="utf-8"
    )


def write_csv(
    path: Path, columns: tuple[str, ...] | list[str], rows: Iterable[Sequence[object]]
) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(columns)
        w.writerows(rows)


def manifest(
    scenario, wall_s: float, source: str | None = None, city: Any = None
) -> dict[str, Any]:
    """Everything needed to reproduce a run: resolved scenario, seed, versions, commit, the
    content hash of every file it read, and the travel-time cache entry it used."""
    versions: dict[str, str | None] = {}
    for lib in LIBRARIES:
        try:
            versions[lib] = metadata.version(lib)
        except metadata.PackageNotFoundError:
            versions[lib] = None
    return {
        "scenario_file": source,
        "seed": scenario.seed,
        "package_version": package_version(),
        "git_commit": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "libraries": versions,
        "inputs": input_hashes(scenario, source),
        "travel_cache": getattr(city, "cache_record", None),
        "wall_s": round(wall_s, 3),
        "scenario": scenario.model_dump(mode="json"),
    }


def file_sha256(path: str | Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def input_hashes(scenario, source: str | None = None) -> dict[str, str]:
    """sha256 of every file a run reads: the scenario file and those it extends, and the
    GraphML road network, by the path the run used."""
    from sim.scenario.load import input_files

    paths = [str(p) for p in input_files(source)] if source else []
    if scenario.city.kind == "graphml":
        paths.append(str(Path(scenario.city.path).expanduser()))
    out = {}
    for p in dict.fromkeys(paths):
        try:
            out[p] = file_sha256(p)
        except OSError:
            continue  # gone since it was read: nothing to vouch for
    return out


def package_version() -> str | None:
    try:
        return metadata.version("taxisim")
    except metadata.PackageNotFoundError:
        return None


@functools.cache
def git_commit() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        out = subprocess.run(
            ["git", "-C", str(here), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def write_tables(
    staging: Path,
    timeseries: list[Row],
    daily: list[Row],
    demand: list[Row],
    platforms: list[Row],
    ledger: Ledger,
) -> None:
    """Every table of a finished run except rides.csv, which was streamed during it."""
    write_csv(staging / "timeseries.csv", TIMESERIES.columns, timeseries)
    write_csv(staging / "daily.csv", DAILY.columns, daily)
    write_csv(staging / "demand.csv", DEMAND.columns, demand)
    write_csv(staging / "platforms.csv", PLATFORMS.columns, platforms)
    write_csv(
        staging / "ledger_daily.csv",
        LEDGER_DAILY.columns,
        (ledger_daily_row(*flow) for flow in ledger.daily_flows()),
    )
    if ledger.journal is not None:
        acc = ledger.accounts
        write_csv(
            staging / "ledger.csv",
            LEDGER.columns,
            (
                ledger_row(t, ride, kind, acc[a], acc[b], fen)
                for t, ride, kind, a, b, fen in ledger.journal
            ),
        )


def read_table(path: str | Path) -> dict[str, np.ndarray]:
    """A CSV output as columns: numbers as float arrays, anything else as strings;
    ``BadInput`` naming the file when it is missing or damaged."""
    header, rows = csv_rows(Path(path))
    cols: list[list[str]] = [[] for _ in header]
    for row in rows:
        for c, v in zip(cols, row, strict=True):
            c.append(v)
    out = {}
    for name, values in zip(header, cols, strict=True):
        try:
            out[name] = np.array([float(v) if v != "" else np.nan for v in values])
        except ValueError:
            out[name] = np.array(values)
    return out


PARQUET_TABLES = ("rides", "ledger_daily", "ledger")


def require_parquet() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise BadInput("--format parquet needs pyarrow: pip install 'taxisim[parquet]'") from None


def tables_to_parquet(folder: Path, names: tuple[str, ...] = PARQUET_TABLES) -> None:
    """Replace the big CSV tables of a run directory by parquet files, one table at a time.

    Call it on a directory that is not yet under its real name (a staging directory), so
    the switch of format is as atomic as the run. Columns of ``SCHEMAS`` get their fixed
    type (integers as int64 with nulls for blanks, floats, strings); any other column
    gets one from a first pass over the whole file (integers, else floats, else strings; a
    column with no value at all is a string column), so a column that is blank for the
    first hundred thousand rows still gets the right type. Both passes stream, so memory
    does not grow with the table.
    """
    require_parquet()
    for name in names:
        src = folder / f"{name}.csv"
        if src.exists():
            _csv_to_parquet(src, folder / f"{name}.parquet", SCHEMAS.get(name, {}))
            src.unlink()


def _csv_to_parquet(src: Path, dst: Path, schema_kinds: dict[str, str]) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv
    from pyarrow import parquet as pq

    def reader(types=None):
        return pacsv.open_csv(
            src,
            convert_options=pacsv.ConvertOptions(
                column_types=types or {},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )

    with open(src, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    arrow = {"int": pa.int64(), "int?": pa.int64(), "float": pa.float64(), "str": pa.string()}
    kinds = {n: arrow[schema_kinds[n]] for n in header if n in schema_kinds}
    unknown = [n for n in header if n not in kinds]
    order = (pa.int64(), pa.float64(), pa.string())
    rank = dict.fromkeys(unknown, 0)
    seen: set[str] = set()
    for batch in reader(dict.fromkeys(header, pa.string())) if unknown else ():
        for name in unknown:
            col = batch.column(name)
            if col.null_count < len(col):
                seen.add(name)
            while rank[name] < len(order) - 1:
                try:
                    pc.cast(col, order[rank[name]])
                    break
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    rank[name] += 1
    kinds.update({n: order[rank[n]] if n in seen else pa.string() for n in unknown})
    tmp = dst.parent / f".{dst.name}.tmp"
    schema = pa.schema([(n, kinds[n]) for n in header])
    with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
        for batch in reader(kinds):
            writer.write_batch(batch)
    os.replace(tmp, dst)


def read_columns(
    folder: str | Path, name: str, columns: list[str] | None = None
) -> dict[str, np.ndarray]:
    """A table of a run directory, from ``NAME.csv`` or ``NAME.parquet``, as columns.

    Types follow ``SCHEMAS``, whatever the data hold and whichever the format: integer
    columns that are never blank are int64; integer columns that may be blank (``driver_id``,
    ``fare_fen``, ... of rides) are float64 with NaN for blanks, as are float columns; text
    columns are str arrays with "" for blanks. A column outside the schema is float64 if
    every value is a number or blank, else str.
    """
    folder = Path(folder)
    kinds = SCHEMAS.get(name, {})
    pq_path = folder / f"{name}.parquet"
    if pq_path.exists():
        import pyarrow as pa
        from pyarrow import parquet as pq

        try:
            table = pq.read_table(pq_path, columns=columns)
        except (pa.ArrowException, OSError) as exc:
            msg = " ".join(str(exc).split())
            raise damaged(pq_path, f"damaged: not a readable parquet table ({msg})") from None
        return {c: _arrow_column(table.column(c), kinds.get(c)) for c in table.column_names}
    header, rows = csv_rows(folder / f"{name}.csv")
    keep = [i for i, c in enumerate(header) if columns is None or c in columns]
    cols: list[list[str]] = [[] for _ in keep]
    for row in rows:
        for c, i in zip(cols, keep, strict=True):
            c.append(row[i])
    return {
        header[i]: _text_column(values, kinds.get(header[i]))
        for i, values in zip(keep, cols, strict=True)
    }


def _text_column(values: list[str], kind: str | None) -> np.ndarray:
    """CSV fields as an array of the column's kind (see ``read_columns``)."""
    if kind == "str":
        return np.array(values, dtype=str)
    try:
        if kind == "int":
            return np.fromiter(map(int, values), np.int64, len(values))
        nan = np.nan
        return np.fromiter((float(v) if v != "" else nan for v in values), np.float64, len(values))
    except ValueError:  # not what the schema says (or no schema): numbers if it can
        if kind is not None:
            return _text_column(values, None)
        return np.array(values, dtype=str)


def _arrow_column(col, kind: str | None) -> np.ndarray:
    """A parquet column as the same array ``_text_column`` makes of its CSV."""
    import pyarrow as pa

    is_text = pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
    if kind == "str" or (kind is None and is_text):
        if not is_text:
            col = col.cast(pa.string())
        return np.array(col.fill_null("").to_pylist(), dtype=str)
    if is_text:  # a number column with no value at all was stored as strings by old runs
        try:
            col = col.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return np.array(col.fill_null("").to_pylist(), dtype=str)
    if kind == "int" and col.null_count == 0 and pa.types.is_integer(col.type):
        return col.to_numpy().astype(np.int64)
    return col.to_numpy(zero_copy_only=False).astype(np.float64)
