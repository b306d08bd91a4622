"""Paying at drop-off: which rail, how long it takes, whether it fails, and the money.

The rider picks among the rails she has a card bound for and the driver accepts (cash is
always possible) by a multinomial logit over convenience, the subsidy she would receive,
habit and perceived risk. Habit H enters as H / (1 + H): its pull saturates, so a rider
who rides daily is not locked in for ever. A mobile payment that fails for want of
network falls back to cash (seed: Alipay's barcode works offline, WeChat Pay did not yet).
"""

from __future__ import annotations

import math

import numpy as np

from sim.core.rng import Pool
from sim.scenario.money import Payment

CASH = 0  # the schema puts cash first, so rail index 0 is cash


def logit_choice(utilities: list[float], u: float) -> int:
    """Index drawn with probability exp(V_j) / sum_k exp(V_k), using uniform ``u``."""
    if len(utilities) == 2:  # the common case, the same arithmetic without the lists
        a, b = utilities
        top = a if a >= b else b
        wa = math.exp(a - top)
        return 0 if u * (wa + math.exp(b - top)) < wa else 1
    top = max(utilities)
    weights = [math.exp(v - top) for v in utilities]
    target = u * sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if target < acc:
            return i
    return len(weights) - 1


RailChoice = tuple[int, float, bool]
"""The outcome of a rail choice: the rail paid with, the seconds paying took, and whether
a mobile payment failed and the rider paid cash instead."""


class Chooser:
    """Rail choice and checkout time for one ride, from the payment settings."""

    def __init__(self, payment: Payment, rng: np.random.Generator) -> None:
        rails = payment.rails
        self.rails = rails
        self.n = len(rails)
        self.uniform = Pool(rng.random)
        self.normal = Pool(rng.standard_normal)
        c = payment.choice
        self.base = [r.convenience - c.beta_risk * r.risk for r in rails]
        self.beta_subsidy = c.beta_subsidy_per_yuan
        self.beta_habit = c.beta_habit
        self.closed_loop = c.closed_loop
        self.switching_cost = c.switching_cost
        self.fail = [0.0 if r.offline else r.failure_rate for r in rails]
        self._rails_in: dict[int, list[int]] = {}  # rail indices of each options mask
        self.lognormal = []
        for r in rails:
            s2 = math.log1p(r.checkout.cv**2)
            self.lognormal.append((r.checkout.mean_s, math.sqrt(s2), s2 / 2))

    def checkout_s(self, rail: int) -> float:
        mean, sigma, half = self.lognormal[rail]
        if mean <= 0:
            return 0.0
        return mean * math.exp(sigma * self.normal() - half) if sigma else mean

    def choose(
        self,
        options: int,
        offers: list[float],
        habit: list[float],
        linked: int = -1,
        last: int = -1,
    ) -> RailChoice:
        """Pick a rail among the bits of ``options`` (bit 0, cash, always set).

        ``linked``: the rail of the app she hailed through (paying in the app is the
        default there: the closed loop), -1 for none; ``last``: the rail she paid her last
        ride with, -1 before her first (any other rail costs her the switching cost).
        """
        if options == 1:
            return CASH, self.checkout_s(CASH), False
        idx = self._rails_in.get(options)
        if idx is None:
            idx = self._rails_in[options] = [j for j in range(self.n) if options >> j & 1]
        loop, switch = self.closed_loop, self.switching_cost
        v = [
            self.base[j]
            + self.beta_subsidy * offers[j]
            + self.beta_habit * habit[j] / (1.0 + habit[j])
            + (loop if j == linked else 0.0)
            - (switch if last >= 0 and j != last else 0.0)
            for j in idx
        ]
        rail = idx[logit_choice(v, self.uniform())]
        seconds = self.checkout_s(rail)
        if self.fail[rail] and self.uniform() < self.fail[rail]:
            return CASH, seconds + self.checkout_s(CASH), True
        return rail, seconds, False
