"""Pydantic models of a scenario: every field, its default and its bounds, once.

Models are frozen and forbid unknown keys, so a typo is an error naming the field and a
comment in a YAML file never has to restate a default.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from sim.adoption_schema import Adoption, Campaign
from sim.money_schema import STRICT, LocalTime, Payment, SubsidyPolicy

_NUM = r"(\d+(?:\.\d+)?)"
DURATION_RE = re.compile(rf"^\s*(?:{_NUM}d)?\s*(?:{_NUM}h)?\s*(?:{_NUM}m(?:in)?)?\s*$")
DURATION_FORMS = "'3d', '6h', '1d12h' or '90m'"
MAX_DRIVERS = 500_000
MAX_DAILY_REQUESTS = 20_000_000
MAX_DURATION_S = 400 * 86400

Pos = Annotated[float, Field(gt=0)]
NonNeg = Annotated[float, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]


class Frozen(BaseModel):
    """Base of every scenario model: frozen, strict about keys and types, finite numbers."""

    model_config = STRICT


def parse_duration(text: str) -> float:
    """Seconds in "6h", "3d", "1d12h", "90m" ("90min"). A bare number has no unit: nobody
    means 3 seconds by ``duration: 3``, so it is refused rather than guessed."""
    if not isinstance(text, str):
        if isinstance(text, int | float) and not isinstance(text, bool):
            raise ValueError(f"needs a unit, such as {DURATION_FORMS}")
        raise ValueError(f"must be a duration such as {DURATION_FORMS}")
    m = DURATION_RE.match(text)
    if not m or not any(m.groups()):
        raise ValueError(f"must be a duration such as {DURATION_FORMS}")
    d, h, mi = (float(g) if g else 0.0 for g in m.groups())
    seconds = d * 86400 + h * 3600 + mi * 60
    if not 0 < seconds <= MAX_DURATION_S:
        raise ValueError(f"must be more than 0 and at most {MAX_DURATION_S // 86400} days")
    return seconds


class Place(Frozen):
    """A named place: an existing node (``node``) or a new node on a spur road."""

    node: int | str | None = None
    spur_km: Pos | None = None
    spur_speed_kph: Pos = 60.0
    bearing_deg: float = Field(default=45.0, ge=0, lt=360)

    @model_validator(mode="after")
    def _one_way(self) -> Place:
        if (self.node is None) == (self.spur_km is None):
            raise ValueError("give exactly one of node or spur_km")
        return self


class CityBase(Frozen):
    places: dict[str, Place] = Field(default_factory=dict)
    max_matrix_nodes: int = Field(default=12_000, ge=1, le=40_000)
    cell_m: Pos = 1000.0  # side of the spatial index's cells


class GridCity(CityBase):
    kind: Literal["grid"] = "grid"
    rows: int = Field(default=20, ge=1, le=400)
    cols: int = Field(default=20, ge=1, le=400)
    block_m: Pos = 400.0
    speed_kph: Pos = 25.0


class RingRadialCity(CityBase):
    """Rings and spokes around a centre, ring roads faster: a Beijing-like city."""

    kind: Literal["ring_radial"] = "ring_radial"
    rings: int = Field(default=6, ge=1, le=200)
    spokes: int = Field(default=16, ge=3, le=720)
    ring_spacing_m: Pos = 2000.0
    ring_speed_kph: Pos = 45.0
    spoke_speed_kph: Pos = 25.0


class GraphmlCity(CityBase):
    """A road network saved by osmnx (directed, edge ``length`` in metres)."""

    kind: Literal["graphml"] = "graphml"
    path: str
    default_speed_kph: Pos = 30.0
    largest_component: bool = False


City = Annotated[GridCity | RingRadialCity | GraphmlCity, Field(discriminator="kind")]


class Shift(Frozen):
    start_hour: float = Field(default=0.0, ge=0, lt=24)
    hours: float = Field(default=24.0, gt=0, le=24)
    share: Share = 1.0


class Fleet(Frozen):
    drivers: int = Field(default=500, ge=1, le=MAX_DRIVERS)
    shifts: list[Shift] = Field(default_factory=lambda: [Shift()], min_length=1)
    idle: Literal["wait", "cruise"] = "wait"

    @model_validator(mode="after")
    def _shares(self) -> Fleet:
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
    1.2, 0.8, 0.5, 0.4, 0.5, 1.2, 3.0, 6.0, 7.5, 6.0, 5.0, 5.0,
    5.2, 5.0, 5.0, 5.3, 6.0, 7.2, 7.5, 6.0, 5.0, 4.0, 3.0, 2.0,
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
    tip_yuan: NonNeg = 5.0
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


class Tariff(Frozen):
    """Beijing 2013 taxi tariff: 13 yuan covers 3 km, then 2.3 yuan/km."""

    flag_fall_yuan: NonNeg = 13.0
    flag_fall_km: NonNeg = 3.0
    per_km_yuan: NonNeg = 2.3
    # Low-speed charge: 2 km of fare per 5 minutes spent below slow_kph (Beijing 2013).
    waiting_yuan_per_5min: NonNeg = 4.6
    slow_kph: NonNeg = 12.0
    surcharge_yuan: NonNeg = 0.0


class Population(Frozen):
    """The persistent riders and drivers, and the share of them the run simulates."""

    riders: int | None = Field(default=None, ge=1, le=50_000_000)  # None: from demand
    rides_per_rider_day: Pos = 0.5
    propensity_shape: Pos = 1.0  # gamma shape of riders' ride propensity (1 = exponential)
    sample: float = Field(default=1.0, gt=0, le=1)
    platforms: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")]] = Field(
        default_factory=lambda: ["didi", "kuaidi"]
    )
    riders_apps: dict[str, Share] = Field(default_factory=lambda: {"didi": 0.1, "kuaidi": 0.1})
    drivers_apps: dict[str, Share] = Field(default_factory=lambda: {"didi": 0.3, "kuaidi": 0.3})

    @model_validator(mode="after")
    def _known_platforms(self) -> Population:
        if len(set(self.platforms)) != len(self.platforms):
            raise ValueError("platforms: duplicate id")
        for name in ("riders_apps", "drivers_apps"):
            unknown = sorted(set(getattr(self, name)) - set(self.platforms))
            if unknown:
                raise ValueError(f"{name}: no platform {', '.join(unknown)} in platforms")
        return self


class Outputs(Frozen):
    rides: bool = True
    timeseries_every_min: float = Field(default=15.0, gt=0, le=1440)
    ledger: Literal["daily", "full"] = "daily"
    plots: bool = True


class Scenario(Frozen):
    name: str = Field(default="scenario", pattern=r"^[A-Za-z0-9_.-]{1,80}$")
    seed: int = Field(default=0, ge=0, lt=2**63)
    start: LocalTime = datetime(2013, 12, 1)
    duration: str = "1d"
    city: City = GridCity()
    fleet: Fleet = Fleet()
    demand: Demand = Demand()
    dispatch: Dispatch = Dispatch()
    tariff: Tariff = Tariff()
    payment: Payment = Payment()
    policies: list[SubsidyPolicy] = Field(default_factory=list)
    population: Population = Population()
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
        if self.start.year > 9000:
            problems.append("start: a year before 9000, please (dates must stay valid)")
        if self.campaigns and not self.adoption.enabled:
            problems.append("campaigns: campaigns change adoption state; set"
                             " adoption.enabled: true")
        places = set(self.city.places)
        for i, h in enumerate(self.demand.hotspots):
            if h.place not in places:
                problems.append(
                    f"demand.hotspots.{i}.place: no place {h.place!r} in city.places"
                    f" (known: {', '.join(sorted(places)) or 'none'})"
                )
        platforms = set(self.population.platforms)
        for i, r in enumerate(self.payment.rails):
            if r.platform is not None and r.platform not in platforms:
                problems.append(
                    f"payment.rails.{i}.platform: no platform {r.platform!r} in"
                    f" population.platforms (known: {', '.join(sorted(platforms))})"
                )
        unknown = sorted(set(self.dispatch.platforms) - platforms)
        if unknown:
            problems.append(f"dispatch.platforms: no platform {', '.join(unknown)} in"
                             " population.platforms")
        rails = {r.id for r in self.payment.rails}
        for i, p in enumerate(self.policies):
            if p.rail not in rails:
                problems.append(
                    f"policies.{i}.rail: no rail {p.rail!r} in payment.rails"
                    f" (known: {', '.join(sorted(rails))})"
                )
            if p.platform is not None and p.platform not in platforms:
                problems.append(f"policies.{i}.platform: no platform {p.platform!r}")
        for i, c in enumerate(self.campaigns):
            if c.kind == "bind_cards" and (c.rail not in rails or c.rail == "cash"):
                problems.append(f"campaigns.{i}.rail: bind_cards needs a mobile rail of"
                                 f" payment.rails (got {c.rail!r})")
            if c.kind == "install_app" and c.platform not in platforms:
                problems.append(f"campaigns.{i}.platform: install_app needs one of"
                                 f" population.platforms (got {c.platform!r})")
        ids = [p.id for p in self.policies]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            problems.append(f"policies: duplicate id {', '.join(dup)}")
        if problems:
            raise ValueError("\n".join(problems))
        return self
