"""Wires a run together: SimPy processes for shifts, sampling and the day clock, callbacks
for rides.

A ride costs few events: a patience deadline if it must wait (one heap for all riders), a
grab or street find where the channel needs one, and the moment its driver is free again.
Requests themselves are a presorted stream merged into the clock (``sim.core.clock``), not
events. Pickup, drop-off and payment times are known at match time and computed, not
waited for.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from itertools import count
from pathlib import Path

import simpy
from simpy.events import Timeout

from sim.city.travel import City, build_city
from sim.core.clock import call_in, events_scheduled, run_until
from sim.core.patience import PatienceClock
from sim.core.progress import RunProgress
from sim.core.rng import Streams
from sim.core.state import APP, CHANNEL_NAMES, STREET, RideStatus
from sim.market.adoption import AdoptionModel
from sim.market.demand import OriginDestination, channels, requests
from sim.market.dispatch.dispatcher import Dispatcher
from sim.market.fleet import IDLE, OFF, Fleet, shift_windows
from sim.market.population import Population
from sim.money.cashier import Cashier
from sim.money.ledger import Ledger
from sim.money.rails import CASH, Chooser, fare_fen, fares_fen
from sim.money.subsidies import PolicyBook
from sim.records.daybook import DayBook
from sim.records.ridelog import ChannelStats, RideLog, Stats
from sim.scenario.spec import Scenario

WAITING, MATCHED, COMPLETED, ABANDONED = (
    RideStatus.WAITING,
    RideStatus.MATCHED,
    RideStatus.COMPLETED,
    RideStatus.ABANDONED,
)


class Ride:
    """A request in flight; dropped as soon as its row is written."""

    __slots__ = (
        "channel",
        "deadhead_m",
        "dest",
        "dist_m",
        "driver",
        "failed",
        "fare",
        "finding",
        "id",
        "origin",
        "patience",
        "platform",
        "prebook",
        "radius",
        "rail",
        "ride_s",
        "rider",
        "round",
        "stats",
        "status",
        "t_dropoff",
        "t_match",
        "t_pickup",
        "t_request",
        "tip_fen",
    )

    def __init__(
        self,
        rid: int,
        t: float,
        rider: int,
        channel: int,
        platform: int,
        prebook: bool,
        origin: int,
        dest: int,
        patience: float,
        dist_m: float | None,
        ride_s: float | None,
        fare: int | None,
    ) -> None:
        self.id = rid
        self.rider = rider
        self.channel = channel
        self.platform = platform
        self.prebook = prebook
        self.origin = origin
        self.dest = dest
        self.t_request = t
        self.patience = patience
        self.dist_m = dist_m
        self.ride_s = ride_s
        self.fare = fare
        self.status = WAITING
        self.driver = -1
        self.tip_fen = 0
        self.finding = False  # a street find is scheduled for her


class World:
    """The state of one run and the callbacks that move it."""

    def __init__(
        self,
        scenario: Scenario,
        out_dir: Path | None,
        city: City | None = None,
        progress: bool = False,
    ) -> None:
        self.scenario = scenario
        self.streams = Streams(scenario.seed)
        self.env = simpy.Environment()
        self.city = city or build_city(scenario.city)
        self.duration = scenario.duration_s
        self.sample = scenario.population.sample
        fleet_spec = scenario.fleet.model_copy(
            update={"drivers": max(1, round(scenario.fleet.drivers * self.sample))}
        )
        self.fleet = Fleet(fleet_spec, self.city.n, self.streams["fleet"])
        self.pop = Population(scenario, self.fleet.n, self.streams["population"])
        self.platforms = self.pop.platforms
        self.rails = [r.id for r in scenario.payment.rails]
        self.channel_names = ["street", *(f"app:{p}" for p in self.platforms), "prebook"]
        self.channels = [ChannelStats(n) for n in self.channel_names]
        self.chooser = Chooser(scenario.payment, self.streams["payment"])
        self.book = PolicyBook(
            scenario.policies, scenario.start, self.rails, self.streams["policy"], self.sample
        )
        self.ledger = Ledger(keep_journal=scenario.outputs.ledger == "full")
        self.stats = Stats()
        self.log = RideLog(out_dir / "rides.csv" if out_dir and scenario.outputs.rides else None)
        self.days = DayBook(self)
        self.cashier = Cashier(self)
        self.adoption = AdoptionModel(self) if scenario.adoption.enabled else None
        self.days.adoption = self.adoption
        self.dispatch = Dispatcher(self)
        self.timeseries: list[tuple] = []
        self.cruise = self._cruise_targets() if scenario.fleet.idle == "cruise" else None
        self.cruise_token = [0] * self.fleet.n
        self.in_flight: dict[int, Ride] = {}
        self.patience = PatienceClock(self.env, self._patience_over)
        self.boarding = scenario.demand.boarding_s
        self.tariff = scenario.tariff
        self.progress = progress

    def _cruise_targets(self):
        """Draws of cruising targets from the demand's origin distribution, a block at a time."""
        od = OriginDestination(self.scenario.demand, self.city.xy, self.city.places)
        rng = self.streams["fleet.cruise"]
        buf: list[int] = []

        def next_target() -> int:
            if not buf:
                buf.extend(od.origins(rng, 4096).tolist()[::-1])
            return buf.pop()

        return next_target

    def channel_stats(self, channel: int, platform: int = -1) -> ChannelStats:
        if channel == APP:
            return self.channels[1 + platform]
        return self.channels[0 if channel == STREET else len(self.channels) - 1]

    # --- processes -----------------------------------------------------------------
    def _requests(self) -> Iterator[tuple[float, Ride]]:
        """(time, ride) of every request in time order, drawn an hour's chunk at a time;
        rides are numbered in that order."""
        scn = self.scenario
        rng = self.streams["demand"]
        od = OriginDestination(scn.demand, self.city.xy, self.city.places)
        ids = count()
        for chunk in requests(scn.demand, od, scn.start, self.duration, rng, self.sample):
            riders = self.pop.draw_riders(rng, len(chunk.t))
            channel, platform, prebook = channels(self.pop, scn.dispatch, riders, rng)
            trips = self.city.trips(chunk.origin, chunk.destination)
            n = len(chunk.t)
            if trips is None:  # no matrices: each ride is measured when matched (``measure``)
                dist_m, fare = [None] * n, [None] * n
                ride_s = chunk.ride_time.tolist() if chunk.ride_time is not None else [None] * n
            else:
                dist, secs = trips
                if chunk.ride_time is not None:  # the scenario's own trip times
                    secs = chunk.ride_time
                dist_m, ride_s = dist.tolist(), secs.tolist()
                fare = fares_fen(dist, secs, self.tariff)
            t = chunk.t.tolist()
            rides = map(
                Ride,
                ids,
                t,
                riders.tolist(),
                channel.tolist(),
                platform.tolist(),
                prebook.tolist(),
                chunk.origin.tolist(),
                chunk.destination.tolist(),
                chunk.patience.tolist(),
                dist_m,
                ride_s,
                fare,
            )
            # Every list has the chunk's length; strict would draw one id past the end.
            yield from zip(t, rides, strict=False)

    def shift(self, index: int, windows: list[tuple[float, float]]):
        env = self.env
        members = self.fleet.members(index)
        fleet = self.fleet
        for on, off in windows:
            if on > env.now:
                yield Timeout(env, on - env.now)
            for d in members:
                fleet.off_after_ride[d] = False
                if fleet.state[d] == OFF:
                    fleet.move(d, IDLE)
                    self._idle(d)
            if off >= self.duration:
                return
            yield Timeout(env, off - env.now)
            for d in members:
                if fleet.state[d] == IDLE:
                    self.dispatch.driver_gone(d)
                    fleet.move(d, OFF)
                elif fleet.state[d] != OFF:
                    fleet.off_after_ride[d] = True

    def sampler(self, every_s: float):
        env = self.env
        start = self.scenario.start
        bar = RunProgress(self.duration, start) if self.progress else None
        while True:
            counts = self.fleet.states_at(env.now).tolist()
            stamp = (start + timedelta(seconds=env.now)).isoformat(timespec="seconds")
            self.timeseries.append(
                (round(float(env.now), 3), stamp, *counts, self.dispatch.n_waiting)
            )
            if bar is not None:
                bar.update(env.now, self.stats.completed)
                if env.now + every_s >= self.duration:  # a sample at the end may never run
                    bar.close()
            if env.now + every_s > self.duration:
                return
            yield Timeout(env, every_s)

    # --- ride callbacks (called by the channels) -----------------------------------------
    def wait(self, ride: Ride) -> None:
        """A request is not matched yet: it waits until matched or out of patience, which
        runs from the moment of the request."""
        left = ride.t_request + ride.patience - self.env.now
        if left <= 0:
            self.dispatch.abandon(ride)
            self._abandon(ride)
        elif left != float("inf"):
            self.patience.add(ride.t_request + ride.patience, ride)

    def _patience_over(self, ride: Ride) -> None:
        self.dispatch.abandon(ride)
        self._abandon(ride)

    def give_up(self, ride: Ride) -> None:
        """The channel gave up on a request (a broadcast nobody grabbed)."""
        self._abandon(ride)

    def _abandon(self, ride: Ride) -> None:
        ride.status = ABANDONED
        self.stats.abandoned += 1
        self.channel_stats(ride.channel, ride.platform).abandoned += 1
        self.log.abandoned(
            (
                ride.id,
                ride.rider,
                CHANNEL_NAMES[ride.channel],
                self._platform(ride),
                ride.t_request,
                self.env.now,
                "abandoned",
                ride.origin,
                ride.dest,
                ride.tip_fen,
            )
        )

    def measure(self, ride: Ride) -> None:
        """Fill in a ride's trip metres, seconds and fare where its request chunk had no
        matrix to gather them from."""
        if ride.fare is None:
            ride.dist_m = self.city.dist_m(ride.origin, ride.dest)
            if ride.ride_s is None:
                ride.ride_s = self.city.time_s(ride.origin, ride.dest)
            ride.fare = fare_fen(ride.dist_m, ride.ride_s, self.tariff)

    def assign(self, ride: Ride, d: int, pickup_s: float) -> None:
        """Driver ``d`` takes ``ride``: fix its timeline and schedule the moment he is free."""
        env = self.env
        now = env.now
        fleet = self.fleet
        if self.dispatch.in_index[d]:  # not when he takes a rider the moment he is free
            self.dispatch.take(d)
        if ride.fare is None:
            self.measure(ride)
        ride.status = MATCHED
        ride.driver = d
        ride.t_match = now
        ride.t_pickup = t_pickup = now + pickup_s
        ride.deadhead_m = self.city.dist_m(fleet.node[d], ride.origin)
        ride.t_dropoff = t_dropoff = t_pickup + self.boarding + ride.ride_s
        fleet.match(d, t_pickup, t_dropoff)
        pop = self.pop
        options = pop.rider_mask[ride.rider] & pop.driver_mask[d]
        if options == 1:  # cash is all they share: no choice, as in Chooser.choose
            ride.rail, ride.failed, checkout_s = CASH, False, self.chooser.checkout_s(CASH)
        else:
            offers = self.book.rider_offers(self._platform(ride), t_dropoff)
            ride.rail, checkout_s, ride.failed = self.chooser.choose(
                options, offers, pop.habit[ride.rider].tolist()
            )
        ride.stats = cs = self.channel_stats(ride.channel, ride.platform)
        cs.matched += 1
        cs.match_wait.append(now - ride.t_request)
        cs.pickup.append(pickup_s)
        cs.deadhead_m += ride.deadhead_m
        self.in_flight[ride.id] = ride
        call_in(env, t_dropoff + checkout_s - now, self._free, ride)

    def _free(self, ride: Ride) -> None:
        now = self.env.now
        d = ride.driver
        fleet = self.fleet
        fleet.node[d] = ride.dest
        del self.in_flight[ride.id]
        ride.status = COMPLETED
        st = self.stats
        st.completed += 1
        st.wait.append(ride.t_pickup - ride.t_request)
        st.match_wait.append(ride.t_match - ride.t_request)
        st.pickup.append(ride.t_pickup - ride.t_match)
        st.busy.append(now - ride.t_match)
        ride.stats.busy_s += now - ride.t_match
        platform = self.platforms[ride.platform] if ride.channel == APP else ""
        fare, tip, fee, rider_sub, driver_sub, lottery = self.cashier.pay(ride, now, platform)
        self.log.completed(
            (
                ride.id,
                ride.rider,
                d,
                CHANNEL_NAMES[ride.channel],
                platform,
                ride.t_request,
                ride.t_match,
                ride.t_pickup,
                ride.t_dropoff,
                now,
                "completed",
                ride.origin,
                ride.dest,
                ride.dist_m,
                fare,
                self.rails[ride.rail],
                int(ride.failed),
                tip,
                fee,
                rider_sub,
                driver_sub,
                ride.deadhead_m,
                0,
            ),
            lottery,
        )
        if fleet.finish(d):
            self._idle(d)

    def _idle(self, d: int) -> None:
        """A driver is free: the channels may take him; if not, a cruising driver heads for
        a demand-weighted spot (dispatchable from where he was until he gets there)."""
        self.dispatch.driver_idle(d)
        if self.cruise is not None and self.dispatch.in_index[d]:
            self.cruise_token[d] += 1  # any cruise still under way from before is void
            target = self.cruise()
            travel = self.city.time_s(self.fleet.node[d], target)
            if travel > 0:
                call_in(self.env, travel, self._cruised, (d, self.cruise_token[d], target))

    def _cruised(self, move: tuple[int, int, int]) -> None:
        d, token, target = move
        if self.cruise_token[d] != token or not self.dispatch.in_index[d]:
            return  # matched or off duty meanwhile
        self.dispatch.take(d)
        self.stats.cruise_m += self.city.dist_m(self.fleet.node[d], target)
        self.fleet.node[d] = target
        self.dispatch.driver_idle(d)

    def _platform(self, ride: Ride) -> str:
        return self.platforms[ride.platform] if ride.channel == APP else ""

    # --- the run -------------------------------------------------------------------------
    def run(self) -> None:
        env = self.env
        for i, sh in enumerate(self.fleet.shifts):
            windows = shift_windows(sh.start_hour, sh.hours, self.scenario.start, self.duration)
            env.process(self.shift(i, windows))
        env.process(self.sampler(self.scenario.outputs.timeseries_every_min * 60))
        env.process(self.days.clock())
        with _fewer_collections():
            self.stats.requests = run_until(
                self.env, self.duration, self._requests(), self.dispatch.request
            )
        self.days.close(self.duration)
        self._close_open_rides()
        self.log.close()

    def _close_open_rides(self) -> None:
        """Rides still waiting or riding at the end are written with status ``open``."""
        open_rides = sorted(
            [*self.dispatch.waiting_rides(), *self.in_flight.values()], key=lambda r: r.id
        )
        for ride in open_rides:
            matched = ride.status == MATCHED
            if not matched:  # matched rides are already counted as matched
                self.channel_stats(ride.channel, ride.platform).open += 1
            self.log.add(
                [
                    ride.id,
                    ride.rider,
                    ride.driver if matched else None,
                    CHANNEL_NAMES[ride.channel],
                    self._platform(ride),
                    ride.t_request,
                    ride.t_match if matched else None,
                    None,
                    None,
                    None,
                    None,
                    "open",
                    ride.origin,
                    ride.dest,
                    None,
                    None,
                    None,
                    None,
                    ride.tip_fen,
                    None,
                    None,
                    None,
                    ride.deadhead_m if matched else None,
                    None,
                ]
            )
        self.stats.open = len(open_rides)


@contextmanager
def _fewer_collections(gen0_threshold: int = 100_000) -> Iterator[None]:
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


@dataclass
class Outcome:
    """What ``simulate`` hands to the writers: the world after the run and its wall time."""

    world: World
    wall_s: float
    events: int


def simulate(
    scenario: Scenario, out_dir: Path | None, progress: bool = False, city: City | None = None
) -> Outcome:
    """Build and run one scenario, streaming ride rows into ``out_dir``."""
    t0 = time.perf_counter()
    world = World(scenario, out_dir, city=city, progress=progress)
    world.run()
    return Outcome(world, time.perf_counter() - t0, events_scheduled(world.env))
