"""Any input gets a clear answer, an interruption leaves nothing half-written, every run
checks itself, and the numbers do not depend on the process they ran in."""

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
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import run_sim
from sim.errors import ScenarioError
from sim.scenario.load import load_scenario, scenario_from_dict
from sim.scenario.spec import Scenario
from tests.conftest import ROOT, small

# ---- fuzzed scenario files ---------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(
        [
            "6h",
            "3d",
            "grid",
            "ring_radial",
            "graphml",
            "cash",
            "alipay",
            "nearest",
            "broadcast",
            "2013-12-01",
            "rider",
            "-1",
            "1e400",
            "é中文",
        ]
    ),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
DEFAULT = Scenario().model_dump(mode="json")


def paths(tree, prefix=()):
    """Every dotted path of a nested default scenario."""
    yield prefix
    if isinstance(tree, dict):
        for k, v in tree.items():
            yield from paths(v, (*prefix, k))
    elif isinstance(tree, list):
        for i, v in enumerate(tree):
            yield from paths(v, (*prefix, str(i)))


ALL_PATHS = [p for p in paths(DEFAULT) if p]


def mutate(base: dict, path: tuple[str, ...], value) -> dict:
    data = json.loads(json.dumps(base))
    node = data
    for key in path[:-1]:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(path[-1])] = value
    else:
        node[path[-1]] = value
    return data


def answers_cleanly(data) -> None:
    """Validation either returns a scenario or raises ScenarioError with error lines."""
    try:
        scn = scenario_from_dict(data) if isinstance(data, dict) else None
    except ScenarioError as exc:
        assert exc.problems
        for p in exc.problems:
            line = str(p)
            assert line.startswith("error: ") and "\n" not in line
        return
    if scn is not None:
        assert isinstance(scn, Scenario)


@settings(max_examples=600, deadline=None)
@given(path=st.sampled_from(ALL_PATHS), value=values)
def test_any_value_anywhere_is_a_scenario_or_clean_errors(path, value):
    answers_cleanly(mutate(DEFAULT, path, value))


@settings(max_examples=400, deadline=None)
@given(data=st.dictionaries(st.sampled_from([*DEFAULT, "bogus", "中文"]), values, max_size=6))
def test_any_structure_is_a_scenario_or_clean_errors(data):
    answers_cleanly(data)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.one_of(st.text(max_size=200), values.map(yaml.safe_dump)))
def test_cli_validate_never_tracebacks(tmp_path, text):
    f = tmp_path / "fuzz.yaml"
    f.write_text(text, encoding="utf-8")
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run_sim.main(["validate", str(f)])
    assert code in (0, 2)
    assert "Traceback" not in err.getvalue()
    if code == 2:
        assert all(line.startswith("error: ") for line in err.getvalue().splitlines())


# ---- semantic checks ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "over,needle",
    [
        ({"demand": {"hourly_profile": [0] * 24}}, "demand.hourly_profile: must not sum to zero"),
        ({"demand": {"hourly_profile": [1] * 23}}, "needs 24 hourly values"),
        (
            {
                "policies": [
                    {
                        "id": "a",
                        "rail": "alipay",
                        "side": "rider",
                        "start": "2014-01-02",
                        "end": "2014-01-01",
                    }
                ]
            },
            "end must be after start",
        ),
        (
            {
                "policies": [
                    {
                        "id": "a",
                        "rail": "octopus",
                        "side": "rider",
                        "start": "2014-01-01",
                        "end": "2014-01-02",
                    }
                ]
            },
            "policies.0.rail: unknown rail 'octopus'; known: cash, alipay, wechat_pay",
        ),
        (
            {
                "policies": [
                    {
                        "id": "a",
                        "rail": "alipay",
                        "platform": "uber",
                        "side": "rider",
                        "start": "2014-01-01",
                        "end": "2014-01-02",
                    }
                ]
            },
            "policies.0.platform: unknown platform 'uber'; known: didi, kuaidi",
        ),
        (
            {
                "policies": [
                    {
                        "id": "a",
                        "rail": "alipay",
                        "side": "rider",
                        "start": "2014-01-01",
                        "end": "2014-01-02",
                    }
                ]
                * 2
            },
            "policies: duplicate id a",
        ),
        (
            {"payment": {"rails": [{"id": "cash"}, {"id": "x", "platform": "uber"}]}},
            "payment.rails.1.platform: unknown platform 'uber'; known: didi, kuaidi",
        ),
        ({"payment": {"rails": [{"id": "alipay"}]}}, "cash must be one of the rails"),
        ({"fleet": {"drivers": 10**9}}, "fleet.drivers"),
        (
            {"demand": {"hotspots": [{"place": "airport", "origin_weight": 0.1}]}},
            "demand.hotspots.0.place: unknown place 'airport'; known: none",
        ),
        (
            {
                "campaigns": [
                    {"date": "2014-01-01", "kind": "bind_cards", "rail": "cash", "count": 5}
                ],
                "adoption": {"enabled": True},
            },
            "campaigns.0.rail",
        ),
        (
            {
                "campaigns": [
                    {"date": "2014-01-01", "kind": "bind_cards", "rail": "alipay", "count": 5}
                ]
            },
            "campaigns: campaigns change adoption state",
        ),
        (
            {
                "policies": [
                    {
                        "id": "a",
                        "rail": "cash",
                        "side": "rider",
                        "start": "2014-01-01",
                        "end": "2014-01-02",
                    }
                ]
            },
            "not cash",
        ),
        (
            {
                "policies": [
                    {
                        "id": "a",
                        "rail": "alipay",
                        "side": "rider",
                        "start": "2014-01-01",
                        "end": "2014-01-02T00:00:00+08:00",
                    }
                ]
            },
            "policies.0.end",
        ),
        ({"demand": {"ride_time": {"kind": "never"}}}, "a ride must end"),
        ({"start": "2013-12-01T00:00:00+08:00"}, "without a time zone"),
    ],
)
def test_semantic_errors_name_their_fields(tmp_path, over, needle):
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(over), encoding="utf-8")
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    assert needle in str(exc.value)


def test_all_cross_section_problems_at_once(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(
        yaml.safe_dump(
            {
                "demand": {"hotspots": [{"place": "moon", "origin_weight": 0.1}]},
                "dispatch": {"platforms": {"uber": "nearest"}},
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    lines = [str(p) for p in exc.value.problems]
    assert len(lines) == 2 and any("demand.hotspots.0.place" in x for x in lines)
    assert any(": dispatch.platforms.uber: unknown platform 'uber'" in x for x in lines)


def test_disconnected_graph_and_missing_place_are_bad_input(tmp_path):
    import networkx as nx

    g = nx.MultiDiGraph(crs="epsg:4326")
    for i, (x, y) in enumerate([(120.0, 30.0), (120.01, 30.0), (120.5, 30.5), (120.51, 30.5)]):
        g.add_node(str(i), x=x, y=y)
    for a, b in [("0", "1"), ("1", "0"), ("2", "3"), ("3", "2")]:
        g.add_edge(a, b, length=1000.0)
    path = tmp_path / "city.graphml"
    nx.write_graphml(g, path)

    def run(city: dict) -> tuple[int, str]:
        scn = small()
        scn["city"] = {"kind": "graphml", "path": str(path), **city}
        f = tmp_path / "s.yaml"
        f.write_text(yaml.safe_dump(scn), encoding="utf-8")
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            code = run_sim.main(["run", str(f), "--out", str(tmp_path / "o"), "--quiet"])
        return code, err.getvalue()

    code, err = run({})
    assert code == 2 and "not strongly connected" in err and "largest_component" in err
    code, err = run({"largest_component": True, "places": {"hotel": {"node": "99"}}})
    assert code == 2 and "city.places.hotel.node" in err
    assert not (tmp_path / "o").exists()
    code, err = run({"largest_component": True})
    assert code == 0, err


# ---- interruption --------------------------------------------------------------------------


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job


@pytest.mark.parametrize(
    "sig,code,started_ignoring",
    [
        (signal.SIGINT, 130, False),
        (signal.SIGINT, 130, True),  # Ctrl-C still stops a run started as a background job
        (signal.SIGTERM, 143, False),
        (signal.SIGHUP, 129, False),
    ],
)
def test_signal_leaves_no_output_directory(tmp_path, sig, code, started_ignoring):
    f = tmp_path / "long.yaml"
    f.write_text(yaml.safe_dump(small(duration="200d", demand={"daily_requests": 40000})))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "run_sim.py"), "run", str(f), "--out", str(out), "--quiet"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        preexec_fn=_ignore_sigint if started_ignoring else None,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".out.incomplete-*/rides.csv")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".out.incomplete-*")), "the run never started writing"
    time.sleep(0.3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".out*")), "staging directory left behind"


# ---- self-checks -------------------------------------------------------------------------


def test_a_broken_ledger_fails_the_run_with_exit_1(tmp_path, monkeypatch):
    from sim.money import ledger

    real = ledger.Ledger.post

    def leaky(self, t, day, kind, src, dst, fen, ride=-1):
        real(self, t, day, kind, src, dst, fen, ride)
        if kind == "fare" and fen:
            self.balance[dst] += 1  # one fen from nowhere

    monkeypatch.setattr(ledger.Ledger, "post", leaky)
    f = tmp_path / "s.yaml"
    f.write_text(yaml.safe_dump(small(duration="1h")))
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = run_sim.main(["run", str(f), "--out", str(tmp_path / "o"), "--quiet"])
    assert code == 1 and "self-check failed" in err.getvalue() and "fen" in err.getvalue()
    assert not (tmp_path / "o").exists()


def test_illegal_driver_move_is_refused():
    from sim.core.state import DriverState, check_move
    from sim.errors import IllegalTransition

    check_move(DriverState.IDLE, DriverState.EN_ROUTE, 1)
    with pytest.raises(IllegalTransition, match="OFF -> ON_TRIP"):
        check_move(DriverState.OFF, DriverState.ON_TRIP, 1)


# ---- determinism -------------------------------------------------------------------------


def test_tables_identical_across_hash_seeds(tmp_path):
    f = tmp_path / "s.yaml"
    scn = small(
        duration="2d",
        start="2013-12-01T00:00:00",
        adoption={"enabled": True},
        policies=[
            {
                "id": "r",
                "rail": "alipay",
                "side": "rider",
                "amount_yuan": 5,
                "start": "2013-12-01",
                "end": "2014-01-01",
                "daily_free_rides": 30,
            }
        ],
        dispatch={
            "platforms": {"didi": "broadcast", "kuaidi": "batch"},
            "prebook": {"riders_share": 0.1},
        },
    )
    f.write_text(yaml.safe_dump(scn))
    outs = []
    for seed in ("1", "2"):
        out = tmp_path / f"h{seed}"
        subprocess.run(
            [sys.executable, str(ROOT / "run_sim.py"), "run", str(f), "--out", str(out), "--quiet"],
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        outs.append(out)
    names = sorted(p.name for p in outs[0].glob("*.csv"))
    assert len(names) >= 4
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert Path(outs[0] / "summary.json").exists()


def test_yaml_alias_bomb_is_refused_quickly(tmp_path):
    lines = ["a0: &a0 [1, 2, 3, 4, 5, 6, 7, 8, 9]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    f = tmp_path / "bomb.yaml"
    f.write_text("\n".join(lines) + "\n")
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError, match="expands to more than"):
        load_scenario(f)
    assert time.perf_counter() - t0 < 5
