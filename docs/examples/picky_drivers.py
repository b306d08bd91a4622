"""A driver model in one file: ``picky`` drivers decide as the built-in logit drivers do,
except that none takes an offer whose pickup is longer than ``max_pickup_min`` minutes.

Import the module (or list it in ``TAXISIM_PLUGINS``), then
``drivers: {model: picky, picky: {max_pickup_min: 4}}``.
"""

from __future__ import annotations

from pydantic import Field

from sim.market.drivers import DriverLogit
from sim.registry import register_driver_model
from sim.scenario.adoption import DriverAdoption
from sim.scenario.base import Frozen
from sim.scenario.market import Accept


class PickySettings(Frozen):
    max_pickup_min: float = Field(default=5.0, gt=0)


class PickyDrivers(DriverLogit):
    """Logit drivers who never drive farther than ``max_pickup_min`` to a rider."""

    Settings = PickySettings

    def __init__(self, day: DriverAdoption, offers: Accept, settings: PickySettings) -> None:
        super().__init__(day, offers, settings)
        self.max_pickup_s = settings.max_pickup_min * 60.0

    def takes(self, value_yuan: float, pickup_s: float, u: float) -> bool:
        return pickup_s <= self.max_pickup_s and super().takes(value_yuan, pickup_s, u)


register_driver_model("picky", PickyDrivers)
