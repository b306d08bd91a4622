"""Wires a run together: SimPy processes for shifts, sampling and the day clock, callbacks
for rides.

A ride costs few events: a patience deadline if it must wait (one heap for all riders), a
grab or street find where the channel needs one, and the moment its driver is free again.
Requests themselves are a presorted stream merged into the clock (``sim.core.clock``), not
events. Pickup, drop-off and payment times are known at match time and computed, not
waited for.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import simpy

from sim.city.travel import City, build_city
from sim.core.clock import call_in, fewer_collections, put_in, run_until
from sim.core.patience import PatienceClock
from sim.core.ride import Ride
from sim.core.rng import Streams
from sim.core.state import APP, PREBOOK, STREET, RideStatus
from sim.engine.arrivals import cruise_targets, request_stream
from sim.engine.days import DayClock
from sim.engine.processes import sampler, shift
from sim.market import riders as _built_in_riders  # noqa: F401  (they register themselves)
from sim.market.adoption import AdoptionModel
from sim.market.dispatch.dispatcher import Dispatcher
from sim.market.drivers import DriverModel
from sim.market.fleet import Fleet, shift_windows
from sim.market.hailing import Hailing
from sim.market.population import Population
from sim.money.cashier import Cashier
from sim.money.ledger import Ledger
from sim.money.rails import CASH, Chooser
from sim.money.subsidies import PolicyBook
from sim.money.tariff import fare_fen
from sim.records.daybook import DayBook
from sim.records.ridelog import ChannelStats, RideLog, Stats
from sim.records.tables import Row, abandoned_row, completed_row, open_row
from sim.registry import DRIVER_MODELS
from sim.scenario.spec import Scenario

WAITING, MATCHED, COMPLETED, ABANDONED = (
    RideStatus.WAITING,
    RideStatus.MATCHED,
    RideStatus.COMPLETED,
    RideStatus.ABANDONED,
)


class World:
    """The state of one run and the callbacks that move it.

    Its parts are built in named phases, in this order; each phase uses only what the
    ones before it made, and no part is handed the world itself:

    1. ``_build_market``: random substreams, the clock, the city, the fleet, the drivers'
       model, the riders and drivers;
    2. ``_build_money``: the rail chooser, the subsidy book, the ledger, the cashier;
    3. ``_build_riders``: what riders know (learned waits, expected subsidies) and the
       rider model that turns potential trips into requests;
    4. ``_build_records``: statistics per channel, the ride log (holding rows for the
       day's lottery when there is one), the day book;
    5. ``_build_adoption``: the daily adoption model, if the scenario has one;
    6. ``_build_dispatch``: the dispatcher and its matchers, which reach the engine only
       through ``sim.market.dispatch.base.Engine`` (this class implements it);
    7. ``_build_days``: the day clock (``sim.engine.days``), which closes each day.
    """

    def __init__(
        self,
        scenario: Scenario,
        out_dir: Path | None,
        city: City | None = None,
        progress: bool = False,
    ) -> None:
        self.scenario = scenario
        self.duration = scenario.duration_s
        self.sample = scenario.population.sample
        self.progress = progress
        self._build_market(city)
        self._build_money()
        self._build_riders()
        self._build_records(out_dir)
        self._build_adoption()
        self._build_dispatch()
        self._build_days()
        self.timeseries: list[Row] = []
        self.in_flight: dict[int, Ride] = {}
        self.patience = PatienceClock(self.env, self._patience_over)
        self.boarding = scenario.demand.boarding_s

    def _build_market(self, city: City | None) -> None:
        scn = self.scenario
        self.streams = Streams(scn.seed)
        self.env = simpy.Environment()
        self.city = city or build_city(scn.city)
        fleet_spec = scn.fleet.model_copy(
            update={"drivers": max(1, round(scn.fleet.drivers * self.sample))}
        )
        self.fleet = Fleet(fleet_spec, self.city.n, self.streams["fleet"])
        self.drivers: DriverModel = DRIVER_MODELS.get(scn.drivers.model)(
            scn.adoption.drivers, scn.dispatch.accept, scn.drivers.settings_of(scn.drivers.model)
        )
        self.pop = Population(scn, self.fleet.n, self.streams["population"])
        self.platforms = self.pop.platforms
        self.cruise = (
            cruise_targets(scn.demand, self.city, self.streams["fleet.cruise"])
            if scn.fleet.idle == "cruise"
            else None
        )
        self.cruise_token = [0] * self.fleet.n

    def _build_money(self) -> None:
        scn = self.scenario
        self.rails = [r.id for r in scn.payment.rails]
        self.tariff = scn.tariff
        self.chooser = Chooser(scn.payment, self.streams["payment"])
        self.book = PolicyBook(
            scn.policies, scn.start, self.rails, self.streams["policy"], self.sample
        )
        self.ledger = Ledger(keep_journal=scn.outputs.ledger == "full")
        self.cashier = Cashier(scn.payment.rails, self.ledger, self.book)

    def _build_riders(self) -> None:
        """What riders know and how they choose (after money: they weigh subsidies)."""
        self.hailing = Hailing(self.scenario, self.pop, self.book, self.city)
        self.waits = self.hailing.waits
        self.zone_of = self.city.node_cell.tolist()
        self.linked_rail = [*self.hailing.linked, -1]  # by platform; -1: no app

    def _build_records(self, out_dir: Path | None) -> None:
        scn = self.scenario
        self.channel_names = ["street", *(f"app:{p}" for p in self.platforms), "prebook"]
        self.channels = [ChannelStats(n, ix) for ix, n in enumerate(self.channel_names)]
        self.stats = Stats()
        self.log = RideLog(
            out_dir / "rides.csv" if out_dir and scn.outputs.rides else None,
            hold=bool(self.book.lotteries),  # rows wait for the day's lottery draw
        )
        self.days = DayBook(
            scn.start, scn.payment.rails, self.platforms, self.pop.n_riders, self.sample
        )

    def _build_days(self) -> None:
        """The day clock (after adoption and dispatch: a day ends with both)."""
        self.clock = DayClock(
            self.env,
            self.duration,
            self.days,
            self.log,
            (self.cashier, self.ledger, self.book, self.streams["lottery"]),
            self.pop,
            self.adoption,
            self.dispatch.refresh_apps,
            lambda: (*self.stats.durations(), *(d for c in self.channels for d in c.durations())),
        )

    def _build_adoption(self) -> None:
        scn = self.scenario
        self.adoption = (
            AdoptionModel(
                scn.adoption,
                scn.payment.rails,
                scn.campaigns,
                scn.start,
                self.sample,
                self.pop,
                self.book,
                self.streams["adoption"],
                int(self.streams["social"].integers(2**31)),
                self.drivers,
            )
            if scn.adoption.enabled
            else None
        )

    def _build_dispatch(self) -> None:
        scn = self.scenario
        self.dispatch = Dispatcher(self, scn.dispatch, self.pop, scn.payment.rails, self.sample)
        self.in_index = self.dispatch.in_index  # read on every match

    def _channel_ix(self, ride: Ride) -> int:
        """Index of the ride's channel in ``channels``: street, each app, prebooking."""
        if ride.channel == APP:
            return 1 + ride.platform
        return 0 if ride.channel == STREET else len(self.channels) - 1

    def channel_stats(self, channel: int, platform: int = -1) -> ChannelStats:
        if channel == APP:
            return self.channels[1 + platform]
        return self.channels[0 if channel == STREET else len(self.channels) - 1]

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
        if ride.channel != PREBOOK:  # she waited this long at least
            self.waits.observe(
                self.zone_of[ride.origin], ride.platform + 1, self.env.now - ride.t_request
            )
        self.stats.abandoned += 1
        cs = self.channels[self._channel_ix(ride)]
        cs.abandoned += 1
        self.days.abandoned[cs.ix] += 1
        self.log.abandoned(abandoned_row(ride, self.env.now, self._platform(ride)))

    def measure(self, ride: Ride) -> int:
        """Fill in a ride's trip metres, seconds and fare where its request chunk had no
        matrix to gather them from; its fare (fen)."""
        fare = ride.fare
        if fare is None:
            dist_m = ride.dist_m = self.city.dist_m(ride.origin, ride.dest)
            ride_s = ride.ride_s
            if ride_s is None:
                ride_s = ride.ride_s = self.city.time_s(ride.origin, ride.dest)
            fare = ride.fare = fare_fen(
                dist_m,
                ride_s,
                self.tariff,
                ride.t_request,
                self.scenario.start,
                ride.channel,
                ride.prebook,
            )
        return fare

    def stream(self, name: str) -> np.random.Generator:
        """The run's random substream ``name``."""
        return self.streams[name]

    def assign(self, ride: Ride, d: int, pickup_s: float) -> None:
        """Driver ``d`` takes ``ride``: fix its timeline and schedule the moment he is free."""
        env = self.env
        now = env.now
        fleet = self.fleet
        if self.in_index[d]:  # not when he takes a rider the moment he is free
            self.dispatch.take(d)
        if ride.fare is None:
            self.measure(ride)
        ride_s = ride.ride_s
        assert ride_s is not None  # measured above
        ride.status = MATCHED
        ride.driver = d
        ride.t_match = now
        ride.t_pickup = t_pickup = now + pickup_s
        ride.deadhead_m = self.city.dist_m(fleet.node[d], ride.origin)
        ride.t_dropoff = t_dropoff = t_pickup + self.boarding + ride_s
        fleet.match(d, t_pickup, t_dropoff)
        pop = self.pop
        rider = ride.rider
        options = pop.rider_mask[rider] & pop.driver_mask[d]
        if options == 1:  # cash is all they share: no choice, as in Chooser.choose
            ride.rail, ride.failed, checkout_s = CASH, False, self.chooser.checkout_s(CASH)
        else:
            offers = self.book.offers(self._platform(ride), t_dropoff)
            linked = self.linked_rail[ride.platform] if ride.channel == APP else -1
            ride.rail, checkout_s, ride.failed = self.chooser.choose(
                options, offers, pop.habit[rider].tolist(), linked, pop.last_rail[rider]
            )
        pop.last_rail[rider] = ride.rail
        if ride.channel != PREBOOK:  # what riders learn of waiting, by zone and channel
            self.waits.observe(
                self.zone_of[ride.origin], ride.platform + 1, t_pickup - ride.t_request
            )
        ride.stats = cs = self.channels[self._channel_ix(ride)]
        cs.matched += 1
        self.days.matched[cs.ix] += 1
        cs.match_wait.append(now - ride.t_request)
        cs.pickup.append(pickup_s)
        cs.deadhead_m += ride.deadhead_m
        self.in_flight[ride.id] = ride
        put_in(env, t_dropoff + checkout_s - now, ride)  # run_until hands it to _free

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
        # The cashier books the money and says what it booked; the engine tells the rest.
        fare = ride.fare
        assert fare is not None  # measured when matched
        rail = ride.rail
        if ride.channel == APP:
            app = ride.platform
            platform = self.platforms[app]
        else:
            app, platform = -1, ""
        fare, tip, fee, rider_sub, driver_sub, lotteries, refund = self.cashier.pay(
            ride, fare, now, self.days.day_of(now), platform
        )
        self.days.paid(ride.rider, rail, rider_sub, driver_sub, app, ride.stats.ix)
        if rail != CASH and self.adoption is not None:
            self.adoption.ride_paid(d, rail, fare, fee, driver_sub)
        if lotteries:
            self.days.lottery_entries(lotteries, ride.id, refund, now)
        if app >= 0 and self.adoption is not None:
            self.adoption.app_paid(d, app, (fare + tip + driver_sub) / 100.0)
        self.log.completed(
            completed_row(
                ride, now, platform, self.rails[rail], fare, tip, fee, rider_sub, driver_sub
            ),
            bool(lotteries),
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
        env, scn = self.env, self.scenario
        fleet = self.fleet
        for i, sh in enumerate(fleet.shifts):
            windows = shift_windows(sh.start_hour, sh.hours, self.scenario.start, self.duration)
            env.process(
                shift(
                    env,
                    fleet,
                    fleet.members(i),
                    windows,
                    self.duration,
                    self._idle,
                    self.dispatch.driver_gone,
                )
            )
        env.process(
            sampler(
                env,
                scn.outputs.timeseries_every_min * 60,
                self.duration,
                scn.start,
                fleet,
                self.timeseries,
                lambda: self.dispatch.n_waiting,
                lambda: self.stats.completed,
                self.progress,
            )
        )
        env.process(self.clock.process())
        with fewer_collections():
            self.stats.requests = run_until(
                self.env,
                self.duration,
                request_stream(
                    scn, self.city, self.pop, self.hailing, self.days, self.streams["demand"]
                ),
                self.dispatch.request,
                due=(Ride, self._free),
            )
        self.clock.close()
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
            self.log.add(open_row(ride, self._platform(ride), matched))
        self.stats.open = len(open_rides)
