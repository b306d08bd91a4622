"""From potential trips to requests: what each rider knows when she decides, and her choice.

For every chunk of potential trips the rider model (``riders.model``, from
``sim.registry.RIDER_MODELS``) sees, per trip: the fare (the meter fare of the trip, and the
same trip at the reference tariff), the rider subsidy she would receive through each of
her apps today, the waits she has learned for each channel in her zone, her apps and her
habit of using them. It answers which trips become requests and through which channel.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

from sim.market.population import Population
from sim.market.trips import Trips
from sim.market.waits import WaitBook
from sim.money.subsidies import PolicyBook
from sim.money.tariff import fares_fen
from sim.registry import RIDER_MODELS
from sim.scenario.money import Tariff
from sim.scenario.spec import Scenario

DETOUR = 1.3  # road metres per straight-line metre, where no distance matrix is kept
ESTIMATE_KPH = 25.0  # the speed a rider assumes for a trip she cannot look up


class RiderModel(Protocol):
    """A rider model registered in ``RIDER_MODELS``: built from its settings, it says how
    many potential trips stand behind one request at reference conditions, and which
    potential trips become requests and through which channel."""

    potential_per_request: float

    def choose(self, trips: Trips, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(taken: bool per trip, platform per trip: -1 for the street)."""
        ...


class Hailing:
    """Riders' knowledge and the rider model, for the engine's request stream."""

    def __init__(self, scenario: Scenario, pop: Population, book: PolicyBook, city: Any) -> None:
        spec = scenario.riders
        self.model: RiderModel = RIDER_MODELS.get(spec.model)(spec.settings_of(spec.model))
        self.pop = pop
        self.book = book
        self.city = city
        self.tariff = scenario.tariff
        self.reference_tariff = Tariff()
        rails = scenario.payment.rails
        self.linked = [
            next((j for j, r in enumerate(rails) if r.platform == p), -1) for p in pop.platforms
        ]
        settings = spec.settings_of(spec.model)
        prior = getattr(settings, "reference_wait_s", 300.0)
        rate = getattr(settings, "wait_learning_rate", 0.1)
        self.waits = WaitBook(city.n_cells, 1 + len(pop.platforms), prior, rate)
        self.zone_of = city.node_cell
        start = self.start = scenario.start
        self.offset = start.hour * 3600 + start.minute * 60 + start.second
        tariff = scenario.tariff
        self.app_fee_yuan = tariff.booking_fee_yuan if "app" in tariff.booking_fee_channels else 0.0

    def fares(
        self,
        t: np.ndarray,
        origin: np.ndarray,
        dest: np.ndarray,
        dist: np.ndarray | None,
        secs: np.ndarray | None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Meter fares of the trips in yuan (as hailed on the street; an app's booking fee,
        where the tariff has one, is added to that channel), at the scenario's tariff and
        at the reference one."""
        if dist is None or secs is None:  # no matrices: estimate from the straight line
            xy = self.city.xy
            dist = np.hypot(*(xy[origin] - xy[dest]).T) * DETOUR
            secs = dist / (ESTIMATE_KPH / 3.6)
        start = self.start
        fare = np.asarray(fares_fen(dist, secs, self.tariff, t, start), dtype=float) / 100.0
        ref = fares_fen(dist, secs, self.reference_tariff, t, start)
        return fare, np.asarray(ref, dtype=float) / 100.0

    def expected_subsidy(self, riders: np.ndarray, t: float) -> np.ndarray:
        """(n, platforms) yuan of rider subsidy each rider would get through each app at
        ``t``: the policies live on the app's linked rail where she has a card bound and
        her daily cap is not used, times the share of drivers who accept that rail."""
        pop = self.pop
        out = np.zeros((len(riders), len(pop.platforms)))
        day = int((t + self.offset) // 86400)  # the day book's day, whose caps apply
        for k, rail in enumerate(self.linked):
            if rail < 0:
                continue
            yuan = self.book.rider_subsidy_yuan(rail, pop.platforms[k], t, riders, day)
            if yuan is None:
                continue
            accepting = float(pop.accepts[:, rail].mean()) if pop.n_drivers else 0.0
            out[:, k] = yuan * pop.bound[riders, rail] * accepting
        return out

    def choose(
        self,
        times: np.ndarray,
        riders: np.ndarray,
        origin: np.ndarray,
        dest: np.ndarray,
        dist: np.ndarray | None,
        secs: np.ndarray | None,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(taken, platform) for a chunk of potential trips at ``times``, decided with what
        riders know at the first of them."""
        pop = self.pop
        t = float(times[0])
        fare, ref = self.fares(times, origin, dest, dist, secs)
        zones = self.zone_of[origin]
        trips = Trips(
            t=t,
            riders=riders,
            fare_yuan=fare,
            reference_fare_yuan=ref,
            subsidy_yuan=self.expected_subsidy(riders, t) - self.app_fee_yuan,
            wait_s=self.waits.expected(zones),
            installed=pop.rider_apps[riders],
            app_habit=pop.app_habit[riders],
        )
        return self.model.choose(trips, rng)
