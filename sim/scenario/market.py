"""Scenario models of the market: the fleet, demand, dispatch and the population."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from sim.scenario.base import (
    MAX_DAILY_REQUESTS,
    MAX_DRIVERS,
    MAX_RIDERS,
    Frozen,
    NonNeg,
    Pos,
    Price,
    Share,
)


class Shift(Frozen):
    start_hour: float = Field(default=0.0, ge=0, lt=24)
    hours: float = Field(default=24.0, gt=0, le=24)
    share: Share = 1.0


class FleetSpec(Frozen):
    drivers: int = Field(default=500, ge=1, le=MAX_DRIVERS)
    shifts: list[Shift] = Field(default_factory=lambda: [Shift()], min_length=1)
    idle: Literal["wait", "cruise"] = "wait"

    @model_validator(mode="after")
    def _shares(self) -> FleetSpec:
        if abs(sum(s.share for s in self.shifts) - 1.0) > 1e-6:
            raise ValueError("shifts: shares must sum to 1")
        return self


class Duration(Frozen):
    """A random duration in seconds: ``fixed`` (mean), ``exponential`` or ``lognormal``."""

    kind: Literal["fixed", "exponential", "lognormal", "never"] = "fixed"
    mean_s: NonNeg = 0.0
    cv: NonNeg = 0.5  # coefficient of variation, lognormal only


class Hotspot(Frozen):
    place: str
    origin_weight: Share = 0.0
    destination_weight: Share = 0.0


# Share of a day's taxi rides per hour: a two-peak weekday shape (rush hours, evening).
DEFAULT_PROFILE = [
    1.2,
    0.8,
    0.5,
    0.4,
    0.5,
    1.2,
    3.0,
    6.0,
    7.5,
    6.0,
    5.0,
    5.0,
    5.2,
    5.0,
    5.0,
    5.3,
    6.0,
    7.2,
    7.5,
    6.0,
    5.0,
    4.0,
    3.0,
    2.0,
]


class Demand(Frozen):
    daily_requests: Pos = 20_000.0
    hourly_profile: list[NonNeg] = Field(default_factory=lambda: list(DEFAULT_PROFILE))
    hotspots: list[Hotspot] = Field(default_factory=list)
    patience: Duration = Duration(kind="exponential", mean_s=600.0)
    min_trip_m: NonNeg = 500.0
    ride_time: Duration | None = None  # overrides road travel time (queueing checks)
    boarding_s: NonNeg = 30.0

    @field_validator("daily_requests")
    @classmethod
    def _bounded(cls, v: float) -> float:
        if v > MAX_DAILY_REQUESTS:
            raise ValueError(f"must be at most {MAX_DAILY_REQUESTS:,} a day")
        return v

    @field_validator("hourly_profile")
    @classmethod
    def _profile(cls, v: list[float]) -> list[float]:
        if len(v) != 24:
            raise ValueError(f"needs 24 hourly values (got {len(v)})")
        if sum(v) <= 0:
            raise ValueError("must not sum to zero")
        return v

    @field_validator("ride_time")
    @classmethod
    def _finite_rides(cls, v: Duration | None) -> Duration | None:
        if v is not None and v.kind == "never":
            raise ValueError("a ride must end: use fixed, exponential or lognormal")
        return v

    @model_validator(mode="after")
    def _hotspot_weights(self) -> Demand:
        for side in ("origin_weight", "destination_weight"):
            if sum(getattr(h, side) for h in self.hotspots) > 1:
                raise ValueError(f"hotspots: {side} values must sum to at most 1")
        return self


APP_POLICIES = ("nearest", "batch", "broadcast")


class Broadcast(Frozen):
    """The 2013 grab-order apps: a request is pushed to nearby drivers, first grab wins."""

    radius_s: Pos = 600.0  # pickup-time radius of the first push
    response_s: Pos = 8.0  # mean delay before a driver reacts (exponential)
    timeout_s: Pos = 60.0  # no grab by then: widen, tip or give up
    grab_base: float = -1.0  # logit of grabbing: base + per_yuan x value - per_min x pickup
    grab_per_yuan: float = Field(default=0.08, ge=0)
    grab_per_pickup_min: float = Field(default=0.25, ge=0)
    on_timeout: Literal["widen", "tip", "give_up"] = "widen"
    widen_factor: float = Field(default=2.0, ge=1)
    tip_yuan: Price = 5.0
    max_rounds: int = Field(default=3, ge=1, le=20)


class Batch(Frozen):
    every_s: Pos = 30.0  # matching interval
    k: int = Field(default=8, ge=1, le=200)  # candidate drivers per request


class Street(Frozen):
    app_riders_share: Share = 0.3  # riders with an app who hail on the street anyway
    find_per_taxi_min: Pos = 0.5  # finding rate per idle taxi in the rider's zone, per min
    pickup_s: NonNeg = 20.0  # a passing taxi stops


class Prebook(Frozen):
    riders_share: Share = 0.0  # riders who keep a favourite driver (seed: WeChat contacts)
    probability: Share = 0.5  # chance such a rider books him for a given ride


class Dispatch(Frozen):
    policy: str = "nearest"  # app dispatch, for platforms not listed in ``platforms``
    platforms: dict[str, str] = Field(default_factory=dict)  # platform -> policy
    max_pickup_s: Pos = 1800.0
    broadcast: Broadcast = Broadcast()
    batch: Batch = Batch()
    street: Street = Street()
    prebook: Prebook = Prebook()

    @field_validator("policy")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in APP_POLICIES:
            raise ValueError(f"unknown dispatch policy; known: {', '.join(APP_POLICIES)}")
        return v

    @field_validator("platforms")
    @classmethod
    def _known_each(cls, v: dict[str, str]) -> dict[str, str]:
        bad = {k: p for k, p in v.items() if p not in APP_POLICIES}
        if bad:
            raise ValueError(f"unknown dispatch policy {bad}; known: {', '.join(APP_POLICIES)}")
        return v


class PopulationSpec(Frozen):
    """The persistent riders and drivers, and the share of them the run simulates."""

    riders: int | None = Field(default=None, ge=1, le=MAX_RIDERS)  # None: from demand
    rides_per_rider_day: float = Field(default=0.5, gt=0, le=100)
    propensity_shape: Pos = 1.0  # gamma shape of riders' ride propensity (1 = exponential)
    sample: float = Field(default=1.0, gt=0, le=1)
    platforms: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]] = Field(
        default_factory=lambda: ["didi", "kuaidi"]
    )
    riders_apps: dict[str, Share] = Field(default_factory=lambda: {"didi": 0.1, "kuaidi": 0.1})
    drivers_apps: dict[str, Share] = Field(default_factory=lambda: {"didi": 0.3, "kuaidi": 0.3})

    @model_validator(mode="after")
    def _known_platforms(self) -> PopulationSpec:
        if len(set(self.platforms)) != len(self.platforms):
            raise ValueError("platforms: duplicate id")
        for name in ("riders_apps", "drivers_apps"):
            unknown = sorted(set(getattr(self, name)) - set(self.platforms))
            if unknown:
                raise ValueError(f"{name}: no platform {', '.join(unknown)} in platforms")
        return self
