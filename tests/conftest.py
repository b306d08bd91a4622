"""Shared fixtures: a private matrix cache and small scenarios built from plain dicts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """``python run_sim.py ARGS`` as a user runs it, importing this tree (its Dask workers
    too), output captured."""
    return subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )


@pytest.fixture(autouse=True, scope="session")
def _cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    os.environ.setdefault("TAXISIM_CACHE", str(tmp_path_factory.mktemp("cache")))


def small(**over) -> dict:
    """A scenario small enough to run in well under a second, as a dict to override."""
    base = {
        "name": "small",
        "seed": 1,
        "start": "2013-12-02T06:00:00",
        "duration": "3h",
        "city": {"kind": "grid", "rows": 8, "cols": 8, "block_m": 500},
        "fleet": {"drivers": 60},
        "demand": {"daily_requests": 6000},
        "outputs": {"plots": False},
    }
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        help="rewrite tests/golden/*.json from the current code",
    )
