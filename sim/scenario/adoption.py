"""Scenario models of day-to-day adoption: riders, drivers, contacts and campaigns.

Rates are daily probabilities or hazards. Defaults are behavioural guesses of the right
order, documented in ``docs/calibration.md`` where the 2014 scenario fits them.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from sim.scenario.base import Frozen


def _not_a_number(value: Any) -> Any:
    """A bare number would be read as seconds since 1970: never what a campaign means."""
    if isinstance(value, bool | int | float):
        raise ValueError("must be a date such as 2013-12-10")
    return value


# A YAML date or ISO text (dumps give text); lax about that, strict about numbers.
Day = Annotated[date, Field(strict=False), BeforeValidator(_not_a_number)]


class Contacts(Frozen):
    """Who a rider hears from: everyone (well-mixed) or a random / small-world graph."""

    kind: Literal["well_mixed", "random", "small_world"] = "well_mixed"
    degree: int = Field(default=10, ge=1, le=200)
    rewire: float = Field(default=0.1, ge=0, le=1)  # small-world rewiring probability


class RiderAdoption(Frozen):
    install_p: float = Field(default=0.002, ge=0, le=1)  # innovation: daily hazard
    install_q: float = Field(default=0.05, ge=0, le=5)  # imitation: x share of contacts
    install_per_yuan: float = Field(default=0.002, ge=0, le=1)  # x rider subsidy offered
    bind_attempt: float = Field(default=0.02, ge=0, le=1)  # daily, riders with the app
    bind_attempt_per_yuan: float = Field(default=0.005, ge=0, le=1)
    habit_decay: float = Field(default=0.1, ge=0, le=1)  # H <- (1 - d) H + 1[used]
    lapse_habit: float = Field(default=0.05, ge=0)  # below this habit a bound rider may lapse
    lapse_rate: float = Field(default=0.01, ge=0, le=1)  # daily probability of lapsing then
    contacts: Contacts = Contacts()


class DriverAdoption(Frozen):
    install_p: float = Field(default=0.002, ge=0, le=1)
    install_q: float = Field(default=0.1, ge=0, le=5)  # x share of the fleet group
    decision_rate: float = Field(default=0.2, ge=0, le=1)  # daily chance to revisit a rail
    learning_rate: float = Field(default=0.3, ge=0, le=1)  # weight of today's gain
    beta_gain: float = Field(default=0.1, ge=0)  # per yuan of learned daily gain
    beta_offer: float = Field(default=0.15, ge=0)  # per yuan of driver subsidy per ride
    beta_peer: float = Field(default=2.0, ge=0)  # x share of the group accepting
    switching_cost: float = Field(default=1.5, ge=0)  # inertia: adopt above +k, drop below -k
    cash_preference: float = 2.0  # mean distrust of mobile payment (seed: drivers trust cash)
    cash_preference_sd: float = Field(default=1.0, ge=0)
    settlement_cost_per_day: float = Field(default=0.002, ge=0, le=1)  # per yuan per day
    fleet_group_size: int = Field(default=30, ge=1, le=10_000)  # the seed's WeChat groups
    # Which apps a driver runs (sim.market.drivers): a logit over sets of the apps he knows.
    beta_app_income: float = Field(default=0.02, ge=0, le=10)  # per yuan a day it brings
    app_cost: float = Field(default=0.5, ge=0, le=100)  # running one app: data, attention
    multihoming_cost: float = Field(default=1.0, ge=0, le=100)  # each app beyond the first


class Adoption(Frozen):
    """Daily updates of the population's state; off = shares stay as initialised."""

    enabled: bool = False
    substeps: int = Field(default=1, ge=1, le=96)  # install hazard steps per day
    riders: RiderAdoption = RiderAdoption()
    drivers: DriverAdoption = DriverAdoption()


class Campaign(Frozen):
    """A push on a date, e.g. a promotion binding 3 million cards (seed), or with ``until``
    one repeated every day from ``date`` to ``until`` (both included), e.g. a sales team
    signing up taxis for a rail (``sign_drivers``: the seed's Alipay reached 20,000 Beijing
    taxis "through its cooperation with Kuaidi and its own expansion"). Each day's push
    reaches ``count`` riders or drivers of the full city who are not yet reached; a signed
    driver accepts the rail from then on until his own daily decision drops it."""

    date: Day
    until: Day | None = None  # repeat daily through this day
    rail: str | None = None  # for bind_cards and sign_drivers
    platform: str | None = None  # for install_app
    kind: Literal["bind_cards", "install_app", "sign_drivers"]
    count: int = Field(ge=0, le=100_000_000)  # in the full city (a day); scaled by the sample

    @model_validator(mode="after")
    def _until_after_date(self) -> Campaign:
        if self.until is not None and self.until < self.date:
            raise ValueError(f"until ({self.until}) is before date ({self.date})")
        return self
