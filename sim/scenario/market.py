"""Scenario models of the market: the fleet, demand, dispatch and the population."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from sim.registry import DISPATCH, DRIVER_MODELS, RIDER_MODELS, Registry, unknown_name
from sim.scenario.base import (
    MAX_DAILY_REQUESTS,
    MAX_DRIVERS,
    MAX_RIDERS,
    Frozen,
    NonNeg,
    Pos,
    Sectioned,
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
    # Destinations farther away are less likely: kept with probability exp(-d / decay) (d
    # straight-line); in a large uniform city the mean trip is then about twice the decay.
    # None: destinations uniform over the city (and its hotspots).
    trip_decay_km: float | None = Field(default=None, gt=0, le=1000)
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


class Street(Frozen):
    find_per_taxi_min: Pos = 0.5  # finding rate per idle taxi in the rider's zone, per min
    pickup_s: NonNeg = 20.0  # a passing taxi stops


class Prebook(Frozen):
    riders_share: Share = 0.0  # riders who keep a favourite driver (seed: WeChat contacts)
    probability: Share = 0.5  # chance such a rider books him for a given ride


class Accept(Frozen):
    """``dispatch.accept``: a driver offered a ride by ``nearest`` or ``batch`` dispatch takes
    it with probability 1 / (1 + exp(-(base + per_yuan x (fare + tip + driver subsidy) -
    per_pickup_min x pickup minutes))); a declined offer goes to the next nearest driver,
    up to ``max_offers`` drivers, then the request waits. The defaults take about 95% of
    25-yuan rides five minutes away (drivers of 2013 picked their fares, but rarely refused
    one at hand); broadcast drivers grab by the same kind of rule (``dispatch.broadcast``)."""

    base: float = Field(default=3.0, ge=-50, le=50)
    per_yuan: float = Field(default=0.05, ge=0, le=10)
    per_pickup_min: float = Field(default=0.25, ge=0, le=10)
    max_offers: int = Field(default=5, ge=1, le=50)


class Dispatch(Sectioned):
    """Channels side by side: the app policy per platform, the street and prebooking.

    Each app policy is a name in ``sim.registry.DISPATCH``; a policy with settings reads
    them from the section of its own name (``dispatch.broadcast``, ``dispatch.batch``).
    """

    registry: ClassVar[Registry[Any]] = DISPATCH
    policy: str = "nearest"  # app dispatch, for platforms not listed in ``platforms``
    platforms: dict[str, str] = Field(default_factory=dict)  # platform -> policy
    max_pickup_s: Pos = 1800.0
    street: Street = Street()
    prebook: Prebook = Prebook()
    accept: Accept = Accept()

    @field_validator("policy")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in DISPATCH:
            raise ValueError(DISPATCH.unknown(v))
        return v

    @field_validator("platforms")
    @classmethod
    def _known_each(cls, v: dict[str, str]) -> dict[str, str]:
        for platform, policy in v.items():
            if policy not in DISPATCH:
                raise ValueError(f"{platform}: {DISPATCH.unknown(policy)}")
        return v


class ModelChoice(Sectioned):
    """A choice of decision model: ``model`` names an entry of the class's ``registry``,
    with its settings in the section of its name."""

    model: str = "logit"

    @field_validator("model")
    @classmethod
    def _known(cls, v: str) -> str:
        if v not in cls.registry:
            raise ValueError(cls.registry.unknown(v))
        return v


class Riders(ModelChoice):
    """How riders decide whether to travel and how to hail: ``model`` names an entry of
    ``sim.registry.RIDER_MODELS`` (built in: ``logit``), with its settings in the section of
    its name (``riders.logit``)."""

    registry: ClassVar[Registry[Any]] = RIDER_MODELS


class Drivers(ModelChoice):
    """How drivers take offers and choose their rails and apps: ``model`` names an entry of
    ``sim.registry.DRIVER_MODELS`` (built in: ``logit``, whose parameters are
    ``dispatch.accept`` and ``adoption.drivers``); a plug-in's own settings go in the section
    of its name (``drivers.<name>``)."""

    registry: ClassVar[Registry[Any]] = DRIVER_MODELS


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
            unknown = [p for p in getattr(self, name) if p not in self.platforms]
            if unknown:
                raise ValueError(f"{name}: {unknown_name('platform', unknown[0], self.platforms)}")
        return self
