"""Wires a run together: SimPy processes for demand, shifts and the day clock, callbacks
for rides.

A ride costs at most three events: its arrival, a patience timer if it must wait, and the
moment its driver is free again. Pickup, drop-off and payment times are known at match
time and computed, not waited for.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import simpy
from simpy.events import Timeout

from sim import ledger as L
from sim.adoption import AdoptionModel
from sim.city import City, build_city
from sim.daybook import DayBook
from sim.demand import OriginDestination, requests
from sim.dispatch import POLICIES
from sim.fleet import EN_ROUTE, IDLE, OFF, ON_TRIP, PAYING, Fleet, shift_windows
from sim.metrics import RideLog, Stats
from sim.payment import CASH, Chooser, fare_fen
from sim.policy import PolicyBook
from sim.population import Population
from sim.rng import Streams
from sim.schema import Scenario
from sim.state import RideStatus

WAITING, MATCHED, COMPLETED, ABANDONED = (
    RideStatus.WAITING, RideStatus.MATCHED, RideStatus.COMPLETED, RideStatus.ABANDONED
)
STATUS_NAMES = {s: s.name.lower() for s in RideStatus}


class Ride:
    """A request in flight; dropped as soon as its row is written."""

    __slots__ = ("checkout", "dest", "dist_m", "driver", "failed", "id", "origin", "patience",
                 "platform", "rail", "ride_s", "rider", "status", "t_dropoff", "t_match",
                 "t_pickup", "t_request")

    def __init__(self, rid: int, rider: int, platform: int, origin: int, dest: int,
                 t: float, patience: float, ride_s: float | None) -> None:
        self.id = rid
        self.rider = rider
        self.platform = platform
        self.origin = origin
        self.dest = dest
        self.t_request = t
        self.patience = patience
        self.ride_s = ride_s
        self.status = WAITING
        self.driver = -1


class World:
    """The state of one run and the callbacks that move it."""

    def __init__(self, scenario: Scenario, out_dir: Path | None, city: City | None = None,
                 progress: bool = False) -> None:
        self.scenario = scenario
        self.streams = Streams(scenario.seed)
        self.env = simpy.Environment()
        self.city = city or build_city(scenario.city)
        self.duration = scenario.duration_s
        self.sample = scenario.population.sample
        fleet_spec = scenario.fleet.model_copy(
            update={"drivers": max(1, round(scenario.fleet.drivers * self.sample))})
        self.fleet = Fleet(fleet_spec, self.city.n, self.streams["fleet"])
        self.pop = Population(scenario, self.fleet.n, self.streams["population"])
        self.platforms = self.pop.platforms
        self.rails = [r.id for r in scenario.payment.rails]
        self.matcher = POLICIES[scenario.dispatch.policy](self)
        self.chooser = Chooser(scenario.payment, self.streams["payment"])
        self.book = PolicyBook(scenario.policies, scenario.start, self.rails,
                               self.streams["policy"], self.sample)
        self.ledger = L.Ledger(keep_journal=scenario.outputs.ledger == "full")
        self.stats = Stats()
        self.stats.paid_by_rail = [0] * len(self.rails)
        self.stats.fare_by_rail = [0] * len(self.rails)
        self.log = RideLog(out_dir / "rides.csv" if out_dir and scenario.outputs.rides else None)
        self.days = DayBook(self)
        self.adoption = AdoptionModel(self) if scenario.adoption.enabled else None
        self.days.adoption = self.adoption
        self.timeseries: list[tuple] = []
        self.in_flight: dict[int, Ride] = {}
        self.boarding = scenario.demand.boarding_s
        self.tariff = scenario.tariff
        self.fee_rate = [r.fee_rate for r in scenario.payment.rails]
        self.settle_days = [r.settlement_days for r in scenario.payment.rails]
        led = self.ledger
        self.acc_rider = [led.account(L.RIDER, r) for r in self.rails]
        self.acc_driver = [led.account(L.DRIVER, r) for r in self.rails]
        self.acc_pending = [led.account(L.DRIVER_PENDING, r) for r in self.rails]
        self.acc_fee = [led.account(L.FEE, r) for r in self.rails]
        self.acc_policy = {p.id: led.account(L.SUBSIDY, p.spec.rail, p.id)
                           for p in self.book.policies}
        self.progress = progress

    # --- processes -----------------------------------------------------------------
    def demand(self):
        scn = self.scenario
        env = self.env
        rng = self.streams["demand"]
        od = OriginDestination(scn.demand, self.city.xy, self.city.places)
        apps = self.pop.rider_apps
        rid = 0
        for chunk in requests(scn.demand, od, scn.start, self.duration, rng, self.sample):
            n = len(chunk.t)
            riders = self.pop.draw_riders(rng, n)
            # The app a rider hails with: one of hers at random, or the street (-1).
            score = rng.random((n, apps.shape[1])) * apps[riders]
            platform = np.where(score.max(axis=1) > 0, score.argmax(axis=1), -1)
            ride_s = chunk.ride_time.tolist() if chunk.ride_time is not None else [None] * n
            for t, rider, plat, o, dst, pat, rs in zip(
                chunk.t.tolist(), riders.tolist(), platform.tolist(), chunk.origin.tolist(),
                chunk.destination.tolist(), chunk.patience.tolist(), ride_s, strict=True,
            ):
                if t > env.now:
                    yield Timeout(env, t - env.now)
                ride = Ride(rid, rider, plat, o, dst, env.now, pat, rs)
                rid += 1
                self.stats.requests += 1
                self.matcher.request(ride)

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
                    self.matcher.driver_idle(d)
            if off >= self.duration:
                return
            yield Timeout(env, off - env.now)
            for d in members:
                if fleet.state[d] == IDLE:
                    self.matcher.driver_gone(d)
                    fleet.move(d, OFF)
                elif fleet.state[d] != OFF:
                    fleet.off_after_ride[d] = True

    def sampler(self, every_s: float):
        env = self.env
        start = self.scenario.start
        bar = _progress_bar(self.duration) if self.progress else None
        while True:
            counts = self.fleet.states_at(env.now).tolist()
            stamp = (start + timedelta(seconds=env.now)).isoformat(timespec="seconds")
            self.timeseries.append((round(env.now, 3), stamp, *counts, self.matcher.n_waiting))
            if bar is not None:
                bar.update(min(env.now, self.duration) - bar.n)
            if env.now + every_s > self.duration:
                if bar is not None:
                    bar.update(self.duration - bar.n)
                    bar.close()
                return
            yield Timeout(env, every_s)

    # --- ride callbacks (called by the matcher) ----------------------------------------
    def wait(self, ride: Ride) -> None:
        """A request found no driver: it waits until matched or out of patience."""
        if ride.patience <= 0:
            self.matcher.abandon(ride)
            self._abandon(ride)
        elif ride.patience != float("inf"):
            Timeout(self.env, ride.patience, ride).callbacks.append(self._patience_over)

    def _patience_over(self, event) -> None:
        ride = event._value
        if ride.status == WAITING:
            self.matcher.abandon(ride)
            self._abandon(ride)

    def _abandon(self, ride: Ride) -> None:
        ride.status = ABANDONED
        self.stats.abandoned += 1
        self.log.add([ride.id, ride.rider, None, self._platform(ride), ride.t_request, None,
                      None, None, None, self.env.now, "abandoned", ride.origin, ride.dest, None,
                      None, None, None, None, None, None, None])

    def assign(self, ride: Ride, d: int, pickup_s: float) -> None:
        """Driver ``d`` takes ``ride``: fix its timeline and schedule the moment he is free."""
        env = self.env
        now = env.now
        fleet = self.fleet
        fleet.move(d, EN_ROUTE)
        city = self.city
        ride.status = MATCHED
        ride.driver = d
        ride.t_match = now
        ride.t_pickup = t_pickup = now + pickup_s
        ride.dist_m = city.dist_m(ride.origin, ride.dest)
        if ride.ride_s is None:
            ride.ride_s = city.time_s(ride.origin, ride.dest)
        ride.t_dropoff = t_dropoff = t_pickup + self.boarding + ride.ride_s
        pop = self.pop
        options = pop.rider_mask[ride.rider] & pop.driver_mask[d]
        if options == 1:
            co = self.chooser.choose(1, [], [])
        else:
            offers = self.book.rider_offers(self._platform(ride), t_dropoff)
            co = self.chooser.choose(options, offers, pop.habit[ride.rider].tolist())
        ride.rail = co.rail
        ride.failed = co.failed
        t_free = t_dropoff + co.seconds
        fleet.match_at[d] = now
        fleet.pickup_at[d] = t_pickup
        fleet.dropoff_at[d] = t_dropoff
        fleet.free_at[d] = t_free
        self.in_flight[ride.id] = ride
        Timeout(env, t_free - now, ride).callbacks.append(self._free)

    def _free(self, event) -> None:
        ride: Ride = event._value
        now = self.env.now
        d = ride.driver
        fleet = self.fleet
        fleet.move(d, ON_TRIP)
        fleet.move(d, PAYING)
        fleet.node[d] = ride.dest
        del self.in_flight[ride.id]
        ride.status = COMPLETED
        st = self.stats
        st.completed += 1
        st.wait.append(ride.t_pickup - ride.t_request)
        st.match_wait.append(ride.t_match - ride.t_request)
        st.pickup.append(ride.t_pickup - ride.t_match)
        st.busy.append(now - ride.t_match)
        self._pay(ride, now)
        if fleet.off_after_ride[d]:
            fleet.move(d, OFF)
        else:
            fleet.move(d, IDLE)
            self.matcher.driver_idle(d)

    def _pay(self, ride: Ride, now: float) -> None:
        """Post the fare, fee and subsidies of a completed ride and write its row."""
        fare = fare_fen(ride.dist_m, ride.ride_s, self.tariff)
        rail = ride.rail
        day = self.days.day_of(now)
        led = self.ledger
        fee = rider_sub = driver_sub = 0
        lottery = False
        st = self.stats
        st.paid_by_rail[rail] += 1
        st.fare_by_rail[rail] += fare
        st.failed_payments += ride.failed
        if rail == CASH:
            led.post(now, day, "fare", self.acc_rider[CASH], self.acc_driver[CASH], fare, ride.id)
            self.days.paid(ride.rider, CASH, 0, 0)
        else:
            plat = self._platform(ride)
            fee = int(fare * self.fee_rate[rail] + 0.5)
            pending = self.acc_pending[rail]
            led.post(now, day, "fare", self.acc_rider[rail], pending, fare - fee, ride.id)
            led.post(now, day, "fee", self.acc_rider[rail], self.acc_fee[rail], fee, ride.id)
            led.defer(day + self.settle_days[rail], pending, self.acc_driver[rail], fare - fee)
            for p, fen in self.book.pay(rail, "rider", plat, ride.rider, now, day):
                led.post(now, day, "rider_subsidy", self.acc_policy[p.id], self.acc_rider[rail],
                         fen, ride.id)
                rider_sub += fen
            for p, fen in self.book.pay(rail, "driver", plat, ride.driver, now, day):
                led.post(now, day, "driver_subsidy", self.acc_policy[p.id], pending, fen, ride.id)
                led.defer(day + p.spec.payout_delay_days, pending, self.acc_driver[rail], fen)
                driver_sub += fen
            if self.adoption is not None:
                self.adoption.ride_paid(ride.driver, rail, fare, fee, driver_sub)
            for p in self.book.lottery_eligible(rail, plat, now):
                self.days.lottery_entry(p, ride.id, fare, now)
                lottery = True
            self.days.paid(ride.rider, rail, rider_sub, driver_sub)
        self.log.add([ride.id, ride.rider, ride.driver, self._platform(ride), ride.t_request,
                      ride.t_match, ride.t_pickup, ride.t_dropoff, now, None, "completed",
                      ride.origin,
                      ride.dest, ride.dist_m, fare, self.rails[rail], int(ride.failed), fee,
                      rider_sub, driver_sub, 0], lottery)

    def _platform(self, ride: Ride) -> str:
        return self.platforms[ride.platform] if ride.platform >= 0 else "street"

    # --- the run -------------------------------------------------------------------------
    def run(self) -> None:
        env = self.env
        env.process(self.demand())
        for i, sh in enumerate(self.fleet.shifts):
            windows = shift_windows(sh.start_hour, sh.hours, self.scenario.start, self.duration)
            env.process(self.shift(i, windows))
        env.process(self.sampler(self.scenario.outputs.timeseries_every_min * 60))
        env.process(self.days.clock())
        env.run(until=self.duration)
        self.days.close(self.duration)
        self._close_open_rides()
        self.log.close()

    def _close_open_rides(self) -> None:
        """Rides still waiting or riding at the end are written with status ``open``."""
        waiting = getattr(self.matcher, "waiting_rides", {})
        open_rides = sorted([*waiting.values(), *self.in_flight.values()], key=lambda r: r.id)
        for ride in open_rides:
            matched = ride.status == MATCHED
            self.log.add([ride.id, ride.rider, ride.driver if matched else None,
                          self._platform(ride), ride.t_request,
                          ride.t_match if matched else None, None, None, None, None, "open",
                          ride.origin, ride.dest, None, None, None, None, None, None, None,
                          None])
        self.stats.open = len(open_rides)


def _progress_bar(total: float):
    from tqdm import tqdm

    return tqdm(total=total, unit="sim-s", unit_scale=True, leave=False, mininterval=0.5)


@dataclass
class Outcome:
    """What ``simulate`` hands to the writers: the world after the run and its wall time."""

    world: World
    wall_s: float
    events: int


def simulate(scenario: Scenario, out_dir: Path | None, progress: bool = False,
             city: City | None = None) -> Outcome:
    """Build and run one scenario, streaming ride rows into ``out_dir``."""
    t0 = time.perf_counter()
    world = World(scenario, out_dir, city=city, progress=progress)
    world.run()
    return Outcome(world, time.perf_counter() - t0, _events_scheduled(world.env))


def _events_scheduled(env: simpy.Environment) -> int:
    """Events the run scheduled: SimPy numbers each one from its ``_eid`` counter."""
    return next(env._eid)
