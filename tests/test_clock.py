"""The run clock: Calls take a Timeout's place in SimPy's order, and requests merge in."""

from __future__ import annotations

import pytest
import simpy
from simpy.events import Timeout

from sim.core.clock import call_in, events_scheduled, put_in, run_until


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


class _Due:
    """An item put on the queue as itself (as a ride whose driver is free again is)."""

    def __init__(self, fn, arg) -> None:
        self.fn, self.arg = fn, arg


def _put_in(env: simpy.Environment, delay: float, fn, arg=None) -> None:
    put_in(env, delay, _Due(fn, arg))


def test_items_put_on_the_queue_come_due_in_the_order_calls_would() -> None:
    """``put_in`` items reach ``run_until``'s handler in the order and at the clock
    readings Calls made at the same moments would, interleaved with Timeouts and Calls."""
    orders = []
    for schedule in (call_in, _put_in):
        env, fired = simpy.Environment(), []
        _mixed(env, fired, schedule)
        call_in(env, 5.0, fired.append, "a call among the items")
        handled = []

        def handle(item: _Due, handled=handled) -> None:
            handled.append(item)
            item.fn(item.arg)

        run_until(env, 10.0, [], lambda req: None, due=(_Due, handle))
        orders.append(fired)
        assert len(handled) == (0 if schedule is call_in else 6)  # every put_in item
    assert orders[0] == orders[1]


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


def _expiries(sweep_at: int) -> list[tuple[int, float]]:
    """Riders with random deadlines, most matched before theirs; (ride, time) of each
    expiry, with the patience clock sweeping void deadlines once ``sweep_at`` are held."""
    import random

    from sim.core import patience
    from sim.core.patience import PatienceClock
    from sim.core.ride import Ride
    from sim.core.state import RideStatus

    rnd = random.Random(7)
    env = simpy.Environment()
    fired: list[tuple[int, float]] = []
    clock = PatienceClock(env, lambda ride: fired.append((ride.id, env.now)))
    old = patience.FIRST_SWEEP
    patience.FIRST_SWEEP = sweep_at
    clock._sweep_at = sweep_at
    rides = []

    def arrive(i: int) -> None:
        ride = Ride(i, env.now, 0, 0, -1, False, 0, 0, rnd.expovariate(1 / 60), None, None, None)
        rides.append(ride)
        clock.add(ride.t_request + ride.patience, ride)
        if rnd.random() < 0.8:  # most are matched before they would give up
            call_in(env, rnd.random() * ride.patience, _match, ride)

    def _match(ride: Ride) -> None:
        ride.status = RideStatus.MATCHED

    requests = [(i * 0.5 + rnd.random() * 0.1, i) for i in range(4000)]
    try:
        run_until(env, 5000.0, requests, arrive)
    finally:
        patience.FIRST_SWEEP = old
    assert all(r.status == RideStatus.WAITING for r in rides if r.id in dict(fired))
    return fired


def test_patience_sweeps_of_void_deadlines_change_no_expiry() -> None:
    never = _expiries(10**9)
    assert len(never) > 500  # a fifth of 4,000 riders give up
    assert _expiries(4) == never  # a sweep nearly every time a deadline is added
