"""The money of one completed ride: fare, tip, fee, subsidies and settlement, to the fen.

Every amount moves through the ledger; the cashier only decides which entries a payment
makes. Mobile money reaches the driver's pending account and settles after the rail's
delay (seed: Alipay T+0, WeChat Pay T+3); driver subsidies after the policy's delay.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.core.ride import Ride
from sim.money import ledger as L
from sim.money.ledger import Ledger
from sim.money.rails import CASH
from sim.money.subsidies import ActivePolicy, PolicyBook
from sim.scenario.money import Rail

NO_LOTTERY: tuple[ActivePolicy, ...] = ()


Receipt = tuple[int, int, int, int, int, Sequence[ActivePolicy], int]
"""What one payment booked, which the engine forwards to the ride log, the day book and the
adoption model: fare, tip, fee, rider subsidy, driver subsidy (fen), the lotteries the
ride enters (empty for none) and what a win would refund (the fare less her subsidies).
A plain tuple, unpacked at once: one per ride, as cheap as a tuple gets."""


class Cashier:
    """Posts each completed ride's money to the ledger and says what it booked."""

    def __init__(self, rails: Sequence[Rail], ledger: Ledger, book: PolicyBook) -> None:
        self.fee_rate = [r.fee_rate for r in rails]
        self.settle_days = [r.settlement_days for r in rails]
        self.ledger = led = ledger
        self.book = book
        names = [r.id for r in rails]
        self.acc_rider = [led.account(L.RIDER, r) for r in names]
        self.acc_driver = [led.account(L.DRIVER, r) for r in names]
        self.acc_pending = [led.account(L.DRIVER_PENDING, r) for r in names]
        self.acc_fee = [led.account(L.FEE, r) for r in names]
        self.acc_policy = {p.id: led.account(L.SUBSIDY, p.spec.rail, p.id) for p in book.policies}
        n = len(names)
        self.paid_by_rail = [0] * n
        self.fare_by_rail = [0] * n
        self.failed = 0

    def pay(self, ride: Ride, fare: int, now: float, day: int, platform: str) -> Receipt:
        """Book ``ride``'s payment of ``fare`` at ``now`` (on ``day``); ``platform`` is the
        app it was hailed through, or ""."""
        tip = ride.tip_fen
        rail = ride.rail
        post = self.ledger.post
        self.paid_by_rail[rail] += 1
        self.fare_by_rail[rail] += fare
        self.failed += ride.failed
        if rail == CASH:
            post(now, day, "fare", self.acc_rider[CASH], self.acc_driver[CASH], fare, ride.id)
            if tip:
                post(now, day, "tip", self.acc_rider[CASH], self.acc_driver[CASH], tip, ride.id)
            return fare, tip, 0, 0, 0, NO_LOTTERY, 0
        fee = int(fare * self.fee_rate[rail] + 0.5)
        rider_acc = self.acc_rider[rail]
        delay = self.settle_days[rail]
        self._to_driver(now, day, "fare", rider_acc, rail, fare - fee, delay, ride.id)
        if fee:
            post(now, day, "fee", rider_acc, self.acc_fee[rail], fee, ride.id)
        if tip:
            self._to_driver(now, day, "tip", rider_acc, rail, tip, delay, ride.id)
        book = self.book
        rider_sub = driver_sub = 0
        riders, drivers, lotteries = book.plan(rail, platform, now)
        for p in riders:
            fen = book.grant(p, ride.rider, now, day, fare)
            if fen:
                post(now, day, "rider_subsidy", self.acc_policy[p.id], rider_acc, fen, ride.id)
                rider_sub += fen
        for p in drivers:
            fen = book.grant(p, ride.driver, now, day, fare)
            if fen:
                self._to_driver(
                    now,
                    day,
                    "driver_subsidy",
                    self.acc_policy[p.id],
                    rail,
                    fen,
                    p.spec.payout_delay_days,
                    ride.id,
                )
                driver_sub += fen
        refund = fare - rider_sub  # a free ride waives what she paid for the fare
        entered = lotteries if refund > 0 else NO_LOTTERY
        return fare, tip, fee, rider_sub, driver_sub, entered, refund

    def _to_driver(
        self,
        now: float,
        day: int,
        kind: str,
        src: int,
        rail: int,
        fen: int,
        delay_days: int,
        ride: int,
    ) -> None:
        """Money for the driver: at once when the delay is 0 (T+0), else held as pending
        and settled at the start of day ``day + delay_days``."""
        if delay_days == 0:
            self.ledger.post(now, day, kind, src, self.acc_driver[rail], fen, ride)
        else:
            pending = self.acc_pending[rail]
            self.ledger.post(now, day, kind, src, pending, fen, ride)
            self.ledger.defer(day + delay_days, pending, self.acc_driver[rail], fen)

    def free_ride(
        self, policy: ActivePolicy, rail: int, ride_id: int, refund: int, t: float, day: int
    ) -> None:
        """Refund a lottery winner what she paid for the fare (after her subsidies on that
        ride) from the policy's budget: the ride costs her nothing, and earns her nothing."""
        self.ledger.post(
            t, day, "free_ride", self.acc_policy[policy.id], self.acc_rider[rail], refund, ride_id
        )
