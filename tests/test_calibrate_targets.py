"""The targets format and the pieces of a calibration that are pure functions."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from sim.calibrate.outputs import fitted_mapping
from sim.calibrate.targets import Tables, figure, loss, parse_period, read_targets
from sim.search.space import Param

HEADER = "id,table,where,metric,agg,period,ratio_to,scale,value,tolerance,source"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text.strip() + "\n", encoding="utf-8")
    return path


@pytest.fixture
def run_dir(tmp_path) -> Path:
    """A run directory with a per-(date, rail) daily table and a per-(date, platform)
    platforms table, numbers chosen so every figure is known."""
    daily = ["date,rail,drivers_accepting_share,riders_installed_share"]
    platforms = ["date,platform,orders,riders_installed_share"]
    for i, d in enumerate(["2014-01-06", "2014-01-07", "2014-02-10", "2014-03-31"]):
        daily.append(f"{d},alipay,{0.1 * (i + 1)},0.5")
        daily.append(f"{d},wechat_pay,0.05,{[0.1, 0.12, 0.2, 0.5][i]}")
        platforms.append(f"{d},didi,{[430, 440, 500, 600][i]},{[0.1, 0.12, 0.2, 0.5][i]}")
        platforms.append(f"{d},kuaidi,{[470, 460, 500, 400][i]},0.3")
    write(tmp_path, "daily.csv", "\n".join(daily))
    write(tmp_path, "platforms.csv", "\n".join(platforms))
    write(tmp_path, "summary.json", '{"requests": 1200, "pickup_wait_s": {"mean": 90.5}}')
    return tmp_path


def test_the_issues_targets_can_be_written(tmp_path, run_dir):
    """T1-T4, Didi's growth as a ratio of installs, and a starting app share within
    10 points, each read from the tables as the issue states it."""
    path = write(
        tmp_path,
        "targets.csv",
        f"""
{HEADER}
T1,daily,rail=alipay,drivers_accepting_share,mean,2014-01-06,,66000,5000,1000,count of taxis
T3,daily,rail=wechat_pay,riders_installed_share,mean,2014-01-06..2014-01-07,,,0.11,0.05,late Jan
D1,platforms,platform=didi,riders_installed_share,mean,2014-02-10,2014-01-06,,2.0,0.4,20 M to 40 M
D2,platforms,platform=didi,riders_installed_share,mean,2014-03-31,2014-02-10,,2.5,0.5,to 100 M
S1,platforms,platform=kuaidi,orders,sum,2014-01-06..2014-01-07,,,,,
S2,summary,,pickup_wait_s.mean,mean,,,,90,5,
""".replace(",,,,,\n", ",,,0.467,0.1,Q4 2013 share\n"),
    )
    targets, problems = read_targets(path)
    assert problems == [] and [t.id for t in targets] == ["T1", "T3", "D1", "D2", "S1", "S2"]
    tables = Tables(run_dir)
    got = {t.id: figure(t, tables) for t in targets}
    assert got["T1"] == pytest.approx(0.1 * 66000)
    assert got["T3"] == pytest.approx(0.11)
    assert got["D1"] == pytest.approx(2.0)
    assert got["D2"] == pytest.approx(2.5)
    assert got["S1"] == 930
    assert got["S2"] == 90.5
    assert loss(targets, got) == pytest.approx(((930 - 0.467) / 0.1) ** 2 + (0.5 / 5) ** 2)
    assert targets[2].label() == (
        "mean of platforms.riders_installed_share [platform=didi] over 2014-02-10 / the same "
        "over 2014-01-06"
    )


def test_a_target_without_rows_fails_the_trial_with_its_id(tmp_path, run_dir):
    path = write(
        tmp_path,
        "t.csv",
        f"{HEADER}\nX,daily,rail=alipay,drivers_accepting_share,mean,2014-05-01,,,1,1,",
    )
    (t,), _ = read_targets(path)
    with pytest.raises(ValueError, match="target X: no row of daily"):
        figure(t, Tables(run_dir))


def test_periods():
    assert parse_period("") is None
    assert parse_period("2014-02-07") == (date(2014, 2, 7), date(2014, 2, 7))
    assert parse_period("2014-01-20..2014-01-31") == (date(2014, 1, 20), date(2014, 1, 31))
    with pytest.raises(ValueError, match="ends before it starts"):
        parse_period("2014-01-31..2014-01-20")
    with pytest.raises(ValueError):
        parse_period("late January")


def test_file_problems(tmp_path):
    _, problems = read_targets(tmp_path / "none.csv")
    assert [p.message for p in problems] == ["file not found"]
    _, problems = read_targets(write(tmp_path, "a.csv", "id,table,metric,colour\nA,daily,x,red"))
    assert [p.message for p in problems] == [
        f"unknown column 'colour' (columns: {HEADER.replace(',', ', ')})",
        "missing column 'agg'",
        "missing column 'value'",
        "missing column 'tolerance'",
    ]
    _, problems = read_targets(
        write(tmp_path, "b.csv", f"{HEADER}\nA,daily,,x,mean,,,,1,1,s,extra")
    )
    assert [str(p).split(": ", 2)[2] for p in problems] == ["line 2: 12 fields, the header has 11"]
    _, problems = read_targets(
        write(tmp_path, "c.csv", f"{HEADER}\nA,daily,,x,mean,,,,1,1,s\nA,daily,,y,mean,,,,1,1,s")
    )
    assert [str(p).split(": ", 2)[2] for p in problems] == ["line 3: id: used twice (got 'A')"]


def test_params():
    assert Param(low=1, high=5).distribution().log is False
    assert Param.model_validate({"low": 10, "high": 20, "type": "int"}).distribution().high == 20
    assert Param(choices=["nearest", "batch"]).describe() == "nearest, batch"
    assert Param(low=0.1, high=1.5, log=True).describe() == "0.1 to 1.5 (log)"
    for bad, msg in (
        ({"low": 2, "high": 1}, "low must be below high"),
        ({"low": 0, "high": 1, "log": True}, "a log range needs low > 0"),
        ({"low": 0.5, "high": 3, "type": "int"}, "whole low and high"),
        ({"low": 1, "high": 3, "choices": [1]}, "either choices or a range"),
        ({"high": 3}, "give a range"),
    ):
        with pytest.raises(ValidationError, match=msg):
            Param.model_validate(bad)


def test_fitted_values_as_a_scenario_to_extend():
    base = {"adoption": {"drivers": {"cash_preference": 3.0}}, "policies": [{"a": 1}, {"a": 2}]}
    got = fitted_mapping(
        base, {"adoption.drivers.cash_preference": 2.5, "policies.1.a": 7, "fleet.drivers": 9}
    )
    assert got == {
        "adoption": {"drivers": {"cash_preference": 2.5}},
        "policies": [{"a": 1}, {"a": 7}],  # extends replaces lists: the whole list
        "fleet": {"drivers": 9},
    }
