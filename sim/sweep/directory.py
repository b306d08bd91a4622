"""The sweep directory: whose it is, who may write it now, and which run directories belong.

A directory holds one sweep's results. Rerunning the same sweep file resumes it (an edited
file included: a run whose scenario changed is computed again); another sweep is refused
unless forced, so ``runs.csv`` never sits next to run directories it does not list.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import IO, Any

from sim.io import files as io

SWEEP_FILE = "sweep.json"
_RUN_DIR = re.compile(r"^\d{5,}$")


def identity(source: str | None) -> str | None:
    """What a sweep directory records as its owner: the sweep file's absolute path, or None
    for a sweep given from Python as a mapping or a ``SweepSpec``."""
    return None if source is None else str(Path(source).resolve())


def recorded(out: Path) -> dict[str, Any] | None:
    """The directory's ``sweep.json`` as a sweep writes it (its owner, spec and run count),
    or None when there is none, or it is unreadable or some other file of that name."""
    try:
        data = json.loads((out / SWEEP_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not {"sweep_file", "spec", "runs"} <= set(data):
        return None
    return data


def interrupted_sweep(out: Path) -> bool:
    """Is ``out`` a sweep stopped before it wrote its record (versions that wrote
    ``sweep.json`` only at the end)? Then it holds nothing but its lock and run folders,
    each with its ``sweep_run.json``, so nobody's own files are ever taken for a sweep's."""
    if not {p.name for p in out.iterdir()} <= {".lock", "runs"}:
        return False
    runs = out / "runs"
    return runs.is_dir() and all(
        d.name.startswith(".")  # a run's staging directory
        or (_RUN_DIR.match(d.name) and (d / "sweep_run.json").is_file())
        for d in runs.iterdir()
    )


def _same_owner(stored: Any, mine: str | None) -> bool:
    if stored is None or mine is None:
        return stored is None and mine is None
    # Written relative to the working directory before paths were absolute: the same file
    # only if it resolves there from here too.
    return str(Path(stored).resolve()) == mine


def check_out(out: Path, owner: str | None, force: bool = False) -> None:
    """Refuse the current or project directory, a file, a non-empty directory without a
    sweep's ``sweep.json`` (even with ``force``: nothing there is a sweep's to replace), or
    another sweep's directory (unless ``force``); raises ``OutputExists`` before anything
    is written."""
    io.refuse_protected(out)
    if out.exists() and not out.is_dir():
        raise io.OutputExists(f"{out}: exists and is not a directory")
    if not out.is_dir() or all(p.name == ".lock" for p in out.iterdir()):
        return
    info = recorded(out)
    if info is None:
        if interrupted_sweep(out):
            return  # resumed: its finished runs are kept where their hashes still match
        raise io.OutputExists(
            f"{out}: not empty and not a sweep directory (no {SWEEP_FILE} written by a sweep)"
        )
    if force:
        return
    stored = info.get("sweep_file")
    if not _same_owner(stored, owner):
        who = f"sweep file {stored}" if stored else "a sweep run from Python"
        raise io.OutputExists(
            f"{out}: holds the results of another sweep ({who}); use "
            "another --out, or --force to replace them"
        )


RESULTS = ("runs.csv", "aggregate.csv", "timing.csv", "failures.json")


def take_over(out: Path, owner: str | None) -> dict[str, Any] | None:
    """Make the directory this sweep's; returns what its last invocation did, if it was
    this sweep's already. Another sweep's tables and plots go (its runs go with ``prune``),
    so a sweep stopped before it wrote its own never leaves the other's in place."""
    info = recorded(out)
    if info is not None and _same_owner(info.get("sweep_file"), owner):
        return info.get("last")
    if info is not None or (out / "runs.csv").exists():
        for name in RESULTS:
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "plots", ignore_errors=True)
    return None


def lock(out: Path) -> IO[str]:
    """Hold an exclusive lock on the sweep directory (released by the OS if we die)."""
    import fcntl

    f = open(out / ".lock", "w")  # noqa: SIM115
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.close()
        raise io.OutputExists(f"{out}: another sweep is running in this directory") from None
    return f


def clear_staging(out: Path) -> None:
    """Half-written run directories (hidden names) of a run that was killed or lost."""
    for stale in (out / "runs").glob(".*"):
        shutil.rmtree(stale, ignore_errors=True)


def prune(out: Path, keep: set[str]) -> list[str]:
    """Remove run directories that are not runs of the current sweep (of a larger grid, or
    of another sweep replaced with ``force``); returns their names."""
    gone = []
    for d in sorted((out / "runs").iterdir()):
        if _RUN_DIR.match(d.name) and d.name not in keep:
            if d.is_dir():
                shutil.rmtree(d)
            else:
                d.unlink()
            gone.append(d.name)
    return gone
