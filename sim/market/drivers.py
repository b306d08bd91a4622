"""Drivers' decisions: which apps to run each day, and whether to take an offered ride.

Which apps: a driver who revisits his choice today picks, among the sets of apps he knows
(installed), the one of highest utility plus a Gumbel shock, so the sets follow a logit:

    U(S) = sum_{k in S} value_k - app_cost x |S| - multihoming_cost x max(0, |S| - 1)
           - switching_cost x [S is not what he runs now]

where value_k is what he has learned app k brings him a day (fares and driver subsidies of
its orders, or his fleet group's experience while he does not run it) and the driver
subsidy it announces per ride. Running none is the street alone.

Whether to take an offer (nearest and batch dispatch): he accepts with probability
1 / (1 + exp(-(base + per_yuan x (fare + tip + driver subsidy) - per_pickup_min x pickup))),
the rule broadcast drivers already follow when they grab.

Whether to accept a mobile rail (``sim.market.adoption``): a driver who revisits his
choice weighs what he has learned the rail brings him a day, the subsidy it announces per
ride, the share of his fleet group accepting it and his distrust of mobile payment, plus a
logistic shock; with inertia, he starts above +switching_cost and stops below -it.

The three decisions are one registered driver model (``sim.registry.DRIVER_MODELS``;
built in: ``logit``, the class ``DriverLogit`` below). A researcher's own model
subclasses it and replaces a method; the scenario names it in ``drivers.model``.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np
from pydantic import BaseModel

from sim.registry import DRIVER_MODELS
from sim.scenario.adoption import DriverAdoption
from sim.scenario.market import Accept


def subsets(k: int) -> np.ndarray:
    """(2^k, k) bool: every set of k apps, the empty set first."""
    codes = np.arange(1 << k)
    return (codes[:, None] >> np.arange(k)[None, :] & 1).astype(bool)


def set_utilities(
    value: np.ndarray,
    running: np.ndarray,
    aware: np.ndarray,
    app_cost: float,
    multihoming_cost: float,
    switching_cost: float,
) -> np.ndarray:
    """(n, 2^k) utility of each set of apps for each driver; -inf for a set holding an app
    he does not know."""
    sets = subsets(value.shape[1])  # (m, k)
    size = sets.sum(axis=1)
    u = value @ sets.T.astype(float) - app_cost * size - multihoming_cost * np.maximum(size - 1, 0)
    current = (running[:, None, :] == sets[None, :, :]).all(axis=2)
    u -= switching_cost * ~current
    feasible = ~(sets[None, :, :] & ~aware[:, None, :]).any(axis=2)
    return np.where(feasible, u, -np.inf)


def choose_apps(
    value: np.ndarray,
    running: np.ndarray,
    aware: np.ndarray,
    revisit: np.ndarray,
    gumbel: np.ndarray,
    app_cost: float,
    multihoming_cost: float,
    switching_cost: float,
) -> np.ndarray:
    """The apps each driver runs tomorrow: a logit choice among sets for those who
    revisit (``gumbel``: one standard Gumbel draw per driver and set), the same apps (those
    he still knows) for the others."""
    u = set_utilities(value, running, aware, app_cost, multihoming_cost, switching_cost)
    pick = np.argmax(u + gumbel, axis=1)
    chosen = subsets(value.shape[1])[pick]
    return np.where(revisit[:, None], chosen, running & aware)


def offer_utility(
    base: float, per_yuan: float, per_pickup_min: float, value_yuan: float, pickup_s: float
) -> float:
    """A driver's utility of taking an offered ride worth ``value_yuan`` to him,
    ``pickup_s`` away (against letting it go)."""
    return base + per_yuan * value_yuan - per_pickup_min * pickup_s / 60.0


def accept_probability(
    base: float, per_yuan: float, per_pickup_min: float, value_yuan: float, pickup_s: float
) -> float:
    """Chance a driver takes an offered ride worth ``value_yuan`` to him, ``pickup_s`` away."""
    x = offer_utility(base, per_yuan, per_pickup_min, value_yuan, pickup_s)
    return 1.0 / (1.0 + math.exp(-x))


def rail_utility(
    value: np.ndarray,
    offer: float,
    peer_share: np.ndarray,
    cash_preference: np.ndarray,
    beta_gain: float,
    beta_offer: float,
    beta_peer: float,
) -> np.ndarray:
    """Net utility of accepting a rail: learned gain, announced subsidy, peers, distrust."""
    return beta_gain * value + beta_offer * offer + beta_peer * peer_share - cash_preference


def keep_or_switch(
    accepts: np.ndarray, noisy_utility: np.ndarray, revisit: np.ndarray, switching_cost: float
) -> np.ndarray:
    """Accept/drop with inertia: a driver revisiting his choice starts accepting when the
    noisy utility clears +k and stops only when it falls below -k."""
    keep = np.where(accepts, noisy_utility > -switching_cost, noisy_utility > switching_cost)
    return np.where(revisit, keep, accepts)


class DriverModel(Protocol):
    """What a run asks of its drivers; ``DriverLogit`` is the built-in answer."""

    def takes(self, value_yuan: float, pickup_s: float, u: float) -> bool:
        """Does a driver take a ride worth ``value_yuan`` to him, ``pickup_s`` away, given
        ``u``, a uniform draw on [0, 1)?"""
        ...

    def rail_utilities(
        self, value: np.ndarray, offer: float, peer_share: np.ndarray, cash_pref: np.ndarray
    ) -> np.ndarray:
        """Each driver's utility of accepting one mobile rail (before his logistic shock)."""
        ...

    def keep_rail(
        self, accepts: np.ndarray, noisy_utility: np.ndarray, revisit: np.ndarray
    ) -> np.ndarray:
        """Who accepts the rail tomorrow."""
        ...

    def apps(
        self,
        income: np.ndarray,
        offer: np.ndarray,
        running: np.ndarray,
        aware: np.ndarray,
        revisit: np.ndarray,
        gumbel: np.ndarray,
    ) -> np.ndarray:
        """(n, k) bool: the apps each driver runs tomorrow, from what each app has brought
        him a day (learned, yuan) and the driver subsidy it announces per ride."""
        ...


class DriverLogit:
    """The logit driver of this module's docstring. Its parameters are the scenario's
    ``adoption.drivers`` (rails and apps, day to day) and ``dispatch.accept`` (offers)."""

    def __init__(self, day: DriverAdoption, offers: Accept, settings: BaseModel | None) -> None:
        self.day = day
        self.base, self.per_yuan = offers.base, offers.per_yuan
        self.per_min = offers.per_pickup_min
        self.settings = settings  # a subclass's own section, ``drivers.<its name>``

    def takes(self, value_yuan: float, pickup_s: float, u: float) -> bool:
        x = offer_utility(self.base, self.per_yuan, self.per_min, value_yuan, pickup_s)
        return u * (1.0 + math.exp(-x)) < 1.0  # u < 1 / (1 + exp(-x)), without a division

    def rail_utilities(
        self, value: np.ndarray, offer: float, peer_share: np.ndarray, cash_pref: np.ndarray
    ) -> np.ndarray:
        d = self.day
        return rail_utility(
            value, offer, peer_share, cash_pref, d.beta_gain, d.beta_offer, d.beta_peer
        )

    def keep_rail(
        self, accepts: np.ndarray, noisy_utility: np.ndarray, revisit: np.ndarray
    ) -> np.ndarray:
        return keep_or_switch(accepts, noisy_utility, revisit, self.day.switching_cost)

    def apps(
        self,
        income: np.ndarray,
        offer: np.ndarray,
        running: np.ndarray,
        aware: np.ndarray,
        revisit: np.ndarray,
        gumbel: np.ndarray,
    ) -> np.ndarray:
        d = self.day
        value = d.beta_app_income * income + d.beta_offer * offer[None, :]
        return choose_apps(
            value, running, aware, revisit, gumbel, d.app_cost, d.multihoming_cost, d.switching_cost
        )


DRIVER_MODELS.register("logit", DriverLogit)
