"""run_sim.py as a user meets it: exit codes, error lines, outputs on disk."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.conftest import run_cli, small

cli = run_cli


def scenario_file(tmp_path: Path, **over) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(yaml.safe_dump(small(**over)), encoding="utf-8")
    return p


def test_run_writes_outputs_and_prints_a_table(tmp_path):
    out = tmp_path / "out"
    r = cli("run", str(scenario_file(tmp_path)), "--out", str(out), "--set", "fleet.drivers=7")
    assert r.returncode == 0, r.stderr
    assert "completed" in r.stdout and "paid with cash" in r.stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["simulated_drivers"] == 7
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["scenario"]["fleet"]["drivers"] == 7 and manifest["seed"] == 1
    for name in ("rides.csv", "timeseries.csv", "daily.csv", "ledger_daily.csv"):
        assert (out / name).stat().st_size > 0
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_seed_flag_and_default_out_dir(tmp_path):
    r = cli("run", str(scenario_file(tmp_path)), "--seed", "5", "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "runs/small-seed5/summary.json").read_text())["seed"] == 5
    again = cli("run", str(scenario_file(tmp_path)), "--seed", "5", "--quiet", cwd=tmp_path)
    assert again.returncode == 0, again.stderr  # the default directory is replaced


def test_refuses_non_empty_out_unless_forced(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    f = str(scenario_file(tmp_path))
    r = cli("run", f, "--out", str(out), "--quiet")
    assert r.returncode == 2 and r.stderr.startswith("error:") and "--force" in r.stderr
    assert (out / "keep.txt").exists()
    r = cli("run", f, "--out", str(out), "--quiet", "--force")
    assert r.returncode == 0 and not (out / "keep.txt").exists()


def test_bad_scenario_exit_2_one_line_each_nothing_written(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nbogus_key: 1\nfleet: {drivers: -5}\ndemand: {daily_requests: .nan}\n")
    out = tmp_path / "out"
    r = cli("run", str(bad), "--out", str(out))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3 and all(x.startswith(f"error: {bad}: ") for x in lines)
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_validate(tmp_path):
    r = cli("validate", str(scenario_file(tmp_path)))
    assert r.returncode == 0 and "valid" in r.stdout
    r = cli("validate", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "file not found" in r.stderr
    r = cli("validate", str(scenario_file(tmp_path)), "--set", "city.kind=hexagon")
    assert r.returncode == 2 and "city" in r.stderr and "Traceback" not in r.stderr


def test_city_problem_is_bad_input(tmp_path):
    f = scenario_file(tmp_path, city={"kind": "graphml", "path": str(tmp_path / "no.graphml")})
    r = cli("run", str(f), "--out", str(tmp_path / "o"))
    assert r.returncode == 2 and r.stderr.startswith("error:") and "Traceback" not in r.stderr
    assert not (tmp_path / "o").exists()
