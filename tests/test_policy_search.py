"""``optimize`` and ``game`` as a user runs them (``run_sim.py`` in a subprocess) on a
tiny city, against answers known by construction, plus their pure functions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import yaml

from sim.policy.game import move, value_at
from sim.policy.measure import pareto, spread
from sim.policy.optimize import outcome
from sim.policy.spec import Constraint
from sim.search.space import Param
from sim.search.study import Trial
from tests.conftest import run_cli

# A monotone response by construction: riders with Alipay bound pay with it more often the
# larger its rider subsidy, and nothing else moves (no adoption), so the cheapest amount
# that gets Alipay's share of rides to the target is where the share first crosses it.
BASE = """
name: tiny
seed: 1
start: 2013-12-02T00:00:00
duration: 3d
city: {kind: grid, rows: 8, cols: 8, block_m: 500}
fleet: {drivers: 30}
demand: {daily_requests: 1500}
payment:
  riders_bound: {alipay: 0.9}
  drivers_accepting: {alipay: 0.9}
policies:
  - {id: ali, rail: alipay, side: rider, amount_yuan: 2, start: 2013-12-02, end: 2013-12-10}
outputs: {plots: false, rides: false}
"""
TARGET = 0.55
SHARE = {
    "table": "daily",
    "where": "rail=alipay",
    "metric": "ride_share",
    "agg": "mean",
    "name": "alipay_share",
}
OPTIMIZE = {
    "base": "base.yaml",
    "seed": 3,
    "trials": 10,
    "batch": 5,
    "startup_trials": 5,
    "replications": 1,
    "params": {"policies.0.amount_yuan": {"low": 0, "high": 10, "type": "int"}},
    "objectives": [{"metric": "money.subsidy_total_yuan", "name": "spend"}],
    "constraints": [{**SHARE, "at_least": TARGET}],
}
# Two platforms alike in everything (each subsidises riders of its own rail); subsidies
# win app rides, spend costs 0.1 ride a yuan.
GAME_BASE = """
name: sym
seed: 1
start: 2013-12-02T00:00:00
duration: 3d
city: {kind: grid, rows: 8, cols: 8, block_m: 500}
fleet: {drivers: 40}
demand: {daily_requests: 2000}
population:
  riders_apps: {didi: 0.5, kuaidi: 0.5}
  drivers_apps: {didi: 0.6, kuaidi: 0.6}
payment:
  rails: [{id: cash}, {id: alipay, platform: kuaidi}, {id: wechat_pay, platform: didi}]
  riders_bound: {alipay: 0.6, wechat_pay: 0.6}
  drivers_accepting: {alipay: 0.6, wechat_pay: 0.6}
policies:
  - {id: didi_rider, rail: wechat_pay, platform: didi, side: rider, amount_yuan: 0,
     start: 2013-12-02, end: 2013-12-10}
  - {id: kuaidi_rider, rail: alipay, platform: kuaidi, side: rider, amount_yuan: 0,
     start: 2013-12-02, end: 2013-12-10}
outputs: {plots: false, rides: false}
"""


def player(i: int, name: str) -> dict:
    return {
        "params": {f"policies.{i}.amount_yuan": {"choices": [0, 4, 8]}},
        "payoff": [
            {"metric": f"platforms.{name}.completed"},
            {"metric": f"platforms.{name}.subsidy_rider_yuan", "weight": -0.1},
        ],
    }


GAME = {
    "base": "base.yaml",
    "seed": 5,
    "replications": 1,
    "sampler": "grid",
    "rounds": 6,
    "tolerance": 0,
    "players": {"didi": player(0, "didi"), "kuaidi": player(1, "kuaidi")},
}


cli = run_cli


def write(d: Path, spec: dict, base: str = BASE, name: str = "opt.yaml") -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "base.yaml").write_text(base)
    (d / name).write_text(yaml.safe_dump(spec, sort_keys=False))
    return d / name


@pytest.fixture(scope="module")
def optimized(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("opt")
    path = write(d, OPTIMIZE)
    proc = cli("optimize", path, "--workers", "2", "--out", d / "two", "--quiet")
    assert proc.returncode == 0, proc.stderr
    return path, d / "two"


def test_optimize_finds_the_cheapest_amount_known_by_a_grid(optimized, tmp_path):
    from sim.api import run
    from sim.policy.spec import Metric
    from sim.search.figures import Tables, figure
    from sim.sweep.runner import run_seed

    _, out = optimized
    seed = run_seed(3, 0)  # replication 0 of every trial: the test reads the same luck
    share, spend = {}, {}
    for amount in range(11):
        data = yaml.safe_load(BASE)
        data["policies"][0]["amount_yuan"] = amount
        res = run(data, tmp_path / f"a{amount}", seed=seed)
        share[amount] = figure(Metric(**SHARE).reading(), Tables(res.dir))
        spend[amount] = res.summary["money"]["subsidy_total_yuan"]
    assert all(share[a] < share[a + 1] for a in range(10)), share  # monotone, as built
    cheapest = min((a for a in share if share[a] >= TARGET), key=lambda a: spend[a])
    assert 1 <= cheapest <= 9  # the target is inside the range: the search has work to do
    doc = json.loads((out / "optimize.json").read_text())
    assert doc["status"] == "optimal"
    best = doc["best"]
    found = best["params"]["policies.0.amount_yuan"]
    assert abs(found - cheapest) <= 1  # the stated tolerance: one yuan of the optimum
    assert best["metrics"]["alipay_share"]["mean"] >= TARGET
    assert best["metrics"]["spend"]["mean"] == spend[found]  # same seeds, same run
    assert best["metrics"]["spend"]["n"] == 1
    assert (out / "best.yaml").is_file() and (out / "convergence.png").stat().st_size > 1000
    assert doc["base"]["metrics"]["spend"]["mean"] == spend[2]  # the base runs on the seeds too
    best_yaml = yaml.safe_load((out / "best.yaml").read_text())
    assert best_yaml["policies"][0]["amount_yuan"] == found


def test_the_report_of_a_search_compares_the_best_policy_with_the_base(optimized):
    from sim.report.html import write_report

    _, out = optimized
    page = write_report(out, map_window=None).read_text()
    assert page.count('<h2 id="search">Policy search</h2>') == 1
    assert "best policy (trial" in page and "Against the baseline, base" in page


def test_same_trials_on_one_worker_and_two_and_a_rerun_resumes(optimized):
    path, two = optimized
    one = two.parent / "one"
    first = cli("optimize", path, "--workers", "1", "--out", one, "--quiet")
    assert first.returncode == 0, first.stderr
    assert (one / "trials.csv").read_bytes() == (two / "trials.csv").read_bytes()
    again = cli("optimize", path, "--workers", "1", "--out", one, "--quiet")
    assert again.returncode == 0, again.stderr
    assert "0 runs computed" in again.stdout
    assert (one / "trials.csv").read_bytes() == (two / "trials.csv").read_bytes()


def test_an_unreachable_target_is_reported_infeasible(tmp_path):
    spec = {
        **OPTIMIZE,
        "sampler": "grid",
        "params": {"policies.0.amount_yuan": {"choices": [0, 10]}},
        "constraints": [{**SHARE, "at_least": 0.99}],
    }
    path = write(tmp_path, spec)
    proc = cli("optimize", path, "--workers", "1", "--out", tmp_path / "o", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "infeasible: no trial of 2 meets the constraints" in proc.stdout
    assert "optimal" not in proc.stdout
    doc = json.loads((tmp_path / "o" / "optimize.json").read_text())
    assert doc["status"] == "infeasible" and doc["best"] is None
    assert doc["nearest"]["params"] == {"policies.0.amount_yuan": 10}  # closest to the target
    assert not doc["nearest"]["constraints"][0]["met"]
    assert not (tmp_path / "o" / "best.yaml").exists()
    assert "Infeasible" in (tmp_path / "o" / "optimize.md").read_text()


def test_two_objectives_give_a_pareto_front_of_scenarios(tmp_path):
    """Spend against Alipay's share over a grid of amounts: the share grows with the amount
    (as built), so every amount that costs more also buys more, and each is on the front;
    NSGA-II on the same space finds a front of non-dominated trials too."""
    objectives = [
        {"metric": "money.subsidy_total_yuan", "name": "spend"},
        {**SHARE, "goal": "maximize"},
    ]
    amounts = [0, 3, 6, 9]
    grid = {
        **OPTIMIZE,
        "sampler": "grid",
        "params": {"policies.0.amount_yuan": {"choices": amounts}},
        "objectives": objectives,
        "constraints": [],
    }
    path = write(tmp_path / "grid", grid)
    proc = cli("optimize", path, "--workers", "2", "--out", tmp_path / "g", "--quiet")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "g" / "optimize.json").read_text())
    assert doc["status"] == "front"
    front = sorted(p["params"]["policies.0.amount_yuan"] for p in doc["front"])
    assert front == amounts
    files = sorted((tmp_path / "g" / "pareto").glob("*.yaml"))
    assert len(files) == len(amounts) and (tmp_path / "g" / "pareto.png").stat().st_size > 1000
    nsga = {**grid, "sampler": "nsga2", "trials": 6, "batch": 3, "startup_trials": 3}
    nsga["params"] = {"policies.0.amount_yuan": {"low": 0, "high": 10, "type": "int"}}
    path = write(tmp_path / "nsga", nsga)
    proc = cli("optimize", path, "--workers", "2", "--out", tmp_path / "n", "--quiet")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "n" / "optimize.json").read_text())
    points = [
        (p["metrics"]["spend"]["mean"], -p["metrics"]["alipay_share"]["mean"]) for p in doc["front"]
    ]
    assert doc["status"] == "front" and points
    assert pareto(points) == list(range(len(points)))  # none dominates another


def test_a_symmetric_game_settles_on_symmetric_policies(tmp_path):
    path = write(tmp_path, GAME, GAME_BASE, "game.yaml")
    proc = cli("game", path, "--workers", "2", "--out", tmp_path / "g", "--quiet")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "g" / "game.json").read_text())
    assert doc["status"] == "settled"
    didi = doc["policies"]["didi"]["policies.0.amount_yuan"]
    kuaidi = doc["policies"]["kuaidi"]["policies.1.amount_yuan"]
    assert didi == kuaidi
    assert didi == 4  # interior: 8 wins rides but costs more than they are worth
    rounds = (tmp_path / "g" / "rounds.csv").read_text().splitlines()
    assert rounds[0].startswith("round,mover,trial,moved,didi:policies.0.amount_yuan")
    assert len(rounds) - 1 == doc["rounds"] >= 3
    final = yaml.safe_load((tmp_path / "g" / "final.yaml").read_text())
    assert [p["amount_yuan"] for p in final["policies"]] == [didi, kuaidi]
    assert "game: settled" in proc.stdout


def test_bad_files_one_line_per_problem_exit_2_nothing_written(tmp_path, capsys):
    bad = {
        "base": "base.yaml",
        "trials": 0,
        "params": {"policies.0.amount_yuan": {"low": 5, "high": 1}},
        "objectives": [{"metric": "money.subsidy_total_yuan", "goal": "cheapest"}],
        "constraints": [{**SHARE, "at_least": 0.5, "at_most": 0.9}],
        "colour": "red",
    }
    path = write(tmp_path, bad)
    proc = cli("optimize", path, "--out", tmp_path / "o")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 5 and all(line.startswith("error: ") for line in lines), lines
    for word in ("trials", "low must be below high", "goal", "one bound", "colour: unknown"):
        assert any(word in line for line in lines), (word, lines)
    assert not (tmp_path / "o").exists()
    from sim.cli import main  # the same checks in process, as validate and game make them

    assert main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == lines
    game = {**GAME, "players": {"didi": player(0, "didi"), "kuaidi": player(0, "kuaidi")}}
    path = write(tmp_path, game, GAME_BASE, "game.yaml")
    assert main(["game", str(path), "--out", str(tmp_path / "g")]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {path}: players: both players set policies.0.amount_yuan"
    ]
    assert not (tmp_path / "g").exists()


def test_metric_typos_are_found_on_a_probe_run(tmp_path):
    spec = {
        **OPTIMIZE,
        "objectives": [{"metric": "money.subsidy_totl_yuan"}],
        "constraints": [{**SHARE, "where": "rail=alipya", "at_least": 0.5}],
    }
    proc = cli("optimize", write(tmp_path, spec), "--out", tmp_path / "o")
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'opt.yaml'}: objectives.0: metric: summary has no column "
        "'money.subsidy_totl_yuan'",
        f"error: {tmp_path / 'opt.yaml'}: constraints.0: where: no row has rail=alipya "
        "(rail: alipay, cash, wechat_pay)",
    ]


def trial(n: int, values: list[float], excess: list[float], status: str = "ok") -> Trial:
    t = Trial(n, {"x": n}, [1], [])
    t.status, t.value, t.values = status, values[0], values
    t.details = {"constraints": excess, "stats": {}}
    return t


def test_outcome_never_offers_an_infeasible_trial_as_the_answer():
    trials = [trial(0, [1.0], [0.2]), trial(1, [0.5], [0.4]), trial(2, [9.0], [0.1])]
    found = outcome(trials, 1)
    assert found.status == "infeasible" and found.best is None
    assert found.nearest is trials[2]  # the smallest excess, not the lowest cost
    trials.append(trial(3, [7.0], [-0.1]))
    trials.append(trial(4, [2.0], [0.0]))  # exactly at the bound meets it
    assert outcome(trials, 1).best is trials[4]
    assert outcome([trial(0, [1.0], [], "error")], 1).status == "failed"


def test_pareto_front_and_two_objective_outcome():
    pts = [(1.0, 5.0), (2.0, 3.0), (3.0, 3.5), (4.0, 1.0), (2.0, 3.0)]
    assert pareto(pts) == [0, 1, 3, 4]
    trials = [trial(i, list(p), []) for i, p in enumerate(pts)]
    found = outcome(trials, 2)
    assert found.status == "front"
    assert [t.number for t in found.front] == [0, 1, 4, 3]


def test_constraint_excess_spread_move_and_grid():
    at_least = Constraint(metric="m", at_least=0.5)
    assert at_least.excess(0.6) < 0 < at_least.excess(0.4)
    assert Constraint(metric="m", at_most=10).excess(12) == 2
    s = spread([1.0, 3.0])
    assert s == {"mean": 2.0, "sd": math.sqrt(2), "n": 2}
    assert math.isnan(spread([1.0])["sd"])
    space = {
        "a": Param.model_validate({"low": 0, "high": 10}),
        "b": Param.model_validate({"choices": ["x", "y"]}),
    }
    assert move(space, {"a": 2.0, "b": "x"}, {"a": 3.0, "b": "x"}) == pytest.approx(0.1)
    assert move(space, {"a": 2.0, "b": "x"}, {"a": 2.0, "b": "y"}) == 1.0
    assert Param.model_validate({"low": 0, "high": 1, "step": 0.25}).grid() == [
        0.0,
        0.25,
        0.5,
        0.75,
        1.0,
    ]
    assert Param.model_validate({"low": 2, "high": 6, "type": "int", "step": 2}).grid() == [2, 4, 6]
    with pytest.raises(ValueError, match="grid"):
        Param.model_validate({"low": 0, "high": 1}).grid()
    assert value_at({"policies": [{"amount_yuan": 5}]}, "policies.0.amount_yuan") == 5
    assert value_at({"policies": []}, "policies.3.amount_yuan") is None
