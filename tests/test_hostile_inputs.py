"""Hostile inputs get one clear line and exit 2, quickly: files that are not files, YAML
that explodes, sizes that would hang a run, money beyond any tariff."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT, small

BOMB = (
    "[&a [1,1,1,1,1,1,1,1,1], &b [*a,*a,*a,*a,*a,*a,*a,*a,*a], "
    + ", ".join(
        f"&{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("bcdefgh", "cdefghi", strict=True)
    )
    + "]"
)


def cli(*args: str, timeout: float = 60) -> tuple[int, str, float]:
    """The command line in its own process, so a hang fails the test instead of the suite."""
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return r.returncode, r.stderr, time.perf_counter() - t0


def inproc(*args: str) -> tuple[int, str, float]:
    """The command line in this process, for inputs that cannot hang it."""
    import contextlib
    import io

    import run_sim

    err = io.StringIO()
    t0 = time.perf_counter()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run_sim.main(list(args))
    return code, err.getvalue(), time.perf_counter() - t0


def clean(code: int, err: str, *needles: str) -> None:
    assert code == 2, err
    assert "Traceback" not in err and "internal error" not in err, err
    assert all(line.startswith("error: ") for line in err.splitlines()), err
    for n in needles:
        assert n in err, err


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(small()))
    return f


# ---- 8. files that are not files, YAML that explodes ---------------------------------------


def test_a_device_is_refused_not_read(tmp_path):
    code, err, took = cli("run", "/dev/zero", "--out", str(tmp_path / "o"))
    clean(code, err, "not a regular file")
    assert took < 30 and not (tmp_path / "o").exists()


def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    for args in (["run", str(fifo), "--out", str(tmp_path / "o")], ["validate", str(fifo)]):
        code, err, _ = cli(*args)
        clean(code, err, "not a regular file")


@pytest.mark.parametrize("mb", [3, 10])
def test_a_huge_file_is_refused_before_parsing(tmp_path, mb):
    f = tmp_path / "big.yaml"
    f.write_text("demand:\n  hourly_profile: [" + "1, " * (mb * 350_000) + "1]\n")
    code, err, took = cli("validate", str(f))
    clean(code, err, "bytes, more than the 1,048,576 allowed")
    assert took < 20


def test_a_long_list_is_not_blamed_on_aliases(tmp_path):
    f = tmp_path / "long.yaml"
    f.write_text("policies: [" + "1," * 25_000 + "1]\n")
    code, err, _ = cli("validate", str(f))
    clean(code, err, "holds more than 20,000 values")
    assert "alias" not in err


def test_an_alias_bomb_in_a_set_value_is_refused_quickly(scenario):
    code, err, took = cli("validate", str(scenario), "--set", f"demand.hotspots={BOMB}")
    clean(code, err, "--set demand.hotspots: the value expands to more than 200,000 values")
    assert took < 20


def test_an_alias_bomb_in_a_sweep_file_is_refused_quickly(tmp_path, scenario):
    f = tmp_path / "sweep.yaml"
    f.write_text(f"base: s.yaml\ngrid:\n  fleet.drivers: {BOMB}\n")
    for cmd in ("validate", "sweep"):
        code, err, took = cli(cmd, str(f), *(["--out", str(tmp_path / "o")] * (cmd == "sweep")))
        clean(code, err, "expands to more than 200,000 values through YAML aliases")
        assert took < 20
    assert not (tmp_path / "o").exists()


def test_a_5000_deep_set_path_is_one_clear_line(scenario):
    code, err, _ = inproc("validate", str(scenario), "--set", "a" + ".a" * 5000 + "=1")
    clean(code, err, "no field of a scenario is more than 32 deep")
    assert len(err) < 400


def test_a_long_extends_chain_says_so(tmp_path):
    (tmp_path / "f0.yaml").write_text(yaml.safe_dump(small()))
    for i in range(1, 60):
        (tmp_path / f"f{i}.yaml").write_text(f"extends: f{i - 1}.yaml\n")
    code, err, _ = inproc("validate", str(tmp_path / "f59.yaml"))
    clean(code, err, "a chain of more than 32 files")
    assert "nested too deeply" not in err


def test_a_stray_base_key_in_a_scenario_is_an_unknown_key(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**small(), "base": "x.yaml"}))
    code, err, _ = inproc("validate", str(f))
    clean(code, err, "base: unknown key")
    assert "sweep" not in err


# ---- 9. sizes that multiply work or memory --------------------------------------------------


@pytest.mark.parametrize(
    "setting,field",
    [
        ("outputs.timeseries_every_min=0.0001", "outputs.timeseries_every_min"),
        ("population.rides_per_rider_day=0.000001", "population.rides_per_rider_day"),
        ("population.rides_per_rider_day=1e9", "population.rides_per_rider_day"),
    ],
)
def test_a_size_that_would_hang_names_its_field(scenario, setting, field):
    code, err, took = inproc("validate", str(scenario), "--set", setting)
    clean(code, err, f": {field}: ")
    assert took < 20


# ---- 5. money and distances beyond any tariff ------------------------------------------------


@pytest.mark.parametrize(
    "setting,field",
    [
        ("tariff.flag_fall_yuan=1e17", "tariff.flag_fall_yuan"),
        ("tariff.per_km_yuan=1e15", "tariff.per_km_yuan"),
        ("dispatch.broadcast.tip_yuan=1e17", "dispatch.broadcast.tip_yuan"),
        ("city.block_m=1e17", "city.block_m"),
        ("city.speed_kph=1e9", "city.speed_kph"),
    ],
)
def test_money_and_lengths_beyond_any_city_are_refused(scenario, setting, field):
    code, err, _ = inproc("validate", str(scenario), "--set", setting)
    clean(code, err, f": {field}: ")


def test_subsidies_and_budgets_are_bounded(tmp_path):
    policy = {
        "id": "p",
        "rail": "alipay",
        "side": "rider",
        "amount_yuan": 1e17,
        "start": "2013-12-01",
        "end": "2014-01-01",
        "budget": {"total_yuan": 1e30},
    }
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump({**small(), "policies": [policy]}))
    code, err, _ = inproc("validate", str(f))
    clean(code, err, "policies.0.amount_yuan", "policies.0.budget.total_yuan")


def test_the_largest_prices_allowed_keep_every_fen_exact(tmp_path):
    """At the bounds a run still writes exact integer fen that read back as int64."""
    import numpy as np

    import sim

    res = sim.run(  # a fixed request stream: riders who weigh such fares would stay home
        small(tariff={"flag_fall_yuan": 10_000, "per_km_yuan": 10_000}, riders={"model": "fixed"}),
        tmp_path / "o",
    )
    ledger = res.table("ledger_daily")
    assert ledger["amount_fen"].dtype == np.int64
    fares = res.table("rides")["fare_fen"]
    done = fares[~np.isnan(fares)]
    assert done.size and (done >= 1_000_000).all() and (done == np.round(done)).all()
    assert done.max() < 2**53


# ---- 11, 12. clean answers ---------------------------------------------------------------------


def test_a_closed_stdout_does_not_fail_a_finished_run(tmp_path, scenario):
    out = tmp_path / "o"
    p = subprocess.Popen(
        [sys.executable, str(ROOT / "run_sim.py"), "run", str(scenario), "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    p.stdout.close()  # as `| head` does once it has its lines
    err = p.stderr.read().decode()
    assert p.wait(timeout=120) == 0, err
    assert err == "" and (out / "summary.json").is_file()


def _metre_grid(path: Path, crs: str | None) -> None:
    import networkx as nx

    g = nx.DiGraph(**({"crs": crs} if crs else {}))
    for r in range(3):
        for c in range(3):
            g.add_node(f"{r}-{c}", x=c * 40.0, y=r * 40.0)
    for r in range(3):
        for c in range(3):
            for dr, dc in ((0, 1), (1, 0)):
                if r + dr < 3 and c + dc < 3:
                    a, b = f"{r}-{c}", f"{r + dr}-{c + dc}"
                    g.add_edge(a, b, length=40.0)
                    g.add_edge(b, a, length=40.0)
    nx.write_graphml(g, path)


def test_metre_coordinates_without_a_crs_are_read_as_metres(tmp_path):
    from sim.city.travel import build_city
    from sim.scenario.city import GraphmlCity

    _metre_grid(tmp_path / "m.graphml", None)
    c = build_city(GraphmlCity(path=str(tmp_path / "m.graphml")), cache_dir=tmp_path / "c")
    assert c.xy.max() - c.xy.min() == pytest.approx(80.0)
    assert c.dist_m(c.node_of("0-0"), c.node_of("2-2")) == 160


def test_validate_of_a_sweep_checks_its_city_and_builds_no_matrices(tmp_path):
    import networkx as nx

    g = nx.DiGraph(crs="epsg:32650")
    for i in range(4):
        g.add_node(str(i), x=i * 100.0, y=0.0)
    g.add_edge("0", "1", length=100.0)
    g.add_edge("1", "0", length=100.0)
    g.add_edge("2", "3", length=100.0)
    g.add_edge("3", "2", length=100.0)
    nx.write_graphml(g, tmp_path / "two.graphml")
    base = {**small(), "city": {"kind": "graphml", "path": str(tmp_path / "two.graphml")}}
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(base))
    f = tmp_path / "sweep.yaml"
    f.write_text("base: s.yaml\ngrid:\n  fleet.drivers: [20, 30]\n")
    code, err, _ = cli("validate", str(f))
    clean(code, err, "not strongly connected")
    base["city"]["largest_component"] = True
    (tmp_path / "s.yaml").write_text(yaml.safe_dump(base))
    cache = tmp_path / "cache"
    r = subprocess.run(
        [sys.executable, str(ROOT / "run_sim.py"), "validate", str(f)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TAXISIM_CACHE": str(cache)},
    )
    assert r.returncode == 0, r.stderr
    assert not list(cache.rglob("*.npy"))
