"""The public ``sim`` API: where a run's outputs live, how long, and the types of its tables."""

from __future__ import annotations

import gc
import json
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml

import run_sim
import sim
from sim.api import default_out
from sim.io import files as io
from tests.conftest import ROOT, run_cli, small

TABLES = ("rides", "daily", "timeseries", "ledger_daily", "ledger")
DTYPE_KIND = {"int": "i", "int?": "f", "float": "f", "str": "U"}


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """Temporary directories of ``sim.run`` go here, so a test sees only its own."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def test_temporary_outputs_live_as_long_as_the_results(private_tmp):
    res = sim.run(small(duration="2h", fleet={"drivers": 20}))
    root = res.dir.parent
    assert root.parent == private_tmp and root.name.startswith("taxisim-small-")
    assert len(res.table("rides")["ride_id"]) > 0 and (res.dir / "daily.csv").exists()
    daily = res.table("daily")
    del res
    gc.collect()
    assert not root.exists() and list(private_tmp.iterdir()) == []
    assert len(daily["day"]) > 0  # tables already read stay usable


def test_an_explicit_out_is_never_deleted(tmp_path, private_tmp):
    out = tmp_path / "mine"
    res = sim.run(small(duration="2h", fleet={"drivers": 20}), out)
    assert res.dir == out
    del res
    gc.collect()
    assert (out / "rides.csv").exists() and (out / "summary.json").exists()
    assert list(private_tmp.iterdir()) == []


def test_a_failed_run_leaves_no_temporary_directory(tmp_path, private_tmp):
    bad = small()
    bad["city"] = {"kind": "graphml", "path": str(tmp_path / "missing.graphml")}
    with pytest.raises(sim.CityError, match="file not found"):
        sim.run(bad)
    assert list(private_tmp.iterdir()) == []


def test_errors_are_exported():
    for name in ("CityError", "OutputExists", "ScenarioError", "SelfCheckError"):
        assert name in sim.__all__ and issubclass(getattr(sim, name), Exception)
    assert sim.OutputExists is io.OutputExists
    doc = " ".join(sim.run.__doc__.split())
    assert all(word in doc for word in ("overrides", "force", "progress", "garbage collected"))


def test_output_exists_from_the_api(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    with pytest.raises(sim.OutputExists):
        sim.run(small(duration="1h"), out)
    assert (out / "keep.txt").exists()


def test_default_out_of_a_run_with_overrides():
    scn = sim.load_scenario(ROOT / "scenarios" / "default.yaml")
    assert default_out(scn) == default_out(scn, []) == Path("runs/default-seed42")
    over = ["fleet.drivers=3000", "duration=6h"]
    got = default_out(scn, over)
    assert got.parent == Path("runs") and got.name.startswith("default-seed42-")
    tag = got.name.rsplit("-", 1)[1]
    assert re.fullmatch(r"[0-9a-f]{8}", tag), tag
    assert got == default_out(scn, list(over))  # the same command, the same directory
    assert got != default_out(scn, ["fleet.drivers=3001", "duration=6h"])


_cli = run_cli


def test_overridden_run_does_not_replace_the_plain_default_directory(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(small(duration="2h")), encoding="utf-8")
    r = _cli("run", str(f), "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    plain = tmp_path / "runs" / "small-seed1"
    before = (plain / "manifest.json").read_text()
    over = ("--set", "fleet.drivers=7", "--set", "duration=1h")
    r = _cli("run", str(f), "--quiet", *over, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    tagged = tmp_path / "runs" / default_out(sim.load_scenario(f), list(over[1::2])).name
    assert f"outputs: {tagged.relative_to(tmp_path)}" in r.stdout
    assert json.loads((tagged / "summary.json").read_text())["simulated_drivers"] == 7
    assert (plain / "manifest.json").read_text() == before  # the plain run is untouched
    r = _cli("run", str(f), "--quiet", *over, cwd=tmp_path)
    assert r.returncode == 0, r.stderr  # a rerun of the same command replaces its own
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["small-seed1", tagged.name]


def _scenario(tmp_path: Path, policy: bool) -> Path:
    """Two hours of the small city with the full ledger; with a rider subsidy or none
    (then every ``policy`` of the ledger is blank)."""
    data = small(
        duration="2h",
        outputs={"ledger": "full", "plots": False},
        population={"riders_apps": {"didi": 0.5}, "drivers_apps": {"didi": 0.5}},
    )
    if policy:
        data.update(
            payment={"riders_bound": {"alipay": 0.5}, "drivers_accepting": {"alipay": 0.6}},
            policies=[
                {
                    "id": "ali_rider_3",
                    "rail": "alipay",
                    "side": "rider",
                    "amount_yuan": 3,
                    "start": "2013-12-01",
                    "end": "2014-01-01",
                }
            ],
        )
    path = tmp_path / f"s{int(policy)}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def typed_runs(tmp_path_factory) -> dict[tuple[bool, str], Path]:
    folder = tmp_path_factory.mktemp("typed")
    out = {}
    for policy in (False, True):
        f = _scenario(folder, policy)
        for fmt in ("csv", "parquet"):
            out[policy, fmt] = folder / f"{int(policy)}-{fmt}"
            args = ["run", str(f), "--quiet", "--out", str(out[policy, fmt]), "--format", fmt]
            assert run_sim.main(args) == 0
    return out


@pytest.mark.parametrize("policy", [False, True])
@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_table_types_follow_the_schema_not_the_data(typed_runs, policy, fmt):
    if fmt == "parquet":
        pytest.importorskip("pyarrow")
    folder = typed_runs[policy, fmt]
    res = sim.Results(folder, {})
    for name in TABLES:
        table = res.table(name)
        assert list(table) == list(io.SCHEMAS[name]), name
        for col, values in table.items():
            assert values.dtype.kind == DTYPE_KIND[io.SCHEMAS[name][col]], (name, col)
            if values.dtype.kind in "if":
                assert values.dtype.itemsize == 8, (name, col)
    rides, ledger = res.table("rides"), res.table("ledger_daily")
    for col in ("ride_id", "rider_id", "tip_fen"):
        assert rides[col].dtype == np.int64
    assert ledger["day"].dtype == ledger["amount_fen"].dtype == np.int64
    assert res.table("daily")["day"].dtype == np.int64
    assert rides["driver_id"].dtype == rides["fare_fen"].dtype == np.float64
    status = rides["status"]
    assert np.isnan(rides["driver_id"][status == "abandoned"]).all()
    assert (rides["platform"][rides["channel"] == "street"] == "").all()
    assert ledger["policy"].dtype.kind == "U"
    assert (ledger["policy"] == "").all() != policy  # all blank without the policy
    assert set(status.tolist()) >= {"completed", "abandoned"}


@pytest.mark.parametrize("policy", [False, True])
def test_parquet_tables_read_back_equal_to_csv(typed_runs, policy):
    pytest.importorskip("pyarrow")
    for name in TABLES:
        want = io.read_columns(typed_runs[policy, "csv"], name)
        got = io.read_columns(typed_runs[policy, "parquet"], name)
        for col in want:
            assert got[col].dtype == want[col].dtype, (name, col)
            assert np.array_equal(got[col], want[col], equal_nan=want[col].dtype.kind == "f"), (
                name,
                col,
            )


def test_columns_outside_the_schema_are_inferred(tmp_path):
    io.write_csv(
        tmp_path / "extra.csv", ("n", "x", "s", "blank"), [(1, 1.5, "a", ""), (2, "", "b", "")]
    )
    t = io.read_columns(tmp_path, "extra")
    assert t["n"].dtype == t["x"].dtype == t["blank"].dtype == np.float64
    assert t["s"].tolist() == ["a", "b"] and np.isnan(t["x"][1])
