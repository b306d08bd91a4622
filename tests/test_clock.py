"""The run clock: Calls take a Timeout's place in SimPy's order, and requests merge in."""

from __future__ import annotations

import pytest
import simpy
from simpy.events import Timeout

from sim.clock import call_in, events_scheduled, run_until


def _mixed(env: simpy.Environment, fired: list) -> None:
    """Timeouts and Calls interleaved, several at equal times, scheduled from a callback."""
    for i, delay in enumerate([5.0, 1.0, 5.0, 0.0, 1.0, 5.0]):
        if i % 2:
            call_in(env, delay, fired.append, ("call", i))
        else:
            Timeout(env, delay, ("timeout", i)).callbacks.append(
                lambda ev: fired.append(ev._value))

    def nested(_arg) -> None:  # a Call scheduling more work at its own time
        fired.append(("nested", env.now))
        call_in(env, 0.0, fired.append, ("after-nested", env.now))
        Timeout(env, 0.0, ("timeout-after-nested", env.now)).callbacks.append(
            lambda ev: fired.append(ev._value))

    call_in(env, 1.0, nested)


def test_calls_fire_in_timeout_order_through_run_until_and_env_run() -> None:
    """The same schedule fired by ``run_until`` and by SimPy's own ``env.run`` gives the
    same order, and that order is SimPy's (time, then scheduling order)."""
    by_clock, by_simpy = [], []
    env1, env2 = simpy.Environment(), simpy.Environment()
    _mixed(env1, by_clock)
    _mixed(env2, by_simpy)
    run_until(env1, 10.0, [], lambda req: None)
    env2.run(until=10.0)
    assert by_clock == by_simpy
    assert by_clock[:2] == [("call", 3), ("call", 1)]  # t=0, then t=1 in scheduling order
    assert by_clock[-3:] == [("timeout", 0), ("timeout", 2), ("call", 5)]
    assert env1.now == env2.now == 10.0
    assert events_scheduled(env1) == 9  # 7 up front, 2 from `nested`


def test_requests_merge_after_events_due_by_their_time_and_stop_at_until() -> None:
    env = simpy.Environment()
    seen: list = []
    call_in(env, 2.0, seen.append, "call@2")
    call_in(env, 4.0, seen.append, "call@4")  # exactly at until: left, as env.run leaves it
    requests = [(1.0, "a"), (2.0, "b"), (3.5, "c"), (4.0, "d")]
    run_until(env, 4.0, iter(requests), lambda req: seen.append((env.now, req[1])))
    assert seen == [(1.0, "a"), "call@2", (2.0, "b"), (3.5, "c")]
    assert env.now == 4.0 and len(env._queue) == 1


def test_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="negative delay"):
        call_in(simpy.Environment(), -1.0, print)
