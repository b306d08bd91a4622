"""The day clock: what happens at each local midnight of a run, in one place.

At a midnight the day's lotteries are drawn (winners refunded and their held ride rows
marked), what is due is settled, the day's rows are written, the adoption model takes its
daily step and the apps drivers run are refreshed. Kept apart from the ride callbacks of
``World`` because it touches money, records and the market in a fixed order once a day,
while those run once a ride.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable

import numpy as np
import simpy
from simpy.events import Timeout

from sim.core.samples import Durations
from sim.market.adoption import AdoptionModel
from sim.market.population import Population
from sim.money.cashier import Cashier
from sim.money.ledger import Ledger
from sim.money.subsidies import PolicyBook
from sim.records.daybook import DayBook
from sim.records.ridelog import RideLog


class DayClock:
    """Closes each day of a run (``process``) and the last one (``close``)."""

    def __init__(
        self,
        env: simpy.Environment,
        duration: float,
        days: DayBook,
        log: RideLog,
        money: tuple[Cashier, Ledger, PolicyBook, np.random.Generator],
        pop: Population,
        adoption: AdoptionModel | None,
        refresh_apps: Callable[[], None],
        durations: Callable[[], Iterable[Durations]],
    ) -> None:
        self.env, self.duration, self.days, self.log = env, duration, days, log
        self.cashier, self.ledger, self.book, self.lottery_rng = money
        self.pop, self.adoption, self.refresh_apps = pop, adoption, refresh_apps
        self.durations = durations

    def process(self) -> Generator[Timeout, object, None]:
        """At each local midnight inside the run: close the day and settle what is due."""
        env = self.env
        day = 0
        while True:
            midnight = self.days.midnight(day)
            if midnight >= self.duration:
                return
            yield Timeout(env, midnight - env.now)
            self.end_of_day(day, env.now, settle=True)
            for sample in self.durations():
                sample.compact()  # fold the day's durations (see ``sim.core.samples``)
            day += 1

    def close(self) -> None:
        """The run's last day, closed at its end and not settled."""
        last = self.days.day_of(max(self.duration - 1e-9, 0.0))
        self.end_of_day(last, self.duration, settle=False)

    def end_of_day(self, day: int, t: float, settle: bool) -> None:
        """Draw the lotteries (refund and mark their winners), write the rides held for
        them, settle what is due, write the day's rows, update adoption."""
        days, log = self.days, self.log
        for policy, ride_id, refund in days.draw_lotteries(day, self.book, self.lottery_rng):
            self.cashier.free_ride(policy, policy.rail, ride_id, refund, t, day)
            log.mark_free(ride_id)
        log.flush()
        if settle:
            self.ledger.settle(t, day + 1)
        unsettled = self.ledger.unsettled_by_account()
        pending = [unsettled.get(a, 0) for a in self.cashier.acc_pending]
        days.write_rows(day, self.cashier.paid_by_rail, self.pop, pending)
        days.write_demand_rows(day, self.pop)
        if self.adoption is not None:
            self.adoption.end_of_day(day, days.used, days.used_app)
            self.refresh_apps()
        days.reset()
