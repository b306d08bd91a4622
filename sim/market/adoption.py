"""Daily adoption of apps and payment rails by riders and drivers.

The rules are pure functions over arrays (hazards, habit, utilities); ``AdoptionModel``
applies them once a day to the population, between the day's rides and the next.

Riders: an app install hazard of Bass form (innovation + imitation x share of contacts
with the app + a term for the subsidy on offer); card-binding attempts that succeed with
the rail's bind success rate; habit H <- (1 - d) H + 1[used today]; lapse when unused.
Drivers: a learned value per rail (subsidy income less fees and the cost of waiting for
settlement), a personal cash preference (the seed's distrust of mobile payment), imitation
inside fleet groups, and a noisy daily accept/drop decision, made by the run's driver
model (``sim.market.drivers``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import networkx as nx
import numpy as np
from scipy import sparse

from sim.market.drivers import DriverModel
from sim.market.population import Population
from sim.money.subsidies import PolicyBook
from sim.scenario.adoption import Adoption, Campaign
from sim.scenario.money import Rail

# ---- pure rules ------------------------------------------------------------------------


def hazard_probability(rate: np.ndarray | float, dt: float = 1.0) -> np.ndarray | float:
    """Probability of an event within ``dt`` days at a constant daily hazard ``rate``."""
    return -np.expm1(-np.asarray(rate) * dt)


def bass_rate(
    p: float, q: float, contact_share: np.ndarray | float, extra: float = 0.0
) -> np.ndarray | float:
    """Daily adoption hazard: innovation + imitation x adopters among contacts + extra."""
    return p + q * np.asarray(contact_share) + extra


def habit_update(habit: np.ndarray, used: np.ndarray, decay: float) -> np.ndarray:
    """H <- (1 - d) H + 1[used]: a two-state chain's running memory of use."""
    return (1.0 - decay) * habit + used


def learn(value: np.ndarray, observed: np.ndarray, rate: float) -> np.ndarray:
    """Exponential smoothing of a daily observation into a learned value."""
    return (1.0 - rate) * value + rate * observed


def group_mean(
    values: np.ndarray, groups: np.ndarray, n_groups: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Mean of ``values`` within each group (weighted), broadcast back to members."""
    w = np.ones_like(values, dtype=float) if weights is None else weights.astype(float)
    total = np.bincount(groups, weights=values * w, minlength=n_groups)
    count = np.bincount(groups, weights=w, minlength=n_groups)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(count > 0, total / np.where(count > 0, count, 1), 0.0)
    return mean[groups]


def contact_matrix(
    kind: str, n: int, degree: int, rewire: float, seed: int
) -> sparse.csr_matrix | None:
    """Row-normalised adjacency of riders' contacts, or None for a well-mixed population."""
    if kind == "well_mixed" or n < 3:
        return None
    k = min(degree, n - 1)
    if kind == "small_world":
        g = nx.watts_strogatz_graph(n, max(2, k - k % 2), rewire, seed=seed)
    else:
        g = nx.fast_gnp_random_graph(n, k / (n - 1), seed=seed)
    a = nx.to_scipy_sparse_array(g, nodelist=range(n), format="csr", dtype=float)
    deg = np.asarray(a.sum(axis=1)).ravel()
    return sparse.csr_matrix(sparse.diags(1.0 / np.maximum(deg, 1)) @ a)


def campaign_count(per_day: float, day: int, until: date | None) -> int:
    """How many a campaign reaches on its ``day``-th day (0 the first) when it reaches
    ``per_day`` a day in the sampled city: a one-off rounds; a daily push carries the
    fractions over, so a sampled city gets its share of a push of a few a day."""
    if until is None:
        return int(round(per_day))
    return math.floor(per_day * (day + 1)) - math.floor(per_day * day)


# ---- the daily update ------------------------------------------------------------------


class AdoptionModel:
    """Applies the rules to a run's population at the end of every day.

    It is told each mobile ride's money (``ride_paid``) and, at the end of a day, which
    riders used which rail (``end_of_day``); it reads the subsidies on offer from ``book``.
    """

    def __init__(
        self,
        spec: Adoption,
        rails: Sequence[Rail],
        campaigns: Sequence[Campaign],
        start: datetime,
        sample: float,
        pop: Population,
        book: PolicyBook,
        rng: np.random.Generator,
        social_seed: int,
        drivers: DriverModel,
    ) -> None:
        self.spec = spec
        self.drivers = drivers  # how drivers choose their rails and apps
        self.pop = pop
        self.book = book
        self.rng = rng
        self.rails = list(rails)
        self.start = start
        self.offset = start.hour * 3600 + start.minute * 60 + start.second
        self.sample = sample
        r = self.spec.riders
        self.contacts = contact_matrix(
            r.contacts.kind,
            pop.n_riders,
            r.contacts.degree,
            r.contacts.rewire,
            social_seed,
        )
        d = self.spec.drivers
        n_d = pop.n_drivers
        group_size = d.fleet_group_size
        self.groups = self.rng.permutation(n_d) // group_size
        self.n_groups = int(self.groups.max()) + 1 if n_d else 0
        self.cash_pref = self.rng.normal(d.cash_preference, d.cash_preference_sd, n_d)
        self.value = np.zeros((n_d, len(self.rails)))
        self.gain = [0.0] * (n_d * len(self.rails))  # today's gain, yuan, by driver x rail
        self.n_apps = len(pop.platforms)
        self.app_income = [0.0] * (n_d * self.n_apps)  # yuan today, by driver x app
        self.app_value = np.zeros((n_d, self.n_apps))  # learned daily yuan of each app
        self.settle_cost = [rl.settlement_days * d.settlement_cost_per_day for rl in self.rails]
        self.campaigns = list(campaigns)
        self.apply_campaigns(start.date())
        pop.refresh_masks()

    def ride_paid(
        self, driver: int, rail: int, fare_fen: int, fee_fen: int, subsidy_fen: int
    ) -> None:
        """Book a driver's gain from one mobile ride: subsidy less fee and waiting cost."""
        self.gain[driver * len(self.rails) + rail] += (
            subsidy_fen - fee_fen - fare_fen * self.settle_cost[rail]
        ) / 100.0

    def _offers(self, day: int, side: str) -> list[float]:
        """Subsidy per ride announced for tomorrow noon on each rail (yuan)."""
        noon = (day + 1) * 86400 - self.offset + 12 * 3600
        return [self.book.offer_yuan(j, None, noon, side) for j in range(len(self.rails))]

    def end_of_day(self, day: int, used: np.ndarray, used_app: np.ndarray) -> None:
        """The daily update after ``day``; ``used[rider, rail]`` says who paid with what,
        ``used_app[rider, platform]`` who hailed through which app."""
        self._riders(day, used, used_app)
        self._drivers(day)
        self.apply_campaigns(self.start.date() + timedelta(days=day + 1))
        self.pop.refresh_masks()

    def _contact_share(self, adopted: np.ndarray) -> np.ndarray | float:
        if self.contacts is None:
            return float(adopted.mean())
        return self.contacts @ adopted.astype(float)

    def _riders(self, day: int, used: np.ndarray, used_app: np.ndarray) -> None:
        pop, r, rng = self.pop, self.spec.riders, self.rng
        pop.habit = habit_update(pop.habit, used, r.habit_decay)
        pop.app_habit = habit_update(pop.app_habit, used_app, r.habit_decay)
        offers = self._offers(day, "rider")
        # Installs, in substeps so the daily process tracks its continuous-time limit.
        dt = 1.0 / self.spec.substeps
        for k, platform in enumerate(pop.platforms):
            extra = r.install_per_yuan * max(
                (offers[j] for j, rl in enumerate(self.rails) if rl.platform == platform),
                default=0.0,
            )
            for _ in range(self.spec.substeps):
                has = pop.rider_apps[:, k]
                rate = bass_rate(r.install_p, r.install_q, self._contact_share(has), extra)
                new = ~has & (rng.random(pop.n_riders) < hazard_probability(rate, dt))
                pop.rider_apps[:, k] = has | new
        for j, rail in enumerate(self.rails):
            if rail.id == "cash":
                continue
            bound = pop.bound[:, j]
            # Lapse: a card bound but unused long enough is dropped.
            lapse = (
                bound
                & (pop.habit[:, j] < r.lapse_habit)
                & (rng.random(pop.n_riders) < r.lapse_rate)
            )
            # Binding: riders with the rail's app are prompted; success is the rail's rate.
            has_app = (
                pop.rider_apps[:, pop.platforms.index(rail.platform)]
                if rail.platform in pop.platforms
                else np.ones(pop.n_riders, bool)
            )
            attempt = (
                r.bind_attempt * np.where(has_app, 1.0, 0.3) + r.bind_attempt_per_yuan * offers[j]
            )
            tries = ~bound & (rng.random(pop.n_riders) < np.minimum(attempt, 1.0))
            ok = tries & (rng.random(pop.n_riders) < rail.bind_success)
            pop.bound[:, j] = (bound & ~lapse) | ok

    def _drivers(self, day: int) -> None:
        pop, d, rng = self.pop, self.spec.drivers, self.rng
        n = pop.n_drivers
        for k in range(len(pop.platforms)):  # who knows each app: Bass in fleet groups
            has = pop.driver_aware[:, k]
            share = group_mean(has.astype(float), self.groups, self.n_groups)
            rate = bass_rate(d.install_p, d.install_q, share)
            pop.driver_aware[:, k] = has | (rng.random(n) < hazard_probability(rate))
        offers = self._offers(day, "driver")
        self._apps(offers)
        gain = np.array(self.gain).reshape(n, len(self.rails))
        for j, rail in enumerate(self.rails):
            if rail.id == "cash":
                continue
            accepts = pop.accepts[:, j]
            # Accepting drivers learn from their own day; the others from their group's.
            heard = group_mean(gain[:, j], self.groups, self.n_groups, weights=accepts)
            self.value[:, j] = learn(
                self.value[:, j], np.where(accepts, gain[:, j], heard), d.learning_rate
            )
            peers = group_mean(accepts.astype(float), self.groups, self.n_groups)
            u = self.drivers.rail_utilities(self.value[:, j], offers[j], peers, self.cash_pref)
            pop.accepts[:, j] = self.drivers.keep_rail(
                accepts, u + rng.logistic(size=n), rng.random(n) < d.decision_rate
            )
        self.gain = [0.0] * len(self.gain)

    def app_paid(self, driver: int, platform: int, yuan: float) -> None:
        """Book what one ride hailed through ``platform`` brought its driver."""
        self.app_income[driver * self.n_apps + platform] += yuan

    def _apps(self, offers: list[float]) -> None:
        """Which apps each driver runs tomorrow (``sim.market.drivers``): what each app
        brought him today (or his group, while he does not run it) and the driver subsidy
        announced on its rails."""
        pop, d, rng = self.pop, self.spec.drivers, self.rng
        n, k = pop.n_drivers, self.n_apps
        if not k or not n:
            return
        income = np.array(self.app_income).reshape(n, k)
        running = pop.driver_apps
        for a in range(k):
            heard = group_mean(income[:, a], self.groups, self.n_groups, weights=running[:, a])
            observed = np.where(running[:, a], income[:, a], heard)
            self.app_value[:, a] = learn(self.app_value[:, a], observed, d.learning_rate)
        offer = np.array(
            [
                max(
                    (offers[j] for j in range(len(self.rails)) if self.rails[j].platform == p),
                    default=0.0,
                )
                for p in pop.platforms
            ]
        )
        revisit = rng.random(n) < d.decision_rate
        gumbel = rng.gumbel(size=(n, 1 << k))
        pop.driver_apps[:] = self.drivers.apps(
            self.app_value, offer, running, pop.driver_aware, revisit, gumbel
        )
        self.app_income = [0.0] * (n * k)

    def apply_campaigns(self, when: date) -> None:
        """The pushes of day ``when``: bind cards or install an app for ``count`` riders,
        or sign up ``count`` drivers to accept a rail."""
        pop, sample = self.pop, self.sample
        for c in self.campaigns:
            last = c.until or c.date
            if not c.date <= when <= last:
                continue
            if c.kind == "install_app":
                j = pop.platforms.index(str(c.platform))  # validated: a platform
                target = pop.rider_apps[:, j]
            else:
                j = [rl.id for rl in self.rails].index(str(c.rail))  # validated: a rail
                target = pop.bound[:, j] if c.kind == "bind_cards" else pop.accepts[:, j]
            free = np.flatnonzero(~target)
            k = min(len(free), campaign_count(c.count * sample, (when - c.date).days, c.until))
            target[self.rng.choice(free, size=k, replace=False)] = True
