"""The on-disk cache of travel-time matrices: verified before use, private to its user.

A cached matrix decides every pickup, wait and fare of a run, so it is never trusted
blindly: each ``.npy`` file has its sha256 beside it (computed while it is written) and
is hashed again, streaming, before a run maps it; a mismatch (a flipped byte, a
truncated or replaced file) is announced in one line and the matrix is rebuilt. The
files live in a directory of their own user (``u<UID>``, mode 0700), so a cache
directory shared by several users cannot be used to plant matrices for another.
Temp files carry the writer's PID and those of dead writers are removed.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import stat
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from sim.core.pids import pid_alive

KINDS = ("time", "dist")
_TEMP = re.compile(r".+\.(\d+)\.tmp")


def notice(text: str) -> None:
    print(f"notice: {text}", file=sys.stderr)


def private_dir(root: Path) -> Path | None:
    """This user's directory under ``root``, created 0700; None when it cannot be made or
    is not safely this user's (owned by another, or open to others)."""
    if not hasattr(os, "getuid"):
        return root
    own = root / f"u{os.getuid()}"
    try:
        own.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = os.lstat(own)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        notice(f"travel-time cache {own} is not this user's; matrices are kept in memory")
        return None
    if st.st_mode & 0o077:
        with contextlib.suppress(OSError):
            os.chmod(own, 0o700)
        if os.lstat(own).st_mode & 0o077:
            return None
    return own


_DIGESTS: dict[tuple[str, int, int, int], str] = {}  # this process's checks, by file state


def _sha256(path: Path) -> str:
    """The file's checksum, read once per process for each state of the file (a rewrite
    is a new inode, size or mtime): a sweep or a notebook running many scenarios on one
    city does not read hundreds of megabytes again for every run."""
    st = os.stat(path)
    key = (str(path), st.st_ino, st.st_size, st.st_mtime_ns)
    got = _DIGESTS.get(key)
    if got is None:
        with open(path, "rb") as f:
            got = _DIGESTS[key] = hashlib.file_digest(f, "sha256").hexdigest()
    return got


class MatrixCache:
    """The two matrices of one road graph (``key``: its hash) and their flags."""

    def __init__(self, root: Path, key: str) -> None:
        self.key = key
        self.root = root
        self.sums: dict[str, str] | None = None

    @functools.cached_property
    def dir(self) -> Path | None:
        """Made on first use: a city without matrices leaves no trace in the cache."""
        return private_dir(self.root)

    @property
    def record(self) -> dict | None:
        """What the manifest keeps: the cache key and the checksum of each matrix used."""
        if self.sums is None:
            return None
        return {"key": self.key, "sha256": dict(self.sums)}

    def _path(self, suffix: str) -> Path:
        assert self.dir is not None
        return self.dir / f"{self.key}.{suffix}"

    def load(self, n: int, dtypes: list[np.dtype]) -> tuple[np.ndarray, ...] | None:
        """Both matrices, memory-mapped, if present, whole and of the expected shape and
        types; None otherwise (a damaged entry is announced)."""
        if self.dir is None:
            return None
        self.clear_dead_temps()
        try:
            sums = json.loads(self._path("sha256").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        paths = [self._path(f"{k}.npy") for k in KINDS]
        try:
            bad = [p for p, k in zip(paths, KINDS, strict=True) if _sha256(p) != sums.get(k)]
            if not bad:
                mats = tuple(np.load(p, mmap_mode="r").view(np.ndarray) for p in paths)
        except (OSError, ValueError, AttributeError):
            return None
        if bad:
            notice(f"travel-time cache {bad[0]} does not match its checksum; rebuilding it")
            return None
        if any(m.shape != (n, n) or m.dtype != dt for m, dt in zip(mats, dtypes, strict=True)):
            return None
        self.sums = {k: sums[k] for k in KINDS}
        return mats

    def store(
        self,
        n: int,
        dtypes: list[np.dtype],
        batches: Callable[[], Iterator[tuple[np.ndarray, ...]]],
    ) -> tuple[np.ndarray, ...] | None:
        """Stream the rows of ``batches`` into temp .npy files, hashing them on the way,
        then rename them into place and write their checksums: a crash never leaves half a
        file under a real name. None when the cache cannot be written."""
        if self.dir is None:
            return None
        self.clear_dead_temps()
        pid = os.getpid()
        paths = [self._path(f"{k}.npy") for k in KINDS]
        temps = [p.with_name(f"{p.name}.{pid}.tmp") for p in paths]
        hashes = [hashlib.sha256() for _ in KINDS]
        try:
            with contextlib.ExitStack() as stack:
                files = [stack.enter_context(open(t, "wb")) for t in temps]
                for f, h, dt in zip(files, hashes, dtypes, strict=True):
                    head = {"descr": dt.str, "fortran_order": False, "shape": (n, n)}
                    np.lib.format.write_array_header_1_0(_Tee(f, h), head)
                for rows in batches():
                    for f, h, r in zip(files, hashes, rows, strict=True):
                        data = np.ascontiguousarray(r).tobytes()
                        f.write(data)
                        h.update(data)
                for f in files:
                    f.flush()
                    os.fsync(f.fileno())
            for t, p in zip(temps, paths, strict=True):
                os.replace(t, p)
            sums = {k: h.hexdigest() for k, h in zip(KINDS, hashes, strict=True)}
            self._put("sha256", json.dumps(sums))
        except OSError:  # a full or unwritable cache: the caller keeps them in memory
            return None
        finally:
            for t in temps:
                with contextlib.suppress(OSError):
                    t.unlink()
        self.sums = sums
        return tuple(np.load(p, mmap_mode="r").view(np.ndarray) for p in paths)

    def flag(self, name: str) -> str | None:
        if self.dir is None:
            return None
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return self._path(name).read_text(encoding="utf-8")
        return None

    def set_flag(self, name: str, value: str) -> None:
        if self.dir is not None:
            with contextlib.suppress(OSError):
                self._put(name, value)

    def _put(self, suffix: str, text: str) -> None:
        """A small file written under a temp name and renamed; the temp never outlives a
        failure (a full disk)."""
        path = self._path(suffix)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def clear_dead_temps(self) -> None:
        """Remove temp files of writers that were killed (each about n x n x 2 bytes)."""
        if self.dir is None:
            return
        with contextlib.suppress(OSError):
            for entry in self.dir.iterdir():
                m = _TEMP.fullmatch(entry.name)
                if m and not pid_alive(int(m.group(1))):
                    with contextlib.suppress(OSError):
                        entry.unlink()


class _Tee:
    """A file that also feeds what is written to a hash (for the .npy header)."""

    def __init__(self, f, h) -> None:
        self.f, self.h = f, h

    def write(self, data: bytes) -> int:
        self.h.update(data)
        return self.f.write(data)
