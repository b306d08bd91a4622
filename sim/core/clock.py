"""The run's clock: SimPy's event queue, with the model's timed callbacks and its request
stream merged in cheaply.

Most of what a ride schedules is a plain callback at a known time (a patience wake-up, a
street find). ``call_in`` puts one on SimPy's own queue as a ``Call``, in the same order a
``Timeout`` would take (time, priority, SimPy's event counter), but without an event's
bookkeeping; ``run_until`` fires Calls itself and leaves every other event to
``env.step``. The commonest thing due, a ride whose driver is free again, goes on the
queue as itself (``put_in``) and ``run_until`` hands it to its one handler: no Call and no
bound method to make, and fewer objects to reach when it comes due. This is the one
place that reads SimPy 4's ``_queue``, ``_now`` and ``_eid`` (hence setup.cfg's pin below
SimPy 5).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from heapq import heappop, heappush
from itertools import chain
from typing import Any

import simpy
from simpy.events import NORMAL


class Call:
    """``fn(arg)`` due at a time. ``env.step`` can fire it too, as an event whose one
    callback makes the call (it has no ``env`` or ``value``, so tools that trace events
    through those see it only as a queue entry)."""

    __slots__ = ("arg", "fn")
    _ok = True  # read by env.step: a Call never fails

    def __init__(self, fn: Callable[[Any], None], arg: Any) -> None:
        self.fn = fn
        self.arg = arg

    @property
    def callbacks(self) -> tuple:
        return (self._fire,)

    @callbacks.setter
    def callbacks(self, rest) -> None:
        # env.step sets None before firing; after a StopSimulation it re-arms the event with
        # the callbacks not yet run, which for a Call's one callback are none.
        if rest is not None:
            self.fn = _nothing

    def _fire(self, _event) -> None:
        self.fn(self.arg)


def _nothing(_arg: Any) -> None:
    pass


class _NoItem:
    """The item class of a run that puts no items on the queue."""


def call_in(
    env: simpy.Environment, delay: float, fn: Callable[[Any], None], arg: Any = None
) -> None:
    """Call ``fn(arg)`` ``delay`` seconds from now, ordered as a Timeout made now would be."""
    if delay < 0:
        raise ValueError(f"negative delay {delay}")
    # A Call rides SimPy's queue in an event's place (see ``Call``); SimPy types it Event.
    call = Call(fn, arg)
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), call))  # type: ignore[misc]


def put_in(env: simpy.Environment, delay: float, item: Any) -> None:
    """Queue ``item`` for ``run_until``'s ``due`` handler ``delay`` seconds from now, ordered
    as a Timeout made now would be. Only ``run_until`` may then run the queue (``env.step``
    does not know the item)."""
    heappush(env._queue, (env._now + delay, NORMAL, next(env._eid), item))


def run_until(
    env: simpy.Environment,
    until: float,
    requests: Iterable[tuple[float, Any]],
    arrive: Callable[[Any], None],
    due: tuple[type, Callable[[Any], None]] | None = None,
) -> int:
    """Advance ``env`` to ``until``, serving ``requests``, (time, request) pairs in time
    order, in turn; return how many were served.

    Requests need no event of their own: the loop fires every queued event due by the next
    request's time, then hands the request to ``arrive`` with the clock at its time. Items
    of the class ``due[0]`` put on the queue (``put_in``) go to ``due[1]``. Events at
    ``until`` itself are left, as ``env.run(until=...)`` leaves them.
    """
    queue = env._queue
    step = env.step
    last = math.nextafter(until, -math.inf)
    served = 0
    item_class, handle = due or (_NoItem, _nothing)
    for t, req in chain(requests, ((until, None),)):
        if t >= until:
            t, req = last, None
        while queue:
            when, _, _, event = queue[0]
            if when > t:
                break
            if event.__class__ is item_class:
                heappop(queue)
                env._now = when
                handle(event)
            elif event.__class__ is Call:  # type: ignore[comparison-overlap]  # see call_in
                heappop(queue)
                env._now = when
                event.fn(event.arg)
            else:
                step()
        if req is None:
            break
        env._now = t
        arrive(req)
        served += 1
    env._now = until
    return served


def events_scheduled(env: simpy.Environment) -> int:
    """Events (and Calls) the run scheduled: SimPy numbers each from its ``_eid`` counter."""
    return next(env._eid)


@contextmanager
def fewer_collections(gen0_threshold: int = 100_000) -> Iterator[None]:
    """Run the cycle collector's young generation every 100,000 net allocations, not 700.

    The loop keeps tens of thousands of containers alive (rides waiting or in flight,
    pending events, patience deadlines) and makes almost no cycles, so the default rhythm
    spends its time re-traversing live objects: about 15% of a city-day's wall time.
    Restored afterwards.
    """
    old = gc.get_threshold()
    gc.set_threshold(max(old[0], gen0_threshold), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)
