"""The animated map: positions rebuilt from ride times, the window it covers, its size."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

import run_sim
from sim.report.map import Window, _positions


def rides(**cols) -> dict[str, np.ndarray]:
    """Ride arrays as ``_rides`` makes them (one taxi, two rides, one rider who gave up)."""
    return {k: np.asarray(v) for k, v in cols.items()}


def test_positions_follow_each_taxi_through_its_states():
    xy = np.array([[0.0, 0.0], [1.0, 0.0], [1.0, 2.0], [5.0, 5.0]])
    r = rides(
        t_request=[0.0, 50.0, 10.0],
        t_match=[0.0, 60.0, np.nan],
        t_pickup=[10.0, 70.0, np.nan],
        t_dropoff=[20.0, 80.0, np.nan],
        t_paid=[25.0, 85.0, np.nan],
        t_abandon=[np.nan, np.nan, 40.0],
        next_match=[60.0, np.inf, np.nan],
        origin=[1, 2, 3],
        destination=[2, 0, 3],
        prev=[0, 2, 3],
    )
    at = {t: _positions(r, xy, t) for t in (5.0, 15.0, 22.0, 30.0, 65.0, 90.0)}
    assert at[5.0]["to pickup"].tolist() == [[0.5, 0.0]]  # halfway from node 0 to node 1
    assert at[15.0]["with rider"].tolist() == [[1.0, 1.0]]  # halfway from node 1 to node 2
    assert at[22.0]["being paid"].tolist() == [[1.0, 2.0]]
    assert at[30.0]["idle"].tolist() == [[1.0, 2.0]]  # at its last drop-off
    assert at[65.0]["to pickup"].tolist() == [[1.0, 2.0]]  # second ride: from node 2 to 2
    assert at[90.0]["idle"].tolist() == [[0.0, 0.0]]
    assert at[15.0]["waiting"].tolist() == [[5.0, 5.0]] and at[5.0]["waiting"].tolist() == [
        [1.0, 0.0]
    ]
    assert at[65.0]["waiting"].tolist() == [[1.0, 2.0]]  # the second rider; the first gave up
    assert len(_positions(r, xy, 75.0)["waiting"]) == 0
    for t, pos in at.items():
        assert sum(len(pos[s]) for s in pos if s != "waiting") == 1, t  # one taxi, always


def test_window_is_a_span_of_local_time():
    start = datetime(2013, 12, 1)
    assert Window("07:00-10:00").bounds(start) == (
        datetime(2013, 12, 1, 7),
        datetime(2013, 12, 1, 10),
    )
    assert Window("2013-12-10 22:00-2:00").bounds(start) == (
        datetime(2013, 12, 10, 22),
        datetime(2013, 12, 11, 2),
    )


def test_a_bad_map_window_is_one_error_line(tmp_path, capsys):
    from tests.conftest import ROOT

    run = tmp_path / "run"
    args = ["run", str(ROOT / "scenarios/validation/erlang_c.yaml"), "--quiet", "--out", str(run)]
    assert run_sim.main([*args, "--set", "duration=3h"]) == 0
    capsys.readouterr()
    assert run_sim.main(["report", str(run), "--map", "morning"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == "error: --map 'morning': give HH:MM-HH:MM or YYYY-MM-DD HH:MM-HH:MM (e.g. 07:00-10:00)\n"
    )
    assert not (run / "report.html").exists()
    assert run_sim.main(["report", str(run), "--map", "none"]) == 0


@pytest.mark.parametrize("window", ["25:00-26:00"])
def test_an_impossible_hour_is_refused(window):
    from sim.errors import BadInput

    with pytest.raises(BadInput, match="--map '25:00-26:00'"):
        Window(window).bounds(datetime(2013, 12, 1))
