"""``broadcast``: the 2013 grab-order apps; a request is pushed to nearby drivers and the
first to grab it wins."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
from pydantic import Field

from sim.city.spatial import CellIndex
from sim.core.clock import call_in
from sim.core.ride import Ride
from sim.core.state import APP
from sim.market.dispatch.base import WAITING, Engine, Matcher
from sim.market.fleet import IDLE
from sim.registry import DISPATCH
from sim.scenario.base import Frozen, Pos

if TYPE_CHECKING:
    from sim.market.dispatch.dispatcher import Dispatcher

PUSH_CAP = 32  # drivers one broadcast round reaches at most (the nearest ones)


class BroadcastSettings(Frozen):
    """``dispatch.broadcast``: the push radius, drivers' response and grab logit, and what
    happens when nobody grabs."""

    radius_s: Pos = 600.0  # pickup-time radius of the first push
    response_s: Pos = 8.0  # mean delay before a driver reacts (exponential)
    timeout_s: Pos = 60.0  # no grab by then: widen, tip or give up
    grab_base: float = -1.0  # logit of grabbing: base + per_yuan x value - per_min x pickup
    grab_per_yuan: float = Field(default=0.08, ge=0)
    grab_per_pickup_min: float = Field(default=0.25, ge=0)
    on_timeout: Literal["widen", "tip", "give_up"] = "widen"
    widen_factor: float = Field(default=2.0, ge=1)
    tip_yuan: float = Field(default=5.0, ge=0, le=1000)
    max_rounds: int = Field(default=3, ge=1, le=20)


class BroadcastRace(Matcher):
    """Grab-order dispatch: push to the platform's idle drivers within a pickup radius;
    each grabs with a probability rising with the trip's value and falling with the pickup
    time, after a response delay; the first grab wins. No grab before the timeout: widen
    the radius, add a tip, or give up (``dispatch.broadcast.on_timeout``).

    Drivers who grabbed too late, or a winner already taken by another request, fall to
    the next grabber in time, counted from the moment the first grab is settled.
    """

    Settings = BroadcastSettings
    own_clock = True

    index: CellIndex

    def __init__(
        self,
        engine: Engine,
        dispatcher: Dispatcher,
        platform: int,
        settings: BroadcastSettings,
        max_pickup_s: float,
    ) -> None:
        super().__init__(engine, dispatcher.idle_app[platform], max_pickup_s)
        self.dispatcher = dispatcher
        self.spec = settings
        self.platform = platform
        self.name = dispatcher.platforms[platform]
        self.rails = [j for j, r in enumerate(dispatcher.rails) if r.platform == self.name]
        self.rng = engine.stream(f"dispatch.broadcast.{self.name}")
        self.stats = engine.channel_stats(APP, platform)
        self.stats.broadcast = True  # its summary reports the grab race, pushes or none

    def request(self, ride: Ride) -> None:
        ride.radius = self.spec.radius_s
        ride.round = 0
        self.waiting_rides[ride.id] = ride
        self.engine.wait(ride)
        if ride.status == WAITING:
            self._push(ride)

    def dequeue(self, ride: Ride) -> bool:
        return self.waiting_rides.pop(ride.id, None) is not None

    def _value_yuan(self, ride: Ride) -> float:
        e = self.engine
        t = e.env.now
        offer = max((e.book.offer_yuan(j, self.name, t, "driver") for j in self.rails), default=0.0)
        fare = e.measure(ride)
        return fare / 100 + ride.tip_fen / 100 + offer

    def _push(self, ride: Ride) -> None:
        """One round: the nearest ``PUSH_CAP`` drivers within the radius each may grab."""
        spec = self.spec
        keys, nodes = self.index.near(ride.origin, enough=PUSH_CAP)
        grabbers: list[tuple[float, int]] = []
        if keys:
            times = self.city.times_to(ride.origin)[nodes].astype(float)
            reach = np.flatnonzero(times <= ride.radius)
            if len(reach) > PUSH_CAP:
                reach = reach[np.argsort(times[reach], kind="stable")[:PUSH_CAP]]
            if len(reach):
                x = (
                    spec.grab_base
                    + spec.grab_per_yuan * self._value_yuan(ride)
                    - spec.grab_per_pickup_min * times[reach] / 60
                )
                grab = self.rng.random(len(reach)) < 1.0 / (1.0 + np.exp(-x))
                delay = self.rng.exponential(spec.response_s, len(reach))
                ok = grab & (delay <= spec.timeout_s)
                grabbers = sorted(
                    zip(delay[ok].tolist(), [keys[i] for i in reach[ok]], strict=True)
                )
            self.stats.reached += len(reach)
        self.stats.pushes += 1
        self.stats.grabs += len(grabbers)
        env = self.engine.env
        wait = grabbers[0][0] if grabbers else spec.timeout_s
        call_in(env, wait, self._grabbed, (ride, ride.round, grabbers))

    def _grabbed(self, round_of: tuple[Ride, int, list[tuple[float, int]] | None]) -> None:
        ride, round_, grabbers = round_of
        if ride.status != WAITING or ride.round != round_:
            return
        fleet, disp = self.engine.fleet, self.dispatcher
        for _, d in grabbers or ():
            if fleet.state[d] == IDLE and disp.in_index[d] and self.platform in disp.apps_of[d]:
                self.dequeue(ride)
                self.engine.assign(ride, d, self.city.time_s(fleet.node[d], ride.origin))
                return
        left = self.spec.timeout_s - grabbers[0][0] if grabbers else 0.0
        if left > 0:  # every grabber was taken meanwhile: the round runs to its timeout
            call_in(self.engine.env, left, self._grabbed, (ride, round_, None))
        else:
            self._escalate(ride)

    def _escalate(self, ride: Ride) -> None:
        spec = self.spec
        ride.round += 1
        if spec.on_timeout == "give_up" or ride.round >= spec.max_rounds:
            self.dequeue(ride)
            self.engine.give_up(ride)
            return
        if spec.on_timeout == "widen":
            ride.radius *= spec.widen_factor
        else:
            ride.tip_fen += int(round(spec.tip_yuan * 100))
        self._push(ride)


DISPATCH.register("broadcast", BroadcastRace)
