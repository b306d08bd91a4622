"""Scenario loading: defaults, overrides, and one clear problem per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.scenario import ScenarioError, apply_override, load_scenario, parse_override
from sim.schema import Scenario, parse_duration

ROOT = Path(__file__).resolve().parents[1]


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "s.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def problems(tmp_path: Path, text: str, overrides=None) -> list[str]:
    with pytest.raises(ScenarioError) as err:
        load_scenario(write(tmp_path, text), overrides)
    return [str(p) for p in err.value.problems]


@pytest.mark.parametrize("text,seconds", [("6h", 21600), ("3d", 259200), ("1d12h", 129600),
                                          ("90m", 5400), (3600, 3600)])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "6x", "0h", "-1d", "500d", True])
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
    assert line.startswith("error: ") and "fleet.drivrs: unknown key (got 5)" in line


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
    text = ("policies:\n  - {id: a, rail: alipay, side: rider, amount_yuan: 5,"
            " start: 2014-01-01, end: 2013-12-01}\n")
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
