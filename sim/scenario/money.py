"""Scenario models of payment rails and subsidy policies.

Rail defaults come from the seed article (late 2013, see ``docs`` of the project):
Alipay Wallet settles T+0 and its barcode works offline; WeChat Pay settles T+3 and its
first card binding often fails; a cash checkout takes about 30 s against 15 s by barcode.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.scenario.base import MAX_BUDGET_YUAN, MAX_ROAD_M, Frozen, LocalTime, NonNeg, Price


class Tariff(Frozen):
    """Beijing 2013 taxi tariff: 13 yuan covers 3 km, then 2.3 yuan/km."""

    flag_fall_yuan: Price = 13.0
    flag_fall_km: float = Field(default=3.0, ge=0, le=MAX_ROAD_M / 1000)
    per_km_yuan: Price = 2.3
    # Low-speed charge: 2 km of fare per 5 minutes spent below slow_kph (Beijing 2013).
    waiting_yuan_per_5min: Price = 4.6
    slow_kph: NonNeg = 12.0
    surcharge_yuan: Price = 0.0


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
    """Weights of the rider's multinomial logit over rails at drop-off."""

    beta_subsidy_per_yuan: float = 0.35
    beta_habit: float = 1.0
    beta_risk: float = 1.0


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
            unknown = sorted(set(getattr(self, field)) - set(ids))
            if unknown:
                raise ValueError(f"{field}: no rail {', '.join(unknown)} in payment.rails")
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


class SubsidyPolicy(Frozen):
    """A subsidy paid per ride settled on ``rail`` inside [start, end) local time."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    rail: str
    platform: str | None = None
    side: Literal["rider", "driver"]
    amount_yuan: Price | AmountRange = Field(default=0.0)
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
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.extended_to is not None and self.extended_to < self.end:
            raise ValueError("extended_to must not be before end")
        return self

    @property
    def effective_end(self) -> datetime:
        return self.extended_to or self.end
