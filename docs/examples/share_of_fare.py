"""A subsidy rule in one file: ``share_of_fare`` pays a share of the ride's fare, up to a
cap per ride (the "x% off, at most y yuan" promotions).

Import the module (or list it in ``TAXISIM_PLUGINS``), then in a policy:
``rule: {kind: share_of_fare, share: 0.2, cap_yuan: 8}`` instead of ``amount_yuan``.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from sim.registry import register_subsidy_rule
from sim.scenario.money import RuleSettings


class ShareOfFare:
    """``share`` of the fare, to the fen, at most ``cap_yuan``; advertised as the cap."""

    class Settings(RuleSettings):
        share: float = Field(gt=0, le=1)
        cap_yuan: float = Field(gt=0, le=1000)

    def __init__(self, settings: Settings) -> None:
        self.share = settings.share
        self.cap_fen = round(settings.cap_yuan * 100)

    def fen(self, fare_fen: int, rng: np.random.Generator) -> int:
        return min(round(fare_fen * self.share), self.cap_fen)

    def announced_fen(self) -> float:
        return float(self.cap_fen)


register_subsidy_rule("share_of_fare", ShareOfFare)
