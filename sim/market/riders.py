"""How riders answer money and time: whether a potential trip becomes a taxi request, and
how she hails it (the street or one of her apps). The rail she pays with is decided at
drop-off (``sim.money.rails``).

Both decisions are logit models over utilities in yuan. For each hailing channel c open to
her (the street; each app she has installed):

    V_c = asc_c - fare + subsidy_c - value_of_wait x E[wait_c] + loyalty x A_k / (1 + A_k)

where subsidy_c is the rider subsidy she would actually receive hailing through that app
today (a card bound on its linked rail, a policy live, her daily cap not used), E[wait_c]
is what she has learned about waits of that channel in her zone (``sim.market.waits``)
and A_k her habit of using app k. She hails through c with probability exp(mu V_c) /
sum exp(mu V). Whether she takes a taxi at all is a binary logit on the expected maximum
utility of those channels (the logsum, in yuan) against the same at reference conditions
(the reference tariff, no subsidy, the reference wait):

    P(take) = 1 / (1 + exp(-(logit(p_ref) + beta x (EMU - EMU_ref))))

so at reference conditions a share ``take_at_reference`` of potential trips is taken and
``demand.daily_requests`` is the request volume; a dearer fare or a longer wait loses
trips, a subsidy creates some. The fare elasticity at the reference point is
-beta x fare x (1 - p_ref).
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import Field

from sim.core.logit import binary, draw, logsum, shares
from sim.market.trips import Trips
from sim.registry import RIDER_MODELS
from sim.scenario.base import Frozen


class LogitSettings(Frozen):
    """``riders.logit``: the rider's travel and hailing choices.

    Defaults: the fare elasticity of taxi demand at the reference point is -0.22 for a
    25-yuan trip (Schaller 1999, "Elasticities for taxicab fares and service availability",
    Transportation 26: -0.22), i.e. beta x 25 x (1 - 0.5) = 0.22. Waiting is valued at
    0.5 yuan a minute, about an hour's average Beijing wage in 2013 (some 5,800 yuan a
    month over 174 hours) per hour. The scale mu makes a 10-yuan subsidy multiply an app's
    odds by e^3 = 20: the 2014 rush of riders ordering through an app when it paid.
    """

    take_at_reference: float = Field(default=0.5, gt=0, lt=1)  # p_ref: taxi's share then
    beta_per_yuan: float = Field(default=0.0176, ge=0, le=10)  # travel decision, per yuan
    reference_wait_s: float = Field(default=300.0, ge=0, le=7200)
    value_of_wait_yuan_per_min: float = Field(default=0.5, ge=0, le=100)
    mu_per_yuan: float = Field(default=0.3, gt=0, le=10)  # hailing logit scale
    asc_street_yuan: float = Field(default=0.0, ge=-1000, le=1000)
    asc_app_yuan: float = Field(default=0.0, ge=-1000, le=1000)  # ordering effort, per app
    loyalty_yuan: float = Field(default=2.0, ge=0, le=1000)  # x A / (1 + A), app habit A
    wait_learning_rate: float = Field(default=0.1, gt=0, le=1)  # per observed pickup


class RiderLogit:
    """Riders who weigh fares, subsidies and waits (see the module's docstring)."""

    Settings = LogitSettings

    def __init__(self, settings: LogitSettings) -> None:
        self.s = settings
        self.potential_per_request = 1.0 / settings.take_at_reference
        self.logit_ref = math.log(settings.take_at_reference / (1 - settings.take_at_reference))
        self.per_s = settings.value_of_wait_yuan_per_min / 60.0

    def utilities(
        self,
        fare_yuan: np.ndarray,
        subsidy_yuan: np.ndarray,
        wait_s: np.ndarray,
        installed: np.ndarray,
        app_habit: np.ndarray,
    ) -> np.ndarray:
        """(n, 1 + K) utilities in yuan: the street, then each app (-inf: not installed)."""
        s = self.s
        n, k = installed.shape
        v = np.empty((n, 1 + k))
        v[:, 0] = s.asc_street_yuan - fare_yuan - self.per_s * wait_s[:, 0]
        app = (
            s.asc_app_yuan
            - fare_yuan[:, None]
            + subsidy_yuan
            - self.per_s * wait_s[:, 1:]
            + s.loyalty_yuan * app_habit / (1.0 + app_habit)
        )
        v[:, 1:] = np.where(installed, app, -np.inf)
        return v

    def take_probability(self, v: np.ndarray, v_ref: np.ndarray) -> np.ndarray:
        """P(a potential trip becomes a request), from the channels' utilities now and at
        reference conditions."""
        s = self.s
        gain = logsum(v, s.mu_per_yuan) - logsum(v_ref, s.mu_per_yuan)
        return binary(self.logit_ref + s.beta_per_yuan * gain)

    def decide(
        self,
        fare_yuan: np.ndarray,
        reference_fare_yuan: np.ndarray,
        subsidy_yuan: np.ndarray,
        wait_s: np.ndarray,
        installed: np.ndarray,
        app_habit: np.ndarray,
        u_take: np.ndarray,
        u_channel: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Whether each potential trip is taken, and its app platform (-1: the street)."""
        s = self.s
        v = self.utilities(fare_yuan, subsidy_yuan, wait_s, installed, app_habit)
        v_ref = self.utilities(
            reference_fare_yuan,
            np.zeros_like(subsidy_yuan),
            np.full_like(wait_s, s.reference_wait_s),
            installed,
            app_habit,
        )
        take = u_take < self.take_probability(v, v_ref)
        channel = draw(shares(v, s.mu_per_yuan), u_channel)
        return take, channel - 1

    def choose(self, trips: Trips, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n = len(trips.riders)
        return self.decide(
            trips.fare_yuan,
            trips.reference_fare_yuan,
            trips.subsidy_yuan,
            trips.wait_s,
            trips.installed,
            trips.app_habit,
            rng.random(n),
            rng.random(n),
        )


class FixedSettings(Frozen):
    """``riders.fixed``: the share of riders with an app who hail on the street anyway."""

    street_share: float = Field(default=0.3, ge=0, le=1)


class RiderFixed:
    """Demand that ignores money and time: every potential trip is a request, and a rider
    with apps hails through one of them at random unless she is among the
    ``street_share`` who hail on the street anyway. For queueing checks (Erlang) and as
    the counterfactual of a market that does not answer to money."""

    Settings = FixedSettings
    potential_per_request = 1.0

    def __init__(self, settings: FixedSettings) -> None:
        self.street_share = settings.street_share

    def choose(self, trips: Trips, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        apps = trips.installed
        n = len(apps)
        score = rng.random(apps.shape) * apps
        street_anyway = rng.random(n) < self.street_share
        has_app = score.max(axis=1, initial=0.0) > 0
        pick = score.argmax(axis=1) if apps.shape[1] else 0
        return np.ones(n, dtype=bool), np.where(has_app & ~street_anyway, pick, -1)


RIDER_MODELS.register("logit", RiderLogit)
RIDER_MODELS.register("fixed", RiderFixed)
