"""The day book: per-day counters of payments, subsidies and lottery entries, the day's
lottery draw and its rows of ``daily.csv``.

It is told what happened (``paid``, ``lottery_entries``) and asked for what it holds
(``draw_lotteries``, ``write_rows``); the engine's day clock decides when (see
``sim.engine.world``), so the book calls nothing back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime

import numpy as np

from sim.market.population import Population
from sim.money.subsidies import ActivePolicy, PolicyBook
from sim.records.tables import DAILY, Row, daily_row, demand_row, platform_row
from sim.scenario.money import Rail

DAILY_COLUMNS = DAILY.columns

Entry = tuple[int, int, float]  # ride id, refund (fen), time paid
Win = tuple[ActivePolicy, int, int]  # lottery, ride id, refund (fen)


class DayBook:
    """Per-day counters of a run and its ``daily.csv`` rows."""

    def __init__(
        self,
        start: datetime,
        rails: Sequence[Rail],
        platforms: Sequence[str],
        n_riders: int,
        sample: float,
    ) -> None:
        self.start = start
        self.offset = start.hour * 3600 + start.minute * 60 + start.second
        self.rails = list(rails)
        self.n_rails = n_rails = len(rails)
        self.n_platforms = len(platforms)
        self.sample = sample
        self.linked = [
            platforms.index(r.platform) if r.platform in platforms else -1 for r in rails
        ]
        self.used = np.zeros((n_riders, n_rails), dtype=bool)
        self.used_app = np.zeros((n_riders, self.n_platforms), dtype=bool)
        self.lottery: defaultdict[str, list[Entry]] = defaultdict(list)
        self.rows: list[Row] = []
        self.demand_rows: list[Row] = []
        self.platform_rows: list[Row] = []
        self.platforms = list(platforms)
        # Channels: 0 the street, 1 + k app k, then prebooking (as the engine's channels).
        self.n_channels = self.n_platforms + 2
        # Arrivals are counted by the day they happen, whenever their chunk was drawn.
        self._potential: defaultdict[int, int] = defaultdict(int)
        self._orders: defaultdict[int, np.ndarray] = defaultdict(
            lambda: np.zeros(self.n_platforms + 1, dtype=np.int64)
        )
        self._last_paid = [0] * n_rails
        self.reset()

    def reset(self) -> None:
        """Start a new day's counters."""
        r = self.n_rails
        self.app_rides = [0] * self.n_platforms  # completed via each app
        self.app_paid_linked = [0] * r  # of those, paid with the app's own rail
        self.rider_sub = [0] * r
        self.driver_sub = [0] * r
        self.free = [0] * r
        self.free_fen = [0] * r  # refunded to the day's free-ride winners
        self.used[:] = False
        self.used_app[:] = False
        c = self.n_channels
        self.matched = [0] * c
        self.completed = [0] * c
        self.abandoned = [0] * c
        self.app_rider_sub = [0] * self.n_platforms  # fen paid on rides via each app
        self.app_driver_sub = [0] * self.n_platforms

    def day_of(self, t: float) -> int:
        return int((t + self.offset) // 86400)

    def midnight(self, day: int) -> float:
        """Run seconds at the end of ``day`` (local midnight)."""
        return (day + 1) * 86400 - self.offset

    def paid(
        self, rider: int, rail: int, rider_sub: int, driver_sub: int, app: int, channel: int
    ) -> None:
        """A ride completed and paid on ``rail`` with these subsidies (fen); ``app`` is the
        platform it was hailed through (-1: none), ``channel`` the channel that matched it."""
        self.used[rider, rail] = True
        self.completed[channel] += 1
        if app >= 0:
            self.used_app[rider, app] = True
            self.app_rider_sub[app] += rider_sub
            self.app_driver_sub[app] += driver_sub
            self.app_rides[app] += 1
            if self.linked[rail] == app:
                self.app_paid_linked[rail] += 1
        self.rider_sub[rail] += rider_sub
        self.driver_sub[rail] += driver_sub

    def potential(self, t: np.ndarray) -> None:
        """Potential trips arose at times ``t`` (requests or not): count them by day."""
        days, counts = np.unique(((t + self.offset) // 86400).astype(np.int64), return_counts=True)
        for day, n in zip(days.tolist(), counts.tolist(), strict=True):
            self._potential[day] += n

    def requested(self, t: np.ndarray, platform: np.ndarray) -> None:
        """Requests at times ``t`` through ``platform`` (-1: the street), by day."""
        day = ((t + self.offset) // 86400).astype(np.int64)
        for d in np.unique(day).tolist():
            mine = platform[day == d] + 1
            self._orders[d] += np.bincount(mine, minlength=self.n_platforms + 1)

    def lottery_entries(
        self, lotteries: Iterable[ActivePolicy], ride: int, refund: int, t: float
    ) -> None:
        """A paid ride enters each of these lotteries with what a win would refund."""
        for p in lotteries:
            self.lottery[p.id].append((ride, refund, t))

    def draw_lotteries(self, day: int, book: PolicyBook, rng: np.random.Generator) -> list[Win]:
        """The day's free rides, lottery by lottery; a ride is made free once, whichever
        lottery draws it first. The caller refunds them and marks their rows."""
        won: set[int] = set()
        wins: list[Win] = []
        for p in book.lotteries:
            entries = [e for e in self.lottery.pop(p.id, []) if e[0] not in won]
            for ride, refund in book.draw_free_rides(p, day, entries, rng):
                won.add(ride)
                wins.append((p, ride, refund))
                self.free[p.rail] += 1
                self.free_fen[p.rail] += refund
        self.lottery.clear()
        return wins

    def write_rows(
        self, day: int, paid_by_rail: list[int], pop: Population, unsettled_fen: list[int]
    ) -> None:
        """The day's row per rail: ``paid_by_rail`` counts payments since the run began,
        ``unsettled_fen`` what each rail still owes drivers."""
        scale = 1.0 / self.sample
        paid = [a - b for a, b in zip(paid_by_rail, self._last_paid, strict=True)]
        self._last_paid = list(paid_by_rail)
        total = sum(paid)
        date_s = date.fromordinal(self.start.date().toordinal() + day).isoformat()
        active = self.used.sum(axis=0)
        bound = pop.bound.mean(axis=0)
        accepts = pop.accepts.mean(axis=0)
        for j, rail in enumerate(self.rails):
            if rail.platform is None:
                installed = 1.0
            else:
                installed = float(pop.rider_apps[:, pop.platforms.index(rail.platform)].mean())
            self.rows.append(
                daily_row(
                    day=day,
                    date=date_s,
                    rail=rail.id,
                    riders_installed_share=round(installed, 6),
                    riders_bound_share=round(float(bound[j]), 6),
                    riders_active_share=round(float(active[j]) / pop.n_riders, 6),
                    drivers_accepting_share=round(float(accepts[j]), 6),
                    rides_paid=int(round(paid[j] * scale)),
                    ride_share=round(paid[j] / total, 6) if total else 0.0,
                    subsidy_rider_yuan=round(self.rider_sub[j] * scale / 100, 2),
                    subsidy_driver_yuan=round(self.driver_sub[j] * scale / 100, 2),
                    free_rides=int(round(self.free[j] * scale)),
                    free_ride_yuan=round(self.free_fen[j] * scale / 100, 2),
                    unsettled_yuan=round(unsettled_fen[j] * scale / 100, 2),
                    linked_app_ride_share=_ratio(
                        self.app_paid_linked[j], self.app_rides[self.linked[j]]
                    )
                    if self.linked[j] >= 0
                    else "",
                )
            )

    def write_demand_rows(self, day: int, pop: Population) -> None:
        """The day's row of ``demand.csv`` and its rows of ``platforms.csv``."""
        scale = 1.0 / self.sample
        date_s = date.fromordinal(self.start.date().toordinal() + day).isoformat()
        orders = self._orders.pop(day, np.zeros(self.n_platforms + 1, dtype=np.int64)).tolist()
        potential = self._potential.pop(day, 0)
        requests = sum(orders)
        prebook = self.n_channels - 1

        def full(n: float) -> int:
            return int(round(n * scale))

        self.demand_rows.append(
            demand_row(
                day=day,
                date=date_s,
                potential_trips=full(potential),
                requests=full(requests),
                take_share=_ratio(requests, potential),
                street_hails=full(orders[0]),
                app_orders=full(requests - orders[0]),
                prebooked=full(self.matched[prebook]),
                completed=full(sum(self.completed)),
                abandoned=full(sum(self.abandoned)),
            )
        )
        app_orders = requests - orders[0]
        riders_used = self.used_app.sum(axis=0)
        installed = pop.rider_apps.mean(axis=0)
        running = pop.driver_apps.sum(axis=0)
        for k, name in enumerate(self.platforms):
            done = self.completed[1 + k]
            rider_fen, driver_fen = self.app_rider_sub[k], self.app_driver_sub[k]
            self.platform_rows.append(
                platform_row(
                    day=day,
                    date=date_s,
                    platform=name,
                    orders=full(orders[1 + k]),
                    order_share=_ratio(orders[1 + k], app_orders),
                    matched=full(self.matched[1 + k]),
                    completed=full(done),
                    abandoned=full(self.abandoned[1 + k]),
                    riders_installed_share=round(float(installed[k]), 6),
                    riders_used=full(int(riders_used[k])),
                    drivers_running_share=round(float(running[k]) / max(pop.n_drivers, 1), 6),
                    drivers_running=full(int(running[k])),
                    subsidy_rider_yuan=round(rider_fen * scale / 100, 2),
                    subsidy_driver_yuan=round(driver_fen * scale / 100, 2),
                    subsidy_per_completed_yuan=_ratio(rider_fen + driver_fen, done * 100),
                )
            )


def _ratio(a: int, b: int) -> float | str:
    return round(a / b, 6) if b else ""
