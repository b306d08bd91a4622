"""Subsidy rules: how much one policy pays for one ride, by kind.

A policy's amount is a rule: ``fixed`` (``amount_yuan: 5``) or ``uniform`` (``amount_yuan:
{min: 12, max: 20}``, the 2014 "random amount" subsidies) from ``amount_yuan``, or any rule
registered in ``sim.registry.SUBSIDY_RULES`` through the policy's ``rule`` section. A rule
is built once per policy from its settings and then asked, ride by ride, for the fen it
pays; caps, budgets and windows stay with the policy book, whatever the rule.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
from pydantic import Field, model_validator

from sim.registry import SUBSIDY_RULES
from sim.scenario.money import AmountRange, RuleSettings, SubsidyPolicy


def yuan_to_fen(yuan: float) -> int:
    """Round yuan to the nearest fen, halves away from zero, exactly for decimal inputs."""
    return int(round(yuan * 100 + (1e-9 if yuan >= 0 else -1e-9)))


class SubsidyRule(Protocol):
    """What the policy book asks of a rule."""

    def fen(self, fare_fen: int, rng: np.random.Generator) -> int:
        """What one ride with this fare earns, before caps and budgets."""
        ...

    def announced_fen(self) -> float:
        """The amount per ride as advertised (a mean), for riders' and drivers' choices."""
        ...


class FixedAmount:
    """The same amount for every ride (the seed's 5 yuan to rider and driver)."""

    class Settings(RuleSettings):
        amount_yuan: float = Field(ge=0, le=1_000_000)

    def __init__(self, settings: Settings) -> None:
        self.fixed_fen = yuan_to_fen(settings.amount_yuan)

    def fen(self, fare_fen: int, rng: np.random.Generator) -> int:
        return self.fixed_fen

    def announced_fen(self) -> float:
        return float(self.fixed_fen)


class UniformAmount:
    """An amount drawn uniformly between two bounds for each ride, to the fen."""

    class Settings(RuleSettings):
        min_yuan: float = Field(ge=0, le=1_000_000)
        max_yuan: float = Field(ge=0, le=1_000_000)

        @model_validator(mode="after")
        def _order(self) -> UniformAmount.Settings:
            if self.max_yuan < self.min_yuan:
                raise ValueError("max_yuan must be at least min_yuan")
            return self

    def __init__(self, settings: Settings) -> None:
        self.low, self.high = settings.min_yuan, settings.max_yuan

    def fen(self, fare_fen: int, rng: np.random.Generator) -> int:
        return yuan_to_fen(self.low + (self.high - self.low) * rng.random())

    def announced_fen(self) -> float:
        return (self.low + self.high) * 50


SUBSIDY_RULES.register("fixed", FixedAmount)
SUBSIDY_RULES.register("uniform", UniformAmount)


def rule_of(spec: SubsidyPolicy) -> SubsidyRule:
    """The rule a policy pays by: its ``rule`` section, else its ``amount_yuan``."""
    if spec.rule is not None:
        rule: SubsidyRule = SUBSIDY_RULES.get(spec.rule.kind)(spec.rule)
        return rule
    a = spec.amount_yuan
    if isinstance(a, AmountRange):
        return UniformAmount(UniformAmount.Settings(kind="uniform", min_yuan=a.min, max_yuan=a.max))
    return FixedAmount(FixedAmount.Settings(kind="fixed", amount_yuan=a))
