"""Hostile cases of a run's outputs: nothing silently replaced, nothing left behind, and a
manifest that names every input it read."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

import run_sim
import sim
import sim.api
from sim.errors import OutputExists
from sim.io import files as iofiles
from tests.conftest import ROOT, small


def cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = run_sim.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# ---- 1. two runs into one --out ---------------------------------------------------------


def _fill_meanwhile(monkeypatch, target: Path) -> None:
    """Another run commits ``target`` while this one is simulating."""
    real = sim.api.simulate

    def simulate(*args, **kwargs):
        target.mkdir(parents=True, exist_ok=True)
        (target / "summary.json").write_text('{"other": true}\n')
        return real(*args, **kwargs)

    monkeypatch.setattr(sim.api, "simulate", simulate)


def test_a_target_filled_during_the_run_is_not_replaced(tmp_path, monkeypatch):
    out = tmp_path / "o"
    _fill_meanwhile(monkeypatch, out)
    with pytest.raises(OutputExists, match="filled by something else") as exc:
        sim.run(small(), out)
    assert json.loads((out / "summary.json").read_text()) == {"other": True}
    kept = [p for p in tmp_path.iterdir() if p.name.startswith("o.unsaved-")]
    assert len(kept) == 1 and str(kept[0]) in str(exc.value)
    assert (kept[0] / "summary.json").is_file() and (kept[0] / "rides.csv").is_file()


def test_cli_says_so_with_exit_2(tmp_path, monkeypatch):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(small()))
    out = tmp_path / "o"
    _fill_meanwhile(monkeypatch, out)
    code, _, err = cli("run", str(f), "--out", str(out), "--quiet")
    assert code == 2, err
    assert err.count("\n") == 1 and "filled by something else" in err and "unsaved-" in err
    assert json.loads((out / "summary.json").read_text()) == {"other": True}


def test_force_still_replaces(tmp_path, monkeypatch):
    out = tmp_path / "o"
    _fill_meanwhile(monkeypatch, out)
    res = sim.run(small(), out, force=True)
    assert "requests" in json.loads((res.dir / "summary.json").read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_an_empty_target_is_taken(tmp_path):
    (tmp_path / "o").mkdir()
    sim.run(small(), tmp_path / "o")
    assert (tmp_path / "o" / "summary.json").is_file()


# ---- 6. the manifest names its inputs ------------------------------------------------------


def test_cli_manifest_records_the_file_and_every_input(tmp_path):
    grid = tmp_path / "g.graphml"
    import networkx as nx

    g = nx.DiGraph(crs="epsg:32650")
    for i in range(4):
        g.add_node(str(i), x=float(i * 300), y=0.0)
    for i in range(3):
        g.add_edge(str(i), str(i + 1), length=300.0)
        g.add_edge(str(i + 1), str(i), length=300.0)
    nx.write_graphml(g, grid)
    base = tmp_path / "base.yaml"
    base.write_text(yaml.safe_dump({**small(), "city": {"kind": "graphml", "path": str(grid)}}))
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nseed: 3\n")
    code, _, err = cli("run", str(child), "--out", str(tmp_path / "o"), "--quiet")
    assert code == 0, err
    m = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert m["scenario_file"] == str(child)
    assert set(m["inputs"]) == {str(child), str(base), str(grid)}
    assert m["inputs"][str(grid)] == iofiles.file_sha256(grid)
    cache = m["travel_cache"]
    assert len(cache["key"]) == 64 and set(cache["sha256"]) == {"time", "dist"}


# ---- 7. left behind --------------------------------------------------------------------------


def test_leftovers_of_dead_runs_are_removed_at_start(tmp_path):
    dead, live = _dead_pid(), os.getppid()
    names = [
        f".o.incomplete-{dead}",
        f".o.csv-{dead}",
        f"..o.csv-{dead}.incomplete-{dead}",
        f".o.old-{dead}",
    ]
    for name in names:
        (tmp_path / name).mkdir()
        (tmp_path / name / "rides.csv").write_text("x\n")
    (tmp_path / f".o.{dead}.tmp").write_text("")
    (tmp_path / f".o.incomplete-{live}").mkdir()  # a live process's: not ours to remove
    (tmp_path / f".other.incomplete-{dead}").mkdir()  # another target's
    sim.run(small(), tmp_path / "o")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["o", f".o.incomplete-{live}", f".other.incomplete-{dead}"]
    )


def test_a_symlinked_out_is_written_through(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    link = tmp_path / "link"
    link.symlink_to(real)
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(small()))
    code, _, err = cli("run", str(f), "--out", str(link), "--quiet")
    assert code == 0, err
    assert link.is_symlink() and (real / "summary.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link", "real", "s.yaml"]


def test_sighup_stops_a_run_like_sigterm(tmp_path):
    f = tmp_path / "long.yaml"
    f.write_text(yaml.safe_dump(small(duration="200d", demand={"daily_requests": 40000})))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_sim.py"), "run", str(f), "--out", str(out), "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".out.incomplete-*/rides.csv")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGHUP, err
    assert err.startswith("terminated:") and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.yaml"]


# ---- 11. damaged run directories are named, not tracebacks ------------------------------------


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    return sim.run(small(), tmp_path_factory.mktemp("run") / "r").dir


def _copy(finished: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(finished, tmp_path / "r"))


@pytest.mark.parametrize(
    "content,needle",
    [
        (b'{"requests": 1', "summary.json: damaged: not valid JSON"),
        (b"[1, 2]", "summary.json: damaged: holds a list, not a mapping"),
        (b"\xff\xfe\x00binary", "summary.json: damaged: not UTF-8 text"),
        (None, "summary.json: missing"),
        ("dir", "summary.json: is a directory, not a file"),
    ],
)
def test_damaged_json_is_named(finished, tmp_path, content, needle):
    from sim.errors import BadInput

    d = _copy(finished, tmp_path)
    path = d / "summary.json"
    path.unlink()
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(BadInput, match=needle.replace(".", r"\.")):
        iofiles.read_json(path)


def test_damaged_tables_are_named(finished, tmp_path):
    from sim.errors import BadInput

    d = _copy(finished, tmp_path)
    rides = d / "rides.csv"
    data = rides.read_bytes()
    rides.write_bytes(data[: len(data) // 2 - 7])  # cut mid-line
    with pytest.raises(BadInput, match=r"rides\.csv: damaged: the last line is cut short"):
        iofiles.read_columns(d, "rides")
    cut = data[: len(data) // 2]
    rides.write_bytes(cut[: cut.rindex(b"\n") - 9] + b"\n")  # a line missing its end
    with pytest.raises(BadInput, match=r"rides\.csv: damaged: line \d+ has \d+ fields"):
        iofiles.read_columns(d, "rides")
    rides.write_bytes(b"\x00\xff" * 100)
    with pytest.raises(BadInput, match=r"rides\.csv: damaged"):
        iofiles.read_columns(d, "rides")
    rides.write_bytes(b"")
    with pytest.raises(BadInput, match=r"rides\.csv: damaged: empty"):
        iofiles.read_columns(d, "rides")
    rides.unlink()
    rides.mkdir()
    with pytest.raises(BadInput, match=r"rides\.csv: is a directory"):
        iofiles.read_columns(d, "rides")
    (d / "daily.csv").unlink()
    with pytest.raises(BadInput, match=r"daily\.csv: missing"):
        iofiles.read_table(d / "daily.csv")
