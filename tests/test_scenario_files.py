"""Scenario files as a user writes them, through ``run_sim.py``: a GraphML ``city.path``
relative to the file that names it, lists added to with ``name+``, ``sweep --set``, and
unknown names answered with the known ones."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import networkx as nx
import pytest
import yaml

from sim.registry import unknown_name
from sim.scenario.load import load_scenario
from tests.conftest import ROOT, run_cli, small

POLICY = {
    "id": "extra",
    "rail": "wechat_pay",
    "side": "rider",
    "amount_yuan": 3,
    "start": "2013-12-02",
    "end": "2013-12-03",
}


cli = run_cli


def write(path: Path, data: dict | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def roads(path: Path) -> None:
    """A 4 x 4 grid of two-way 400 m roads in metres."""
    g = nx.DiGraph(crs="epsg:32650")
    for i in range(4):
        for j in range(4):
            g.add_node(f"{i}-{j}", x=i * 400.0, y=j * 400.0)
    for i in range(4):
        for j in range(4):
            for a, b in (((i, j), (i + 1, j)), ((i, j), (i, j + 1))):
                if b[0] < 4 and b[1] < 4:
                    g.add_edge(f"{a[0]}-{a[1]}", f"{b[0]}-{b[1]}", length=400.0)
                    g.add_edge(f"{b[0]}-{b[1]}", f"{a[0]}-{a[1]}", length=400.0)
    path.parent.mkdir(parents=True, exist_ok=True)
    nx.write_graphml(g, path)


@pytest.fixture()
def layout(tmp_path: Path) -> Path:
    """cities/ holds the roads and a base naming them relatively; scen/ a file extending
    it; sweeps/ a sweep of that file; elsewhere/ is where the user stands."""
    roads(tmp_path / "cities" / "roads.graphml")
    base = {**small(duration="2h"), "city": {"kind": "graphml", "path": "roads.graphml"}}
    write(tmp_path / "cities" / "base.yaml", base)
    write(
        tmp_path / "scen" / "child.yaml",
        "extends: ../cities/base.yaml\nfleet: {drivers: 30}\ncity: {default_speed_kph: 25}\n",
    )
    write(
        tmp_path / "sweeps" / "sweep.yaml",
        {
            "base": "../scen/child.yaml",
            "replications": 1,
            "grid": {"fleet.drivers": [20, 40]},
            "metrics": ["pickup_wait_s.mean"],
        },
    )
    (tmp_path / "elsewhere").mkdir()
    return tmp_path


def test_city_path_is_relative_to_the_file_that_names_it(layout: Path) -> None:
    where = layout / "elsewhere"
    r = cli("validate", "../scen/child.yaml", cwd=where)
    assert r.returncode == 0 and r.stdout.startswith("ok: "), r.stderr
    r = cli("run", "../scen/child.yaml", "--quiet", "--out", str(layout / "run"), cwd=where)
    assert r.returncode == 0, r.stderr
    manifest = json.loads((layout / "run" / "manifest.json").read_text())
    city = manifest["scenario"]["city"]
    assert city["path"] == str(layout / "cities" / "roads.graphml")
    assert city["default_speed_kph"] == 25.0  # the child's change, the base's path
    assert str(layout / "cities" / "roads.graphml") in manifest["inputs"]


def test_absolute_and_home_paths_are_kept(tmp_path: Path) -> None:
    absolute = str(tmp_path / "a" / "roads.graphml")
    for path in (absolute, "~/roads.graphml"):
        f = write(tmp_path / "s.yaml", {"city": {"kind": "graphml", "path": path}})
        assert load_scenario(f).city.path == path


def test_a_sweep_validates_and_runs_from_any_directory(layout: Path) -> None:
    for cwd in (layout / "elsewhere", layout / "sweeps", ROOT):
        sweep = os.path.relpath(layout / "sweeps" / "sweep.yaml", cwd)
        r = cli("validate", sweep, cwd=cwd)
        assert r.returncode == 0, (cwd, r.stderr)
        assert "sweep of 2 runs" in r.stdout
    r = cli(
        "sweep",
        "../sweeps/sweep.yaml",
        "--workers",
        "1",
        "--quiet",
        "--out",
        str(layout / "out"),
        "--set",
        "duration=1h",
        "--set",
        "demand.daily_requests=3000",
        cwd=layout / "elsewhere",
    )
    assert r.returncode == 0, r.stderr
    runs = list(csv.DictReader((layout / "out" / "runs.csv").open()))
    assert [row["status"] for row in runs] == ["ok", "ok"]
    assert [row["fleet.drivers"] for row in runs] == ["20", "40"]  # the grid still sweeps
    for row in runs:
        scn = json.loads(
            (layout / "out" / "runs" / f"{int(row['index']):05d}" / "manifest.json").read_text()
        )["scenario"]
        assert scn["duration"] == "1h" and scn["demand"]["daily_requests"] == 3000
    spec = json.loads((layout / "out" / "sweep.json").read_text())["spec"]
    assert spec["overrides"] == ["duration=1h", "demand.daily_requests=3000"]


def test_sweep_set_errors_are_those_of_run_set(layout: Path) -> None:
    where = layout / "elsewhere"
    run = cli("validate", "../scen/child.yaml", "--set", "demand.daily_requests=-5", cwd=where)
    sweep = cli(
        "sweep",
        "../sweeps/sweep.yaml",
        "--set",
        "demand.daily_requests=-5",
        "--out",
        str(layout / "out"),
        cwd=where,
    )
    assert run.returncode == sweep.returncode == 2
    assert sweep.stderr == run.stderr  # the same line, naming the base file
    assert sweep.stdout == "" and not (layout / "out").exists()
    r = cli("sweep", "../sweeps/sweep.yaml", "--set", "oops", cwd=where)
    assert r.returncode == 2 and r.stderr.strip().endswith(
        "--set needs dotted.path=value (got 'oops')"
    )
    r = cli(
        "validate", "../sweeps/sweep.yaml", "--set", "fleet.drivers=5", "--set", "seed=3", cwd=where
    )
    assert r.returncode == 2
    assert r.stderr.splitlines() == [
        "error: ../sweeps/sweep.yaml: --set fleet.drivers=5: fleet.drivers is swept by"
        " grid.fleet.drivers; change the sweep file instead",
        "error: ../sweeps/sweep.yaml: --set seed=3: seed is set by the sweep for each run"
        " (from the sweep file's seed)",
    ]


def test_a_file_that_extends_appends_to_the_bases_lists(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", {**small(), "policies": [{**POLICY, "id": "first"}]})
    child = write(
        tmp_path / "child.yaml",
        {"extends": "base.yaml", "policies+": [POLICY], "payment": {"rails+": [{"id": "union"}]}},
    )
    scn = load_scenario(child)
    assert [p.id for p in scn.policies] == ["first", "extra"]
    assert [r.id for r in scn.payment.rails] == ["cash", "alipay", "wechat_pay", "union"]
    r = cli("run", str(child), "--quiet", "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert list(summary["money"]["subsidy_by_policy"]) == ["first", "extra"]


def test_set_appends_with_a_plus(tmp_path: Path) -> None:
    f = write(tmp_path / "s.yaml", {**small(), "policies": [{**POLICY, "id": "first"}]})
    text = "policies+=" + json.dumps([POLICY])
    assert [p.id for p in load_scenario(f, [text]).policies] == ["first", "extra"]
    r = cli("run", str(f), "--quiet", "--set", text, "--out", str(tmp_path / "run"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr


def test_plus_on_what_is_not_a_list_is_one_line_each(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", small())
    bad = write(
        tmp_path / "bad.yaml",
        "extends: base.yaml\npolices+: [{id: x}]\nfleet: {drivers+: [3], shifts+: {a: 1}}\n"
        "campaigns: []\ncampaigns+: []\n",
    )
    r = cli("validate", str(bad), cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [
        f"error: {bad}: polices+: unknown key 'polices' (did you mean 'policies'?); known: name,"
        " seed, start, duration, city, fleet, demand, dispatch, riders, drivers, tariff,"
        " payment, policies, population, adoption, campaigns, outputs",
        f"error: {bad}: fleet.drivers+: fleet.drivers is a number, not a list; only lists take +",
        f"error: {bad}: fleet.shifts+: give a list of items to append (got {{'a': 1}})",
        f"error: {bad}: campaigns+: give campaigns or campaigns+, not both",
    ]
    r = cli("validate", str(tmp_path / "base.yaml"), "--set", "seed+=[1]", cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.strip().endswith("--set seed+: seed is a number, not a list; only lists take +")


def test_unknown_names_list_the_known_and_the_nearest(tmp_path: Path) -> None:
    f = write(
        tmp_path / "s.yaml",
        {
            **small(),
            "fleet": {"drivrs": 5},
            "dispatch": {"batch": {"every_sec": 3}, "policy": "nearst"},
            "population": {"riders_apps": {"dd": 0.1}},
            "payment": {"riders_bound": {"wechat": 0.1}},
            "policies": [{**POLICY, "rail": "alipya", "platform": "didl"}],
        },
    )
    r = cli("validate", str(f), cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    want = [
        "fleet.drivrs: unknown key 'drivrs' (did you mean 'drivers'?); known: drivers,"
        " shifts, idle (got 5)",
        "dispatch.batch.every_sec: unknown key 'every_sec' (did you mean 'every_s'?);"
        " known: every_s, k (got 3)",
        "dispatch.policy: unknown dispatch policy 'nearst' (did you mean 'nearest'?);"
        " known: batch, broadcast, nearest",
        "population.riders_apps: unknown platform 'dd' (did you mean 'didi'?); known: didi, kuaidi",
        "payment.riders_bound: unknown rail 'wechat' (did you mean 'wechat_pay'?);"
        " known: cash, alipay, wechat_pay",
    ]
    for text in want:
        assert any(text in line for line in lines), (text, lines)
    f = write(
        tmp_path / "t.yaml",
        {**small(), "policies": [{**POLICY, "rail": "alipya", "platform": "didl"}]},
    )
    r = cli("validate", str(f), cwd=tmp_path)
    assert r.stderr.splitlines() == [
        f"error: {f}: policies.0.rail: unknown rail 'alipya' (did you mean 'alipay'?);"
        " known: cash, alipay, wechat_pay (rails are named in payment.rails)",
        f"error: {f}: policies.0.platform: unknown platform 'didl' (did you mean 'didi'?);"
        " known: didi, kuaidi (apps are named in population.platforms)",
    ]


def test_unknown_name_message() -> None:
    assert unknown_name("rail", "alipya", ["cash", "alipay"]) == (
        "unknown rail 'alipya' (did you mean 'alipay'?); known: cash, alipay"
    )
    assert unknown_name("rail", "zzz", []) == "unknown rail 'zzz'; known: none"
    many = [f"m{i:03d}" for i in range(50)]
    assert unknown_name("metric", "zzz", many).endswith("m039 and 10 more")
    assert unknown_name(
        "metric", "wait_s.mean", many, renamed="pickup_wait_s.mean", examples=["m000"]
    ) == (
        "unknown metric 'wait_s.mean' (renamed 'pickup_wait_s.mean'); known: 50 in all,"
        " such as m000"
    )


def test_the_shipped_sweeps_zero_point_is_the_no_subsidy_run(tmp_path: Path) -> None:
    """sweeps/subsidy_amount.yaml's 0 + 0 yuan point pays nothing (no free-ride lottery
    either): its runs are those of scenarios/no_subsidy.yaml, table for table."""
    import sim
    from sim.sweep.runner import plan
    from sim.sweep.spec import read_spec

    sweep = ROOT / "sweeps" / "subsidy_amount.yaml"
    tasks = plan(read_spec(sweep), sweep.parent, str(sweep), tmp_path / "plan")
    zero = [t for t in tasks if t.point == 0]
    for t in zero:
        policies = t.scenario["policies"]
        assert [(p["amount_yuan"], p["daily_free_rides"]) for p in policies] == [(0, 0), (0, 0)]
    over = ["duration=3d", "outputs.plots=false"]
    a = sim.run({**zero[0].scenario, "duration": "3d"}, tmp_path / "zero")
    b = sim.run(
        ROOT / "scenarios" / "no_subsidy.yaml",
        tmp_path / "none",
        seed=zero[0].seed,
        overrides=[*over, "population.sample=0.01"],
    )
    assert a.summary["money"]["subsidy_total_yuan"] == 0
    for name in ("rides.csv", "daily.csv", "ledger_daily.csv", "platforms.csv"):
        assert (a.dir / name).read_bytes() == (b.dir / name).read_bytes(), name


def test_list_items_are_named_by_number_or_id(tmp_path: Path) -> None:
    f = write(tmp_path / "s.yaml", {**small(), "policies": [{**POLICY, "id": "first"}, POLICY]})
    scn = load_scenario(f, ["policies.extra.amount_yuan=4", "payment.rails.alipay.fee_rate=0.01"])
    assert [p.amount_yuan for p in scn.policies] == [3, 4]
    assert [r.fee_rate for r in scn.payment.rails] == [0, 0.01, 0.006]
    r = cli("validate", str(f), "--set", "policies.7.amount_yuan=3", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr == (
        f"error: {f}: --set policies.7.amount_yuan: no list item 7; the list has 2:"
        " 0 (first), 1 (extra)\n"
    )
    r = cli("validate", str(f), "--set", "policies.extr.amount_yuan=3", cwd=tmp_path)
    assert r.returncode == 2 and r.stderr == (
        f"error: {f}: --set policies.extr.amount_yuan: unknown id 'extr' (did you mean"
        " 'extra'?); known: first, extra (or an item's number)\n"
    )
