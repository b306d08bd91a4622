"""The matching policies of each channel.

App platforms: ``nearest`` (assign at once), ``batch`` (a minimum-cost assignment every few
seconds) and ``broadcast`` (the 2013 grab-order apps: pushed to nearby drivers, the first
to grab wins). The street: cruising taxis find a waiting rider at a rate that grows with
the idle taxis around her. Prebooking: a rider calls her favourite driver when he is free.
Each matcher calls ``world.assign`` to match and ``world.wait`` to start a rider's patience.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from simpy.events import Timeout

from sim.clock import call_in
from sim.fleet import IDLE
from sim.rng import Pool
from sim.spatial import CellIndex, NodeIndex, nearest
from sim.state import RideStatus

STREET, APP, PREBOOK = 0, 1, 2
CHANNEL_NAMES = ("street", "app", "prebook")
WAITING = RideStatus.WAITING
NO_MATCH = 1e9
PUSH_CAP = 32  # drivers one broadcast round reaches at most (the nearest ones)


class _Queue:
    """Shared parts of a matcher: the world, a waiting index and its rides."""

    own_clock = False  # matches at its own moments (batch, broadcast), not at a driver's

    @staticmethod
    def idle_index(world) -> CellIndex:
        """The index of the platform's idle drivers this matcher searches."""
        return CellIndex(world.city)

    def __init__(self, dispatcher, index: CellIndex) -> None:
        self.dispatcher = dispatcher
        self.world = dispatcher.world
        self.city = self.world.city
        self.index = index
        self.limit = self.world.scenario.dispatch.max_pickup_s
        self.waiting = self.waiting_index()
        self.waiting_rides: dict[int, object] = {}

    def waiting_index(self) -> CellIndex | NodeIndex:
        """The index of this matcher's waiting riders."""
        return CellIndex(self.city)

    def enqueue(self, ride) -> None:
        self.waiting.add(ride.id, ride.origin)
        self.waiting_rides[ride.id] = ride

    def dequeue(self, ride) -> bool:
        if self.waiting_rides.pop(ride.id, None) is None:
            return False
        self.waiting.remove(ride.id, ride.origin)
        return True

    def abandon(self, ride) -> None:
        self.dequeue(ride)

    def take_waiting(self, d: int) -> bool:
        return False


class NearestIdle(_Queue):
    """Assign each request at once to the idle driver with the shortest pickup time.

    A request no driver can reach within ``max_pickup_s`` waits; a driver who becomes idle
    takes the waiting request he reaches soonest. Both are exact by road: equally near
    nodes go by node id, and at one node the driver or request indexed there first goes
    first (the oldest request; a driver re-indexed when apps change counts as new).
    """

    @staticmethod
    def idle_index(world) -> NodeIndex:
        """The platform's idle drivers, searched by time toward a rider."""
        spec = world.scenario.dispatch
        return NodeIndex(world.city.n, world.city.nearest_nodes(True, spec.max_pickup_s))

    def __init__(self, dispatcher, platform: int) -> None:
        super().__init__(dispatcher, dispatcher.idle_app[platform])

    def waiting_index(self) -> NodeIndex:
        """Waiting riders, searched by time from a freed driver."""
        return NodeIndex(self.city.n, self.city.nearest_nodes(False, self.limit))

    def request(self, ride) -> None:
        found = self.index.nearest(ride.origin)
        if found is not None:
            self.world.assign(ride, found[0], found[1])
            return
        self.enqueue(ride)
        self.world.wait(ride)

    def take_waiting(self, d: int) -> bool:
        if not self.waiting.count:
            return False
        found = self.waiting.nearest(self.world.fleet.node[d])
        if found is None:
            return False
        ride = self.waiting_rides[found[0]]
        self.dequeue(ride)
        self.world.assign(ride, d, found[1])
        return True


class BatchMatch(_Queue):
    """Every ``every_s`` seconds, a minimum-total-pickup assignment of waiting requests to
    idle drivers (scipy's linear_sum_assignment), each request's candidates pruned to its
    ``k`` nearest drivers within ``max_pickup_s``."""

    own_clock = True

    def __init__(self, dispatcher, platform: int) -> None:
        super().__init__(dispatcher, dispatcher.idle_app[platform])
        spec = self.world.scenario.dispatch.batch
        self.every_s, self.k = spec.every_s, spec.k
        self.world.env.process(self._loop())

    def request(self, ride) -> None:
        self.enqueue(ride)
        self.world.wait(ride)

    def _loop(self):
        while True:
            yield Timeout(self.world.env, self.every_s)
            if self.waiting_rides and self.index.count:
                self._match()

    def _match(self) -> None:
        rides = list(self.waiting_rides.values())
        columns: dict[int, int] = {}
        rows = []
        for ride in rides:
            keys, nodes = self.index.near(ride.origin, enough=self.k)
            times = self.city.times_to(ride.origin)[nodes].astype(float)
            best = np.argsort(times, kind="stable")[: self.k]
            rows.append([(columns.setdefault(keys[i], len(columns)), times[i]) for i in best
                         if times[i] <= self.limit])
        if not columns:
            return
        cost = np.full((len(rides), len(columns)), NO_MATCH)
        for r, cells in enumerate(rows):
            for c, t in cells:
                cost[r, c] = t
        drivers = list(columns)
        for r, c in zip(*linear_sum_assignment(cost), strict=True):
            if cost[r, c] < NO_MATCH:
                self.dequeue(rides[r])
                self.world.assign(rides[r], drivers[c], float(cost[r, c]))


class BroadcastRace(_Queue):
    """Grab-order dispatch: push to the platform's idle drivers within a pickup radius;
    each grabs with a probability rising with the trip's value and falling with the pickup
    time, after a response delay; the first grab wins. No grab before the timeout: widen
    the radius, add a tip, or give up (``dispatch.broadcast.on_timeout``).

    Drivers who grabbed too late, or a winner already taken by another request, fall to
    the next grabber in time, counted from the moment the first grab is settled.
    """

    own_clock = True

    def __init__(self, dispatcher, platform: int) -> None:
        super().__init__(dispatcher, dispatcher.idle_app[platform])
        w = self.world
        self.spec = w.scenario.dispatch.broadcast
        self.platform = platform
        self.name = dispatcher.platforms[platform]
        self.rails = [j for j, r in enumerate(w.scenario.payment.rails)
                      if r.platform == self.name]
        self.rng = w.streams[f"dispatch.broadcast.{self.name}"]
        self.stats = w.channel_stats(APP, platform)
        self.stats.broadcast = True  # its summary reports the grab race, pushes or none

    def request(self, ride) -> None:
        ride.radius = self.spec.radius_s
        ride.round = 0
        self.waiting_rides[ride.id] = ride
        self.world.wait(ride)
        if ride.status == WAITING:
            self._push(ride)

    def dequeue(self, ride) -> bool:
        return self.waiting_rides.pop(ride.id, None) is not None

    def _value_yuan(self, ride) -> float:
        w, t = self.world, self.world.env.now
        offer = max((w.book.offer_yuan(j, self.name, t, "driver") for j in self.rails),
                    default=0.0)
        w.measure(ride)
        return ride.fare / 100 + ride.tip_fen / 100 + offer

    def _push(self, ride) -> None:
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
                x = spec.grab_base + spec.grab_per_yuan * self._value_yuan(ride) \
                    - spec.grab_per_pickup_min * times[reach] / 60
                grab = self.rng.random(len(reach)) < 1.0 / (1.0 + np.exp(-x))
                delay = self.rng.exponential(spec.response_s, len(reach))
                ok = grab & (delay <= spec.timeout_s)
                grabbers = sorted(zip(delay[ok].tolist(), [keys[i] for i in reach[ok]],
                                      strict=True))
            self.stats.reached += len(reach)
        self.stats.pushes += 1
        self.stats.grabs += len(grabbers)
        env = self.world.env
        wait = grabbers[0][0] if grabbers else spec.timeout_s
        call_in(env, wait, self._grabbed, (ride, ride.round, grabbers))

    def _grabbed(self, round_of: tuple) -> None:
        ride, round_, grabbers = round_of
        if ride.status != WAITING or ride.round != round_:
            return
        fleet, disp = self.world.fleet, self.dispatcher
        for _, d in grabbers or ():
            if fleet.state[d] == IDLE and disp.in_index[d] and self.platform in disp.apps_of[d]:
                self.dequeue(ride)
                self.world.assign(ride, d, self.city.time_s(fleet.node[d], ride.origin))
                return
        left = self.spec.timeout_s - grabbers[0][0] if grabbers else 0.0
        if left > 0:  # every grabber was taken meanwhile: the round runs to its timeout
            call_in(self.world.env, left, self._grabbed, (ride, round_, None))
        else:
            self._escalate(ride)

    def _escalate(self, ride) -> None:
        spec = self.spec
        ride.round += 1
        if spec.on_timeout == "give_up" or ride.round >= spec.max_rounds:
            self.dequeue(ride)
            self.world.give_up(ride)
            return
        if spec.on_timeout == "widen":
            ride.radius *= spec.widen_factor
        else:
            ride.tip_fen += int(round(spec.tip_yuan * 100))
        self._push(ride)


class StreetHail(_Queue):
    """Riders at the roadside; idle cruising taxis in her zone (her cell, or the ring of
    cells around it when hers has none) find her at ``find_per_taxi_min`` per taxi per
    minute, and a taxi that becomes free near waiting riders takes the oldest.
    """

    def __init__(self, dispatcher) -> None:
        super().__init__(dispatcher, dispatcher.idle_any)
        spec = self.world.scenario.dispatch.street
        self.rate_s = spec.find_per_taxi_min / 60.0
        self.pickup_s = spec.pickup_s
        self.exponential = Pool(self.world.streams["dispatch.street"].standard_exponential)

    def request(self, ride) -> None:
        self.enqueue(ride)
        taxis = self.index.zone_count(ride.origin)
        if taxis:
            delay = 1.0 / (self.rate_s * taxis) * self.exponential()
            if delay < ride.patience:
                # Her patience timer starts only if this taxi turns out to be gone.
                ride.finding = True
                call_in(self.world.env, delay, self._found, ride)
                return
        self.world.wait(ride)

    def passing(self, d: int) -> None:
        """An idle taxi (kept for his app's next round) cruises past waiting riders: each
        of them not already being found may be found by him at the street rate."""
        if not self.waiting.count:
            return
        keys, _ = self.waiting.zone(self.world.fleet.node[d])
        for key in sorted(keys)[:4]:
            ride = self.waiting_rides[key]
            if not ride.finding:
                ride.finding = True
                call_in(self.world.env, 1.0 / self.rate_s * self.exponential(), self._found,
                        ride)

    def _found(self, ride) -> None:
        ride.finding = False
        if ride.status != WAITING:
            return
        keys, nodes = self.index.zone(ride.origin)
        if keys:
            i = nearest(self.city.times_to(ride.origin).take(nodes), np.inf) if len(keys) > 1 \
                else 0
            self.dequeue(ride)
            self.world.assign(ride, keys[i], self.pickup_s)
        else:
            self.world.wait(ride)

    def take_waiting(self, d: int) -> bool:
        if not self.waiting.count:
            return False
        node = self.world.fleet.node[d]
        keys, _ = self.waiting.zone(node)
        if not keys:
            return False
        ride = self.waiting_rides[min(keys)]  # the longest waiting
        self.dequeue(ride)
        self.world.assign(ride, d, self.city.time_s(node, ride.origin) + self.pickup_s)
        return True


class PrebookFavourite:
    """A rider books her favourite driver directly (seed: riders kept drivers as WeChat
    contacts); he takes it when free and within reach, else she uses the app or street."""

    def __init__(self, dispatcher) -> None:
        self.dispatcher = dispatcher
        self.world = dispatcher.world
        self.limit = self.world.scenario.dispatch.max_pickup_s

    def request(self, ride) -> bool:
        w = self.world
        d = w.pop.favourite[ride.rider]
        if d < 0 or w.fleet.state[d] != IDLE or not self.dispatcher.in_index[d]:
            return False
        t = w.city.time_s(w.fleet.node[d], ride.origin)
        if t > self.limit:
            return False
        ride.channel = PREBOOK
        w.assign(ride, d, t)
        return True
