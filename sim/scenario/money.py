"""Scenario models of payment rails and subsidy policies.

Rail defaults come from the seed article (late 2013, see ``docs`` of the project):
Alipay Wallet settles T+0 and its barcode works offline; WeChat Pay settles T+3 and its
first card binding often fails; a cash checkout takes about 30 s against 15 s by barcode.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    Field,
    SerializeAsAny,
    field_validator,
    model_validator,
)

from sim.registry import SUBSIDY_RULES, unknown_name
from sim.scenario.base import (
    MAX_BUDGET_YUAN,
    MAX_PRICE_YUAN,
    Frozen,
    LocalTime,
    NonNeg,
    Price,
    by_kind,
)


def _whole_fen(value: float) -> float:
    """A money amount of the tariff must be a whole number of fen, so fares stay exact."""
    if abs(value * 100 - round(value * 100)) > 1e-6:
        raise ValueError("must be a whole number of fen (at most 2 decimals of a yuan)")
    return value


# Bounds far above any taxi tariff keep the fare's integer arithmetic inside int64.
Yuan = Annotated[float, Field(ge=0, le=MAX_PRICE_YUAN), AfterValidator(_whole_fen)]
Surcharge = Annotated[float, Field(ge=0, le=10)]  # a share of the per-km rate
Km = Annotated[float, Field(ge=0, le=100)]
Hour = Annotated[float, Field(ge=0, le=24)]
Window = Annotated[list[Hour], Field(min_length=2, max_length=2)]  # [from, to) hours


class Tariff(Frozen):
    """The regulated taxi fare: Beijing's tariff in force from 2013-06-10 by default.

    Source of every default: the Beijing Municipal Commission of Development and Reform's
    notice on adjusting Beijing taxi fares (published 2013-06-06, in force 2013-06-10), as
    reported by beijingimpression.cn ("Taxi Fare will be adjusted in Beijing on June 10",
    2013-06-09) and in Chinese summaries of the notice. Each component can be switched off
    (set to 0) by a scenario. Hours are local, windows [from, to) and may wrap midnight.
    The fare counts kilometres to the metre and surcharges to the basis point.
    """

    # Notice: 13 yuan covers the first 3 km (was 10), then 2.3 yuan per km (was 2.0).
    flag_fall_yuan: Yuan = 13.0
    flag_fall_km: Km = 3.0
    per_km_yuan: Yuan = 2.3
    # Night (23:00-05:00): the per-km rate rises 20% (unchanged from the 2006 tariff).
    # The notice left night rules "basically unchanged"; the 2006 tariff raised the night
    # flag fall by 1 yuan (11 against 10), and guides since 2013 quote 14 yuan at night
    # (guidewetravel.com). One Chinese summary says the night flag fall equals the day's;
    # set night_flag_fall_yuan equal to flag_fall_yuan for that reading.
    night_from_h: Hour = 23.0
    night_to_h: Hour = 5.0
    night_per_km_surcharge: Surcharge = 0.2
    night_flag_fall_yuan: Yuan = 14.0
    # Low-speed and waiting charge: time below slow_kph is charged as distance, 2 km of
    # the per-km rate per 5 minutes in the peaks 07-09 and 17-19 (new in 2013, 4.6 yuan),
    # 1 km (2.3 yuan) at other times; the empty-return surcharge does not apply to it.
    slow_kph: NonNeg = 12.0
    slow_km_per_5min: Km = 1.0
    slow_km_per_5min_peak: Km = 2.0
    peaks_h: list[Window] = Field(default_factory=lambda: [[7.0, 9.0], [17.0, 19.0]])
    # Empty-return charge: beyond 15 km of one trip the per-km rate rises 50% (unchanged).
    empty_return_km: Km = 15.0
    empty_return_surcharge: Surcharge = 0.5
    # Fuel surcharge: a flat 1 yuan per ride from 2013-06-10 (was 3 yuan above 3 km). It
    # is added to the meter's fare, not metered, so it is not rounded with it.
    fuel_surcharge_yuan: Yuan = 1.0
    # Booking fee: the notice set 5 yuan for a phoned booking less than 4 hours ahead and
    # 6 yuan for one 4 hours or more ahead. It applied to the call-centre (96106) bookings:
    # the apps of 2013-14 charged riders no booking fee, so none by default. Rides booked
    # ahead are not modelled; a scenario may charge app orders as phoned bookings (5 yuan)
    # on the channels listed. A rider who first tries her favourite driver ("prebook")
    # calls him directly, which was no call-centre booking either.
    booking_fee_yuan: Yuan = 5.0
    booking_fee_channels: list[Literal["app", "prebook"]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _windows(self) -> Tariff:
        for a, b in [(self.night_from_h, self.night_to_h), *self.peaks_h]:
            if a == b:
                raise ValueError(f"the window {a:g}-{b:g} h is empty: give from != to")
        return self


class Checkout(Frozen):
    """Time to pay at drop-off, lognormal with this mean and coefficient of variation."""

    mean_s: float = Field(default=30.0, ge=0)
    cv: float = Field(default=0.3, ge=0)


class Rail(Frozen):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    platform: str | None = None  # the hailing app whose ecosystem the rail belongs to
    fee_rate: float = Field(default=0.0, ge=0, le=0.2)
    settlement_days: int = Field(default=0, ge=0, le=60)
    checkout: Checkout = Checkout()
    offline: bool = True  # works without network (a failure then cannot happen)
    failure_rate: float = Field(default=0.0, ge=0, le=1)  # network failure -> paid in cash
    bind_success: float = Field(default=1.0, ge=0, le=1)  # first card-binding success
    convenience: float = 0.0  # utility of paying this way, before subsidy, habit and risk
    risk: float = Field(default=0.0, ge=0)  # perceived risk, weighted by choice.beta_risk


CASH = Rail(id="cash", checkout=Checkout(mean_s=30.0))  # seed: cash checkout ~30 s
ALIPAY = Rail(
    id="alipay",
    platform="kuaidi",
    fee_rate=0.0,  # seed: fee waived for now (convenience stores 0.38%)
    settlement_days=0,  # seed: T+0, real-time withdrawal
    checkout=Checkout(mean_s=15.0),  # seed: 30 s -> 15 s average with barcode
    offline=True,  # seed: barcode payment works without network
    bind_success=0.9,
    convenience=0.2,
    risk=0.5,
)
WECHAT_PAY = Rail(
    id="wechat_pay",
    platform="didi",
    fee_rate=0.006,  # seed: 0.6% in most categories
    settlement_days=3,  # seed: T+3 for merchant withdrawal
    checkout=Checkout(mean_s=15.0),
    offline=False,  # seed: offline payment is WeChat's next priority, not yet there
    failure_rate=0.03,
    bind_success=0.6,  # seed: first-time binding success rate "not high"
    convenience=0.2,
    risk=0.8,  # seed: users worry about security
)


class Choice(Frozen):
    """Weights of the rider's multinomial logit over rails at drop-off.

    Besides convenience, subsidy, habit and risk: a rider who hailed through an app and has
    a card bound on its linked rail pays in the app by default (``closed_loop``, the seed's
    "typical O2O loop"), and paying with another rail than last time costs her
    ``switching_cost`` (status-quo inertia; the seed: repeat payers' share rises after the
    second use). What remains of a rail after its subsidy stops comes from these terms and
    from habit, never from a term of the period after.
    """

    beta_subsidy_per_yuan: float = 0.35
    beta_habit: float = 1.0
    beta_risk: float = 1.0
    closed_loop: float = Field(default=1.0, ge=0, le=20)
    switching_cost: float = Field(default=0.5, ge=0, le=20)


class Payment(Frozen):
    rails: list[Rail] = Field(default_factory=lambda: [CASH, ALIPAY, WECHAT_PAY], min_length=1)
    choice: Choice = Choice()
    # Initial share of riders with a card bound / drivers accepting, per mobile rail.
    riders_bound: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict)
    drivers_accepting: dict[str, Annotated[float, Field(ge=0, le=1)]] = Field(default_factory=dict)

    @field_validator("rails")
    @classmethod
    def _cash_first(cls, rails: list[Rail]) -> list[Rail]:
        """Cash goes first, so rail index 0 is cash everywhere in the engine."""
        return sorted(rails, key=lambda r: r.id != "cash")

    @model_validator(mode="after")
    def _rails(self) -> Payment:
        ids = [r.id for r in self.rails]
        if "cash" not in ids:
            raise ValueError("rails: cash must be one of the rails (it is always possible)")
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"rails: duplicate id {', '.join(dup)}")
        cash = next(r for r in self.rails if r.id == "cash")
        if cash.fee_rate or cash.settlement_days or cash.platform:
            raise ValueError("rails: cash has no fee, settlement delay or platform")
        for field in ("riders_bound", "drivers_accepting"):
            if "cash" in getattr(self, field):
                raise ValueError(f"{field}: everyone can pay and take cash; list mobile rails")
            unknown = [r for r in getattr(self, field) if r not in ids]
            if unknown:
                raise ValueError(f"{field}: {unknown_name('rail', unknown[0], ids)}")
        return self


class AmountRange(Frozen):
    min: Price
    max: Price

    @model_validator(mode="after")
    def _order(self) -> AmountRange:
        if self.max < self.min:
            raise ValueError("max must be at least min")
        return self


class Budget(Frozen):
    total_yuan: float | None = Field(default=None, ge=0, le=MAX_BUDGET_YUAN)
    daily_yuan: float | None = Field(default=None, ge=0, le=MAX_BUDGET_YUAN)


class RuleSettings(Frozen):
    """Base of a subsidy rule's settings: ``kind`` names a rule registered in
    ``sim.registry.SUBSIDY_RULES`` (built in: ``fixed``, ``uniform``)."""

    kind: str


# A rule of any registered kind; dumped with its own kind's fields.
RuleSpec = Annotated[SerializeAsAny[RuleSettings], by_kind(SUBSIDY_RULES, RuleSettings)]


class SubsidyPolicy(Frozen):
    """A subsidy paid per ride settled on ``rail`` inside [start, end) local time."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    rail: str
    platform: str | None = None
    side: Literal["rider", "driver"]
    amount_yuan: Price | AmountRange = Field(default=0.0)
    rule: RuleSpec | None = None  # a registered rule instead of amount_yuan
    per_user_daily_cap: int | None = Field(default=None, ge=0)
    daily_free_rides: int = Field(default=0, ge=0, le=1_000_000)
    start: LocalTime
    end: LocalTime
    extended_to: LocalTime | None = None
    budget: Budget = Budget()
    payout_delay_days: int = Field(default=0, ge=0, le=60)

    @model_validator(mode="after")
    def _window(self) -> SubsidyPolicy:
        if self.rail == "cash":
            raise ValueError("rail: subsidies are paid on mobile rails, not cash")
        if self.side == "driver" and self.daily_free_rides:
            raise ValueError(
                "daily_free_rides: the free-ride lottery refunds riders;"
                " put it on a rider-side policy"
            )
        if self.side == "rider" and self.payout_delay_days:
            raise ValueError(
                "payout_delay_days: rider subsidies are discounts paid at once;"
                " the delay applies to driver-side policies"
            )
        if self.rule is not None and self.amount_yuan != 0:
            raise ValueError("give amount_yuan or a rule, not both")
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.extended_to is not None and self.extended_to < self.end:
            raise ValueError("extended_to must not be before end")
        return self

    @property
    def effective_end(self) -> datetime:
        return self.extended_to or self.end
