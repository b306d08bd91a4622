"""The run clock: Calls take a Timeout's place in SimPy's order, and requests merge in."""

from __future__ import annotations

import pytest
import simpy
from simpy.events import Timeout

from sim.core.clock import call_in, events_scheduled, run_until


def _timeout_in(env: simpy.Environment, delay: float, fn, arg=None) -> None:
    """What ``call_in`` replaces: a Timeout with the call as its callback."""
    Timeout(env, delay, arg).callbacks.append(lambda ev: fn(ev._value))


def _mixed(env: simpy.Environment, fired: list, schedule) -> None:
    """Timeouts and scheduled calls interleaved, several at equal times, more scheduled from
    inside a call; every call records the clock it sees."""

    def log(what) -> None:
        fired.append((what, env.now))

    for i, delay in enumerate([5.0, 1.0, 5.0, 0.0, 1.0, 5.0, 2.5]):
        if i % 2:
            schedule(env, delay, log, ("call", i))
        else:
            Timeout(env, delay, ("timeout", i)).callbacks.append(lambda ev: log(ev._value))

    def nested(_arg) -> None:
        log("nested")
        schedule(env, 0.0, log, "after-nested")
        Timeout(env, 0.0, "timeout-after-nested").callbacks.append(lambda ev: log(ev._value))

    schedule(env, 1.0, nested)
    schedule(env, 3.5, log, "alone")  # the only event at its time


def test_calls_fire_in_timeout_order_through_run_until_and_env_run() -> None:
    """The same schedule gives the same order and clock readings fired by ``run_until``,
    by SimPy's own ``env.run``, and with plain Timeouts instead of Calls."""
    orders = []
    for schedule, runner in [(call_in, "clock"), (call_in, "simpy"), (_timeout_in, "simpy")]:
        env, fired = simpy.Environment(), []
        _mixed(env, fired, schedule)
        if runner == "clock":
            run_until(env, 10.0, [], lambda req: None)
        else:
            env.run(until=10.0)
        assert env.now == 10.0
        orders.append(fired)
    assert orders[0] == orders[1] == orders[2]
    fired = orders[0]
    assert fired[:2] == [(("call", 3), 0.0), (("call", 1), 1.0)]  # by time, then as scheduled
    assert (("alone", 3.5)) in fired
    assert fired[-3:] == [(("timeout", 0), 5.0), (("timeout", 2), 5.0), (("call", 5), 5.0)]


def test_an_error_in_a_call_stops_the_run_at_its_time() -> None:
    env = simpy.Environment()

    def boom(_arg) -> None:
        raise RuntimeError("boom")

    call_in(env, 2.0, boom)
    call_in(env, 3.0, print)
    with pytest.raises(RuntimeError, match="boom"):
        run_until(env, 10.0, [], lambda req: None)
    assert env.now == 2.0 and len(env._queue) == 1


def test_events_scheduled_counts_calls_as_events() -> None:
    env = simpy.Environment()
    _mixed(env, [], call_in)
    run_until(env, 10.0, [], lambda req: None)
    assert events_scheduled(env) == 11  # 9 up front, 2 from `nested`


def test_requests_merge_after_events_due_by_their_time_and_stop_at_until() -> None:
    env = simpy.Environment()
    seen: list = []
    call_in(env, 2.0, seen.append, "call@2")
    call_in(env, 4.0, seen.append, "call@4")  # exactly at until: left, as env.run leaves it
    requests = [(1.0, "a"), (2.0, "b"), (3.5, "c"), (4.0, "d")]
    served = run_until(env, 4.0, iter(requests), lambda req: seen.append((env.now, req)))
    assert served == 3
    assert seen == [(1.0, "a"), "call@2", (2.0, "b"), (3.5, "c")]
    assert env.now == 4.0 and len(env._queue) == 1


def test_negative_delay_is_refused() -> None:
    with pytest.raises(ValueError, match="negative delay"):
        call_in(simpy.Environment(), -1.0, print)
