"""Scenario loading: defaults, overrides, and one clear problem per mistake."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sim.scenario.base import parse_duration
from sim.scenario.load import (
    ScenarioError,
    apply_override,
    load_scenario,
    parse_override,
    scenario_from_dict,
)
from sim.scenario.spec import Scenario

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def problems(tmp_path: Path, text: str, overrides=None) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text), overrides)
    return [str(p) for p in err.value.problems]


@pytest.mark.parametrize(
    "text,seconds",
    [("6h", 21600), ("3d", 259200), ("1d12h", 129600), ("90m", 5400), ("90min", 5400)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "6x", "0h", "-1d", "500d", True, 3600, 3.0, None])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_every_shipped_scenario_validates():
    files = sorted((ROOT / "scenarios").rglob("*.yaml"))
    assert files
    for f in files:
        assert isinstance(load_scenario(f), Scenario), f


def test_empty_file_is_all_defaults(tmp_path):
    s = load_scenario(write(tmp_path, ""))
    assert s == Scenario()
    assert s.payment.rails[0].id == "cash"


def test_unknown_key_names_the_path(tmp_path):
    (line,) = problems(tmp_path, "fleet:\n  drivrs: 5\n")
    assert line.startswith("error: ") and line.endswith(
        "fleet.drivrs: unknown key 'drivrs' (did you mean 'drivers'?);"
        " known: drivers, shifts, idle (got 5)"
    )


def test_one_line_per_problem(tmp_path):
    lines = problems(tmp_path, "fleet:\n  drivers: -5\nseed: abc\ncity: {kind: grid, rows: 0}\n")
    assert len(lines) == 3
    assert any("fleet.drivers" in x and "(got -5)" in x for x in lines)
    assert any("seed" in x for x in lines)
    assert any("city.rows" in x for x in lines)


def test_non_finite_numbers_refused(tmp_path):
    lines = problems(tmp_path, "demand:\n  daily_requests: .nan\ntariff: {per_km_yuan: .inf}\n")
    assert len(lines) == 2 and all("finite" in x for x in lines)


def test_unknown_policy_lists_known(tmp_path):
    (line,) = problems(tmp_path, "dispatch: {policy: telepathy}\n")
    assert "dispatch.policy" in line and "nearest" in line and "'telepathy'" in line


def test_yaml_syntax_error_has_a_line_number(tmp_path):
    (line,) = problems(tmp_path, "fleet: [\n  drivers: 3\n")
    assert "YAML syntax error" in line and "line" in line


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "nope.yaml")
    assert "file not found" in str(err.value)


def test_not_a_mapping(tmp_path):
    (line,) = problems(tmp_path, "- 1\n- 2\n")
    assert "mapping" in line


def test_cross_references(tmp_path):
    text = (
        "demand: {hotspots: [{place: moon, origin_weight: 0.1}]}\n"
        "policies:\n  - {id: a, rail: bitcoin, side: rider, amount_yuan: 5,"
        " start: 2013-12-01, end: 2014-01-01}\n"
    )
    lines = problems(tmp_path, text)
    assert any("demand.hotspots.0.place" in x and "moon" in x for x in lines)


def test_policy_window_order(tmp_path):
    text = (
        "policies:\n  - {id: a, rail: alipay, side: rider, amount_yuan: 5,"
        " start: 2014-01-01, end: 2013-12-01}\n"
    )
    (line,) = problems(tmp_path, text)
    assert "policies.0" in line and "end must be after start" in line


def test_overrides_apply_before_validation(tmp_path):
    p = write(tmp_path, "fleet: {drivers: 10}\npayment: {}\n")
    s = load_scenario(p, ["fleet.drivers=25", "payment.rails.2.fee_rate=0.01", "seed=9"])
    assert s.fleet.drivers == 25 and s.seed == 9
    assert s.payment.rails[2].fee_rate == 0.01 or s.payment.rails[1].fee_rate == 0.01


def test_bad_override_is_a_problem(tmp_path):
    lines = problems(tmp_path, "", ["fleet.drivers"])
    assert "dotted.path=value" in lines[0]
    lines = problems(tmp_path, "", ["fleet.drivers=-1"])
    assert "fleet.drivers" in lines[0]


def test_override_helpers():
    keys, value = parse_override("a.b.0=[1, 2]")
    assert keys == ["a", "b", "0"] and value == [1, 2]
    data = {"a": {"b": [0, 0]}}
    apply_override(data, ["a", "b", "1"], 5)
    assert data == {"a": {"b": [0, 5]}}
    with pytest.raises(ValueError):
        apply_override(data, ["a", "b", "7"], 1)


def test_models_are_frozen():
    s = Scenario()
    with pytest.raises(ValueError):
        s.fleet.drivers = 3  # type: ignore[misc]


# ---- strict types: no bool for a number, no text for a number, no unit-less duration -------


@pytest.mark.parametrize(
    "override,line",
    [
        ("fleet.drivers=true", "fleet.drivers: must be a whole number (got true)"),
        ("fleet.drivers='12'", "fleet.drivers: must be a whole number (got '12')"),
        ("fleet.drivers=12.5", "fleet.drivers: must be a whole number (got 12.5)"),
        ("demand.daily_requests=true", "demand.daily_requests: must be a number (got true)"),
        ("outputs.plots=1", "outputs.plots: must be true or false (got 1)"),
        ("duration=3", "duration: needs a unit, such as '3d', '6h', '1d12h' or '90m' (got 3)"),
        ("duration=true", "duration: must be a duration such as '3d', '6h'"),
        ("start=2013", "start: must be a date such as 2013-12-01"),
        (
            "campaigns=[{date: 20131210, kind: install_app, platform: didi, count: 1}]",
            "campaigns.0.date: must be a date such as 2013-12-10 (got 20131210)",
        ),
    ],
)
def test_wrong_types_are_refused(tmp_path, override, line):
    (got,) = problems(tmp_path, "adoption: {enabled: true}\n", [override])
    assert got.startswith(f"error: {tmp_path / 's.yaml'}: {line}")


def test_ints_and_exponents_still_fill_number_fields(tmp_path):
    s = load_scenario(
        write(tmp_path, "demand: {daily_requests: 1e5, min_trip_m: 0}\n"),
        ["payment.rails.1.fee_rate=0", "demand.boarding_s=1.5e1"],
    )
    assert s.demand.daily_requests == 100_000.0 and isinstance(s.demand.min_trip_m, float)
    assert s.payment.rails[1].fee_rate == 0.0 and s.demand.boarding_s == 15.0
    assert load_scenario(write(tmp_path, "duration: 90min\n")).duration_s == 5400


# ---- one plain line per problem, in the user's own terms ------------------------------------


@pytest.mark.parametrize(
    "override,line",
    [
        (
            "policies.0.amount_yuan={min: 5, max: 1}",
            "policies.0.amount_yuan: max must be at least min",
        ),
        (
            "policies.0.amount_yuan={min: 5}",
            "policies.0.amount_yuan.max: required field is missing",
        ),
        (
            "policies.0.amount_yuan=-3",
            "policies.0.amount_yuan: Input should be greater than or equal to 0 (got -3)",
        ),
        (
            "policies.0.amount_yuan=true",
            "policies.0.amount_yuan: must be a number or a mapping (got true)",
        ),
        (
            "city={kind: hexagon}",
            "city.kind: unknown city kind 'hexagon'; known: grid, ring_radial, graphml"
            " (got 'hexagon')",
        ),
        (
            "city.places={a: {node: true}}",
            "city.places.a.node: must be a whole number or text (got true)",
        ),
        (
            "demand.hourly_profile=[1, 2, 3]",
            "demand.hourly_profile: needs 24 hourly values (got 3)",
        ),
        (
            "start=2013-12-01T00:00:00+08:00",
            "start: give the local time without a time zone (got 2013-12-01T00:00:00+08:00)",
        ),
        ("population.riders_apps={1: 0.3}", "population.riders_apps: keys must be text (got 1)"),
        (
            "fleet.drivers.x=3",
            "fleet.drivers is a number, not a section (got --set fleet.drivers.x=3)",
        ),
        (
            "policies.0.amount_yuan=[1,2",
            "--set policies.0.amount_yuan=[1,2: the value is not valid YAML",
        ),
    ],
)
def test_union_and_override_messages(tmp_path, override, line):
    text = (ROOT / "scenarios" / "default.yaml").read_text(encoding="utf-8")
    (got,) = problems(tmp_path, text, [override])
    assert got.startswith(f"error: {tmp_path / 's.yaml'}: {line}")
    assert got.count("(got ") <= 1


def test_cli_prints_one_plain_line_per_problem(tmp_path):
    """Through ``run_sim.py``: no union member tags, no Python reprs, exit code 2."""
    f = write(tmp_path, "extends: " + str(ROOT / "scenarios" / "default.yaml") + "\n")
    sets = [
        "policies.0.amount_yuan=[1,2",
        "policies.1.amount_yuan={min: 5, max: 1}",
        "fleet.drivers=true",
        "duration=3",
    ]
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "run_sim.py"),
            "validate",
            str(f),
            *(a for s in sets for a in ("--set", s)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and lines and all(x.startswith(f"error: {f}: ") for x in lines)
    for bad in (".float", "function-after", "AmountRange", "datetime.", "Traceback"):
        assert bad not in proc.stderr


# ---- input that used to be dropped without a word -------------------------------------------


def test_duplicate_key_names_key_and_line(tmp_path):
    (line,) = problems(tmp_path, "seed: 1\nfleet:\n  drivers: 5\n  drivers: 6\n")
    assert "line 4" in line and "duplicate key 'drivers'" in line
    # A merge key is not a duplicate: the explicit key overrides the merged one.
    s = load_scenario(write(tmp_path, "fleet:\n  <<: {drivers: 5}\n  drivers: 6\n"))
    assert s.fleet.drivers == 6


POLICY = (
    "policies:\n  - {{id: a, rail: alipay, side: rider, amount_yuan: 5,"
    " start: {start}, end: {end}}}\n"
)


def test_policies_and_campaigns_outside_the_run_are_allowed(tmp_path):
    """A run is often moved or shortened with --set: a policy outside it just pays nothing
    (the summary lists it with 0 spent)."""
    s = load_scenario(write(tmp_path, POLICY.format(start="2012-12-01", end="2013-01-01")))
    assert s.policies[0].id == "a"
    text = "adoption: {enabled: true}\ncampaigns:\n  - {date: 2012-12-10, kind: install_app,"
    assert load_scenario(write(tmp_path, text + " platform: didi, count: 5}\n")).campaigns
    moved = load_scenario(ROOT / "scenarios" / "default.yaml", ["start=2014-02-01"])
    assert moved.policies


def test_policy_after_the_run_is_fine(tmp_path):
    """A long scenario shortened with ``--set duration=2d`` leaves later policies out."""
    s = load_scenario(write(tmp_path, POLICY.format(start="2014-03-01", end="2014-04-01")))
    assert s.policies[0].id == "a"
    war = load_scenario(ROOT / "scenarios" / "subsidy_war_2014.yaml", ["duration=2d"])
    assert war.duration_s == 2 * 86400


def test_missing_extends_target_names_the_extending_file(tmp_path):
    (line,) = problems(tmp_path, "extends: nothere.yaml\n")
    assert line.startswith(f"error: {tmp_path / 's.yaml'}: extends: no scenario file")
    assert "nothere.yaml" in line


def test_numbers_from_python_may_be_numpy_or_whole_floats():
    import numpy as np

    from sim.api import resolve

    scn, _ = resolve(ROOT / "scenarios" / "default.yaml", np.int64(7), ["fleet.drivers=800.0"])
    assert scn.seed == 7 and scn.fleet.drivers == 800
    data = {"seed": np.int32(3), "fleet": {"drivers": np.float64(50.0)}}
    got = scenario_from_dict(data)
    assert (got.seed, got.fleet.drivers) == (3, 50)
    for bad in (
        {"fleet": {"drivers": 50.5}},
        {"fleet": {"drivers": np.bool_(True)}},
        {"fleet": {"drivers": "12"}},
    ):
        with pytest.raises(ScenarioError):
            scenario_from_dict(bad)


def test_an_impossible_date_is_one_error_line(tmp_path):
    (line,) = problems(tmp_path, "start: 2013-13-01\n")
    assert "invalid value in the YAML: month must be in 1..12" in line
    with pytest.raises(ScenarioError, match=r"--set start=2013-13-01: invalid value"):
        load_scenario(write(tmp_path, ""), ["start=2013-13-01"])
