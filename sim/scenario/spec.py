"""The scenario: every section, its default and its bounds, once."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from sim.registry import unknown_name
from sim.scenario.adoption import Adoption, Campaign
from sim.scenario.base import MAX_RIDERS, Frozen, LocalTime, parse_duration
from sim.scenario.city import CitySpec, GridCity
from sim.scenario.market import Demand, Dispatch, Drivers, FleetSpec, PopulationSpec, Riders
from sim.scenario.money import Payment, SubsidyPolicy, Tariff


class Outputs(Frozen):
    rides: bool = True
    timeseries_every_min: float = Field(default=15.0, ge=1, le=1440)
    ledger: Literal["daily", "full"] = "daily"
    plots: bool = True


class Scenario(Frozen):
    name: str = Field(default="scenario", pattern=r"^[A-Za-z0-9_.-]{1,80}$")
    seed: int = Field(default=0, ge=0, lt=2**63)
    start: LocalTime = datetime(2013, 12, 1)
    duration: str = "1d"
    city: CitySpec = Field(default_factory=GridCity)
    fleet: FleetSpec = FleetSpec()
    demand: Demand = Demand()
    dispatch: Dispatch = Field(default_factory=Dispatch)
    riders: Riders = Field(default_factory=Riders)
    drivers: Drivers = Field(default_factory=Drivers)
    tariff: Tariff = Tariff()
    payment: Payment = Payment()
    policies: list[SubsidyPolicy] = Field(default_factory=list)
    population: PopulationSpec = PopulationSpec()
    adoption: Adoption = Adoption()
    campaigns: list[Campaign] = Field(default_factory=list)
    outputs: Outputs = Outputs()

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> Any:
        parse_duration(v)  # also refuses what is not text, naming the accepted forms
        return v

    @field_validator("start")
    @classmethod
    def _whole_second(cls, v: datetime) -> datetime:
        if v.microsecond:
            raise ValueError("give the start to the whole second")
        return v

    @property
    def duration_s(self) -> float:
        return parse_duration(self.duration)

    @model_validator(mode="after")
    def _cross_refs(self) -> Scenario:
        """Checks across sections, all of them at once: one message line per problem."""
        problems: list[str] = []
        riders = self.demand.daily_requests / self.population.rides_per_rider_day
        if self.population.riders is None and riders > MAX_RIDERS:
            problems.append(
                f"population.rides_per_rider_day: demand.daily_requests /"
                f" population.rides_per_rider_day makes {riders:,.0f} riders, more than"
                f" {MAX_RIDERS:,}; raise rides_per_rider_day or set population.riders"
            )
        if self.start.year > 9000:
            problems.append("start: a year before 9000, please (dates must stay valid)")
        if self.campaigns and not self.adoption.enabled:
            problems.append(
                "campaigns: campaigns change adoption state; set adoption.enabled: true"
            )
        places = sorted(self.city.places)
        for i, h in enumerate(self.demand.hotspots):
            if h.place not in places:
                problems.append(
                    f"demand.hotspots.{i}.place: {unknown_name('place', h.place, places)}"
                    " (places are named in city.places)"
                )
        platforms = list(self.population.platforms)
        in_population = " (apps are named in population.platforms)"
        for i, r in enumerate(self.payment.rails):
            if r.platform is not None and r.platform not in platforms:
                problems.append(
                    f"payment.rails.{i}.platform: {unknown_name('platform', r.platform, platforms)}"
                    + in_population
                )
        for name in self.dispatch.platforms:
            if name not in platforms:
                problems.append(
                    f"dispatch.platforms.{name}: {unknown_name('platform', name, platforms)}"
                    + in_population
                )
        rails = [r.id for r in self.payment.rails]
        mobile = [r for r in rails if r != "cash"]
        for i, p in enumerate(self.policies):
            if p.rail not in rails:
                problems.append(
                    f"policies.{i}.rail: {unknown_name('rail', p.rail, rails)}"
                    " (rails are named in payment.rails)"
                )
            if p.platform is not None and p.platform not in platforms:
                problems.append(
                    f"policies.{i}.platform: {unknown_name('platform', p.platform, platforms)}"
                    + in_population
                )
        for i, c in enumerate(self.campaigns):
            if c.kind in ("bind_cards", "sign_drivers") and (
                c.rail not in rails or c.rail == "cash"
            ):
                problems.append(
                    f"campaigns.{i}.rail: {c.kind} needs a mobile rail of payment.rails;"
                    f" {unknown_name('mobile rail', str(c.rail), mobile)}"
                )
            if c.kind == "install_app" and c.platform not in platforms:
                problems.append(
                    f"campaigns.{i}.platform: install_app needs an app of population.platforms;"
                    f" {unknown_name('platform', str(c.platform), platforms)}"
                )
        ids = [p.id for p in self.policies]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            problems.append(f"policies: duplicate id {', '.join(dup)}")
        if problems:
            raise ValueError("\n".join(problems))
        return self
