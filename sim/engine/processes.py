"""The run's SimPy processes besides rides and midnights: drivers' shifts, and the
sampler that records fleet states (and drives the progress bar) at a fixed step."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime, timedelta

import simpy
from simpy.events import Timeout

from sim.core.progress import RunProgress
from sim.market.fleet import IDLE, OFF, Fleet
from sim.records.tables import Row, timeseries_row


def shift(
    env: simpy.Environment,
    fleet: Fleet,
    members: list[int],
    windows: list[tuple[float, float]],
    duration: float,
    on_duty: Callable[[int], None],
    gone: Callable[[int], None],
) -> Generator[Timeout, object, None]:
    """One shift group's windows on duty: its drivers come on (``on_duty``: the channels
    may take them), and at the end of a window the idle ones leave (``gone``: out of the
    channels) while those with a rider leave after the ride."""
    for on, off in windows:
        if on > env.now:
            yield Timeout(env, on - env.now)
        for d in members:
            fleet.off_after_ride[d] = False
            if fleet.state[d] == OFF:
                fleet.move(d, IDLE)
                on_duty(d)
        if off >= duration:
            return
        yield Timeout(env, off - env.now)
        for d in members:
            if fleet.state[d] == IDLE:
                gone(d)
                fleet.move(d, OFF)
            elif fleet.state[d] != OFF:
                fleet.off_after_ride[d] = True


def sampler(
    env: simpy.Environment,
    every_s: float,
    duration: float,
    start: datetime,
    fleet: Fleet,
    rows: list[Row],
    waiting: Callable[[], int],
    completed: Callable[[], int],
    progress: bool,
) -> Generator[Timeout, object, None]:
    """Every ``every_s`` seconds a timeseries row (drivers per state, riders waiting);
    with ``progress``, the bar too, closed at the run's last sample."""
    bar = RunProgress(duration, start) if progress else None
    while True:
        counts = fleet.states_at(env.now).tolist()
        stamp = (start + timedelta(seconds=env.now)).isoformat(timespec="seconds")
        rows.append(timeseries_row(round(float(env.now), 3), stamp, counts, waiting()))
        if bar is not None:
            bar.update(env.now, completed())
            if env.now + every_s >= duration:  # a sample at the end may never run
                bar.close()
        if env.now + every_s > duration:
            return
        yield Timeout(env, every_s)
