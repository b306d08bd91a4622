"""The day clock: at each local midnight draw the lotteries, settle what is due, write the
day's row per rail and let the population update its adoption state.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from simpy.events import Timeout

DAILY_COLUMNS = (
    "day",
    "date",
    "rail",
    "riders_installed_share",
    "riders_bound_share",
    "riders_active_share",
    "drivers_accepting_share",
    "rides_paid",
    "ride_share",
    "subsidy_rider_yuan",
    "subsidy_driver_yuan",
    "free_rides",
    "free_ride_yuan",
    "unsettled_yuan",
    "linked_app_ride_share",
)


class DayBook:
    """Per-day counters and the end-of-day routine of a run."""

    def __init__(self, world) -> None:
        self.world = world
        start = world.scenario.start
        self.start = start
        self.offset = start.hour * 3600 + start.minute * 60 + start.second
        n_rails = len(world.rails)
        self.n_rails = n_rails
        platforms = world.pop.platforms
        self.linked = [
            platforms.index(r.platform) if r.platform in platforms else -1
            for r in world.scenario.payment.rails
        ]
        self.used = np.zeros((world.pop.n_riders, n_rails), dtype=bool)
        self.used_app = np.zeros((world.pop.n_riders, len(platforms)), dtype=bool)
        self.lottery: defaultdict[str, list[tuple[int, int, float]]] = defaultdict(list)
        self.rows: list[tuple] = []
        self.adoption = None  # set by the adoption model when the scenario has one
        self._reset()
        world.log.hold = bool(world.book.lotteries)

    def _reset(self) -> None:
        r = self.n_rails
        self.rides = [0] * r
        self.app_rides = [0] * len(self.world.platforms)  # completed via each app
        self.app_paid_linked = [0] * r  # of those, paid with the app's own rail
        self.rider_sub = [0] * r
        self.driver_sub = [0] * r
        self.free = [0] * r
        self.free_fen = [0] * r  # refunded to the day's free-ride winners
        self.used[:] = False
        self.potential_trips = 0
        self.used_app[:] = False

    def day_of(self, t: float) -> int:
        return int((t + self.offset) // 86400)

    def paid(self, rider: int, rail: int, rider_sub: int, driver_sub: int, app: int = -1) -> None:
        """A payment completed on ``rail`` with these subsidies (fen); ``app`` is the
        platform the ride was hailed through, or -1."""
        self.used[rider, rail] = True
        if app >= 0:
            self.used_app[rider, app] = True
            self.app_rides[app] += 1
            if self.linked[rail] == app:
                self.app_paid_linked[rail] += 1
        self.rider_sub[rail] += rider_sub
        self.driver_sub[rail] += driver_sub

    def potential(self, n: int) -> None:
        """``n`` potential trips were weighed by riders (requests or not)."""
        self.potential_trips += n

    def lottery_entry(self, policy, ride: int, refund: int, t: float) -> None:
        self.lottery[policy.id].append((ride, refund, t))

    def clock(self):
        env = self.world.env
        day = 0
        while True:
            midnight = (day + 1) * 86400 - self.offset
            if midnight >= self.world.duration:
                return
            yield Timeout(env, midnight - env.now)
            self.end_of_day(day, env.now, settle=True)
            self._compact_samples()
            day += 1

    def _compact_samples(self) -> None:
        """Fold the day's durations into their histograms once they are many (see
        ``sim.core.samples``); the last day's stay exact, as folding them would save nothing."""
        w = self.world
        for sample in (*w.stats.durations(), *(d for c in w.channels for d in c.durations())):
            sample.compact()

    def close(self, t_end: float) -> None:
        """The run ended mid-day (or at midnight): close that last day without settling."""
        last = self.day_of(max(t_end - 1e-9, 0.0))
        self.end_of_day(last, t_end, settle=False)

    def end_of_day(self, day: int, t: float, settle: bool) -> None:
        w = self.world
        self._draw_lotteries(day, t)
        w.log.flush()
        if settle:
            w.ledger.settle(t, day + 1)
        self._write_rows(day)
        if self.adoption is not None:
            self.adoption.end_of_day(day)
            w.dispatch.refresh_apps()
        self._reset()
        self._last_paid = list(w.cashier.paid_by_rail)

    def _draw_lotteries(self, day: int, t: float) -> None:
        w = self.world
        rng = w.streams["lottery"]
        won: set[int] = set()  # a ride is made free once, whichever lottery draws it first
        for p in w.book.lotteries:
            entries = [e for e in self.lottery.pop(p.id, []) if e[0] not in won]
            for ride, refund in w.book.draw_free_rides(p, day, entries, rng):
                won.add(ride)
                w.cashier.free_ride(p, p.rail, ride, refund, t, day)
                w.log.mark_free(ride)
                self.free[p.rail] += 1
                self.free_fen[p.rail] += refund
        self.lottery.clear()

    def _write_rows(self, day: int) -> None:
        w = self.world
        pop = w.pop
        scale = 1.0 / w.sample
        prev = getattr(self, "_last_paid", [0] * self.n_rails)
        paid = [a - b for a, b in zip(w.cashier.paid_by_rail, prev, strict=True)]
        total = sum(paid)
        date = self.start.date().toordinal() + day
        date_s = type(self.start.date()).fromordinal(date).isoformat()
        active = self.used.sum(axis=0)
        bound = pop.bound.mean(axis=0)
        accepts = pop.accepts.mean(axis=0)
        unsettled = w.ledger.unsettled_by_account()
        for j, rail in enumerate(w.rails):
            platform = w.scenario.payment.rails[j].platform
            if platform is None:
                installed = 1.0
            else:
                installed = float(pop.rider_apps[:, pop.platforms.index(platform)].mean())
            self.rows.append(
                (
                    day,
                    date_s,
                    rail,
                    round(installed, 6),
                    round(float(bound[j]), 6),
                    round(float(active[j]) / pop.n_riders, 6),
                    round(float(accepts[j]), 6),
                    int(round(paid[j] * scale)),
                    round(paid[j] / total, 6) if total else 0.0,
                    round(self.rider_sub[j] * scale / 100, 2),
                    round(self.driver_sub[j] * scale / 100, 2),
                    int(round(self.free[j] * scale)),
                    round(self.free_fen[j] * scale / 100, 2),
                    round(unsettled.get(w.cashier.acc_pending[j], 0) * scale / 100, 2),
                    _ratio(self.app_paid_linked[j], self.app_rides[self.linked[j]])
                    if self.linked[j] >= 0
                    else "",
                )
            )


def _ratio(a: int, b: int) -> float | str:
    return round(a / b, 6) if b else ""
