"""Where a run's outputs land: safe targets, hidden staging, the commit, and leftovers.

A run writes into a hidden staging directory beside its target and renames it into place
only when everything is written, so a directory under its real name is always complete.
Every hidden name carries the PID of the process that made it, so what a killed process
left behind (``kill -9``, a lost terminal) is recognised and removed by the next run.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from sim.core.pids import pid_alive
from sim.errors import BadInput, OutputExists

PROJECT = Path(__file__).resolve().parent.parent  # the source tree (or site-packages)


def refuse_protected(out: Path) -> None:
    """``OutputExists`` for the current directory, the project and their parents: places a
    run or a sweep must never take over, whatever ``force`` says."""
    target = out.resolve()
    for keep, what in (
        (Path.cwd().resolve(), "the current directory"),
        (PROJECT, "the project directory"),
    ):
        if target == keep or target in keep.parents:
            raise OutputExists(
                f"{out}: is {what} or one of its parents; outputs replace "
                "what is there, so give a new directory"
            )


def real_target(out: Path) -> Path:
    """``out`` itself, or for a symbolic link the directory it points to: the outputs are
    written there and the link is left as it is (a rename would replace the link)."""
    if not out.is_symlink():
        return out
    target = Path(os.path.realpath(out))
    if target.exists() and not target.is_dir():
        raise OutputExists(f"{out}: links to {target}, which is a file, not a directory")
    return target


def check_target(out: Path, force: bool) -> None:
    """Refuse, before a run writes anything, an output directory it must not replace (the
    current directory, the project, their parents, a non-empty one without ``force``) or
    could not create: ``OutputExists`` or ``BadInput``. Removes what dead runs left beside it."""
    refuse_protected(out)
    if out.exists() and not out.is_dir():
        raise OutputExists(f"{out}: output path exists and is a file, not a directory")
    if out.exists() and any(out.iterdir()) and not force:
        raise OutputExists(f"{out}: output directory exists and is not empty (use --force)")
    base = existing_parent(out)  # the staging directory and the final rename happen there
    try:
        tempfile.TemporaryDirectory(dir=base, prefix=".taxisim-probe-").cleanup()
    except OSError as exc:
        raise BadInput(f"{out}: cannot write in {base}: {exc.strerror or exc}") from None
    clear_leftovers(out)


def existing_parent(out: Path) -> Path:
    """The nearest existing directory above ``out``, where it will be created; ``BadInput``
    when that is a file."""
    base = next(p for p in (out.parent, *out.parent.parents) if p.exists())
    if not base.is_dir():
        raise BadInput(f"{out}: {base} is a file, not a directory")
    return base


# ``.NAME.incomplete-PID`` (staging), ``.NAME.csv-PID`` (a parquet run before conversion)
# and its own staging ``..NAME.csv-PID.incomplete-PID``, ``.NAME.old-PID`` (a replaced
# directory), ``.NAME.PID.tmp`` (a file before its rename).
_LEFTOVER = r"\.{{1,2}}{name}\.(?:csv-\d+\.)?(?:(?:incomplete|csv|old)-(\d+)|(\d+)\.tmp)"


def clear_leftovers(out: Path) -> list[Path]:
    """Remove the hidden staging directories and temp files beside ``out`` whose process
    is gone; return what was removed."""
    pattern = re.compile(_LEFTOVER.format(name=re.escape(out.name)))
    removed = []
    with contextlib.suppress(OSError):
        for entry in out.parent.iterdir():
            m = pattern.fullmatch(entry.name)
            if m is None or pid_alive(int(m.group(1) or m.group(2))):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    entry.unlink()
            removed.append(entry)
    return removed


def write_file(out: Path, write: Callable[[Path], object]) -> None:
    """``write`` a hidden file beside ``out``, then rename it: never half a file. An
    unwritable place is ``BadInput``, with nothing left behind."""
    base = existing_parent(out)
    tmp = out.parent / f".{out.name}.{os.getpid()}.tmp"
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        clear_leftovers(out)
        write(tmp)
        tmp.replace(out)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise BadInput(f"{out}: cannot write in {base}: {exc.strerror or exc}") from None


def staging_dir(out: Path) -> Path:
    """A fresh hidden directory beside ``out``; renamed to ``out`` by ``commit``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = out.parent / f".{out.name}.incomplete-{os.getpid()}"
    if staging.exists():
        shutil.rmtree(staging)
    staging.mkdir()
    return staging


def commit(staging: Path, out: Path, force: bool = False) -> None:
    """Move a finished staging directory into place.

    With ``force`` an existing ``out`` is replaced. Without it the rename itself refuses a
    non-empty ``out`` (one that another run filled while this one ran): the finished
    outputs are then kept beside it, under a name the error gives, never silently lost
    and never replacing the other run's.
    """
    if force and (out.exists() or out.is_symlink()):
        old = out.parent / f".{out.name}.old-{os.getpid()}"
        os.replace(out, old)
        os.replace(staging, out)
        if old.is_dir() and not old.is_symlink():
            shutil.rmtree(old, ignore_errors=True)
        else:
            old.unlink()
        return
    try:
        os.rename(staging, out)  # replaces an empty directory only
    except OSError as exc:
        if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
            raise
        kept = out.parent / f"{out.name}.unsaved-{os.getpid()}"
        os.rename(staging, kept)
        raise OutputExists(
            f"{out}: was filled by something else while this run ran; this run's outputs "
            f"are in {kept} (use --force to replace)"
        ) from None


def discard(staging: Path) -> None:
    shutil.rmtree(staging, ignore_errors=True)
