"""A rider model in one file: ``walk_up`` riders never use an app (everyone hails on the
street) and take a taxi by the logit model's travel decision on the street alone.

Import the module (or list it in ``TAXISIM_PLUGINS``), then ``riders: {model: walk_up}``.
"""

from __future__ import annotations

import numpy as np

from sim.market.riders import LogitSettings, RiderLogit
from sim.market.trips import Trips
from sim.registry import register_rider_model


class WalkUp:
    """The logit rider with no apps: the street is her only channel."""

    Settings = LogitSettings

    def __init__(self, settings: LogitSettings) -> None:
        self.logit = RiderLogit(settings)
        self.potential_per_request = self.logit.potential_per_request

    def choose(self, trips: Trips, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        no_apps = Trips(
            t=trips.t,
            riders=trips.riders,
            fare_yuan=trips.fare_yuan,
            reference_fare_yuan=trips.reference_fare_yuan,
            subsidy_yuan=trips.subsidy_yuan,
            wait_s=trips.wait_s,
            installed=np.zeros_like(trips.installed),
            app_habit=trips.app_habit,
        )
        return self.logit.choose(no_apps, rng)


register_rider_model("walk_up", WalkUp)
