"""Subsidy policies: who gets how much for a ride paid on a rail, within caps and budgets.

Windows are half-open [start, end) in the scenario's local time, evaluated at the moment
the payment completes. Each policy keeps its own counts, so the end-of-run ``check`` can
prove that no cap, budget or window was broken.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from sim.errors import PolicyError
from sim.money.rules import FixedAmount, SubsidyRule, rule_of, yuan_to_fen
from sim.scenario.money import SubsidyPolicy


@dataclass
class ActivePolicy:
    """A policy in run seconds, with what it has paid so far."""

    spec: SubsidyPolicy
    rail: int
    start_s: float
    end_s: float
    total_budget_fen: int | None
    daily_budget_fen: int | None
    free_rides_per_day: float  # scaled by the sample; fractions carry over to later days
    rule: SubsidyRule  # the amount per ride
    fixed_fen: int | None = None  # the amount of a fixed-amount rule (the common case)
    cap: int | None = None  # rides paid per user and day (the spec's per_user_daily_cap)
    budgeted: bool = False  # a total or daily budget applies
    lottery_carry: float = 0.0
    spent_fen: int = 0
    spent_by_day: defaultdict[int, int] = field(default_factory=lambda: defaultdict(int))
    uses: dict[int, int] = field(default_factory=dict)  # rides paid per user on uses_day
    uses_day: int = -1
    most_uses: int = 0  # the most rides one user was paid for in one day, over the run
    paid_rides: int = 0
    first_paid_s: float = float("inf")
    last_paid_s: float = float("-inf")
    free_rides: int = 0

    @property
    def id(self) -> str:
        return self.spec.id

    def mean_fen(self) -> float:
        return self.rule.announced_fen()

    def active(self, t: float) -> bool:
        return self.start_s <= t < self.end_s


def to_run_seconds(when: datetime, start: datetime) -> float:
    return (when - start).total_seconds()


class PolicyBook:
    """All subsidy policies of a run, grouped by (rail, side) for quick lookup."""

    def __init__(
        self,
        specs: list[SubsidyPolicy],
        start: datetime,
        rails: list[str],
        rng: np.random.Generator,
        sample: float = 1.0,
    ) -> None:
        self.rng = rng
        self.policies = [
            ActivePolicy(
                spec=p,
                rail=rails.index(p.rail),
                start_s=to_run_seconds(p.start, start),
                end_s=to_run_seconds(p.effective_end, start),
                total_budget_fen=_scaled(p.budget.total_yuan, sample),
                daily_budget_fen=_scaled(p.budget.daily_yuan, sample),
                free_rides_per_day=p.daily_free_rides * sample,
                rule=(rule := rule_of(p)),
                fixed_fen=rule.fixed_fen if isinstance(rule, FixedAmount) else None,
                cap=p.per_user_daily_cap,
                budgeted=p.budget.total_yuan is not None or p.budget.daily_yuan is not None,
            )
            for p in specs
        ]
        self.by_rail: dict[tuple[int, str], list[ActivePolicy]] = defaultdict(list)
        for p in self.policies:
            self.by_rail[p.rail, p.spec.side].append(p)
        self.lotteries = [p for p in self.policies if p.free_rides_per_day > 0]
        self.n_rails = len(rails)
        # Offers change only where a window opens or closes: cache them per segment.
        self._edges = sorted({t for p in self.policies for t in (p.start_s, p.end_s)})
        self._offers: dict[tuple[str, str, int], list[float]] = {}
        self._plans: dict[tuple, tuple[list[ActivePolicy], ...]] = {}

    def offers(self, platform: str, t: float, side: str = "rider") -> list[float]:
        """``offer_yuan`` for every rail at once, cached between window edges (to drivers
        with ``side="driver"``)."""
        key = (side, platform, bisect_right(self._edges, t))
        got = self._offers.get(key)
        if got is None:
            got = self._offers[key] = [
                self.offer_yuan(j, platform, t, side) for j in range(self.n_rails)
            ]
        return got

    def best_offer(
        self, platform: str, t: float, rails: list[int], side: str = "driver"
    ) -> tuple[float, float]:
        """The largest of ``offers`` on ``rails`` (0 with none), and the next window edge
        after ``t``: until then it holds."""
        i = bisect_right(self._edges, t)
        offers = self.offers(platform, t, side)
        until = self._edges[i] if i < len(self._edges) else math.inf
        return max([offers[j] for j in rails], default=0.0), until

    def offer_yuan(self, rail: int, platform: str | None, t: float, side: str = "rider") -> float:
        """What one ride paid on ``rail`` at ``t`` is announced to earn ``side`` (mean yuan).

        ``platform`` None means any platform: the offer as advertised, wherever it applies.
        """
        total = 0.0
        for p in self.by_rail.get((rail, side), ()):
            if p.active(t) and (
                platform is None or p.spec.platform is None or p.spec.platform == platform
            ):
                total += p.mean_fen()
        return total / 100.0

    def plan(self, rail: int, platform: str, t: float) -> tuple[list[ActivePolicy], ...]:
        """The rider, driver and lottery policies that apply to one ride paid on ``rail`` at
        ``t`` and hailed through ``platform`` ("" for none), cached between window edges."""
        key = (rail, platform, bisect_right(self._edges, t))
        got = self._plans.get(key)
        if got is None:

            def applies(p: ActivePolicy) -> bool:
                return (
                    p.rail == rail
                    and p.active(t)
                    and (p.spec.platform is None or p.spec.platform == platform)
                )

            got = self._plans[key] = (
                [p for p in self.by_rail.get((rail, "rider"), ()) if applies(p)],
                [p for p in self.by_rail.get((rail, "driver"), ()) if applies(p)],
                [p for p in self.lotteries if applies(p)],
            )
        return got

    def rider_subsidy_yuan(
        self, rail: int, platform: str, t: float, riders: np.ndarray, day: int
    ) -> np.ndarray | None:
        """The announced rider subsidy (yuan) each of ``riders`` would receive for a ride
        paid on ``rail`` through ``platform`` at ``t``: the live policies whose daily cap
        she has not used up on ``day``. None when no rider policy is live."""
        policies = self.plan(rail, platform, t)[0]
        if not policies:
            return None
        total = np.zeros(len(riders))
        for p in policies:
            amount = p.mean_fen() / 100.0
            if p.cap is None or p.uses_day != day:
                total += amount
                continue
            uses = p.uses
            used = np.fromiter((uses.get(r, 0) for r in riders.tolist()), np.int64, len(riders))
            total += amount * (used < p.cap)
        return total

    def grant(self, p: ActivePolicy, user: int, t: float, day: int, fare_fen: int) -> int:
        """Fen that policy ``p`` (of the ride's ``plan``) pays ``user`` for one ride with
        this fare, caps and budgets applied (0: none)."""
        cap = p.cap
        if cap is not None:
            if day != p.uses_day:  # a new day: yesterday's counts are done with
                p.uses.clear()
                p.uses_day = day
            if p.uses.get(user, 0) >= cap:
                return 0
        fen = p.fixed_fen
        if fen is None:
            fen = p.rule.fen(fare_fen, self.rng)
        if not fen or (p.budgeted and not self._within_budget(p, day, fen)):
            return 0
        if cap is not None:
            n = p.uses[user] = p.uses.get(user, 0) + 1
            if n > p.most_uses:
                p.most_uses = n
        self._spend(p, day, fen, t)
        return fen

    def _within_budget(self, p: ActivePolicy, day: int, fen: int) -> bool:
        if p.total_budget_fen is not None and p.spent_fen + fen > p.total_budget_fen:
            return False
        return p.daily_budget_fen is None or p.spent_by_day[day] + fen <= p.daily_budget_fen

    def _spend(self, p: ActivePolicy, day: int, fen: int, t: float, ride: bool = True) -> None:
        """Book ``fen`` paid at ``t``; ``ride``: count it as a ride paid (a free ride was
        already counted when it was paid)."""
        p.spent_fen += fen
        p.spent_by_day[day] += fen
        p.paid_rides += ride
        if t < p.first_paid_s:
            p.first_paid_s = t
        if t > p.last_paid_s:
            p.last_paid_s = t

    def draw_free_rides(
        self,
        p: ActivePolicy,
        day: int,
        eligible: list[tuple[int, int, float]],
        rng: np.random.Generator,
    ) -> list[tuple[int, int]]:
        """Exactly N of the day's eligible (ride, refund fen), uniformly without
        replacement; the refund is what the rider paid for the fare after her subsidies.

        N is the day's scaled count; the fraction a sample leaves carries to the next day,
        so the full-city number of free rides is kept over time. Fewer eligible than N: all
        of them. A draw that the budget cannot cover in full
        is skipped, so the lottery never overspends.
        """
        due = p.free_rides_per_day + p.lottery_carry
        n = int(due + 1e-9)
        p.lottery_carry = due - n  # 200 a day at a 0.2% sample: 0.4 a day, 2 every 5 days
        if not eligible or n == 0:
            return []
        k = min(n, len(eligible))
        picks = rng.choice(len(eligible), size=k, replace=False)
        won = []
        for i in sorted(picks.tolist()):
            ride, refund, t_paid = eligible[i]
            if self._within_budget(p, day, refund):
                self._spend(p, day, refund, t_paid, ride=False)
                p.free_rides += 1
                won.append((ride, refund))
        return won

    def check(self) -> None:
        """Raise ``PolicyError`` if any policy paid outside its window, caps or budgets."""
        for p in self.policies:
            if p.spent_fen and not (p.start_s <= p.first_paid_s and p.last_paid_s < p.end_s):
                raise PolicyError(f"policy {p.id}: paid outside its window")
            if p.total_budget_fen is not None and p.spent_fen > p.total_budget_fen:
                raise PolicyError(f"policy {p.id}: spent {p.spent_fen} fen over its budget")
            if p.daily_budget_fen is not None:
                over = {d: s for d, s in p.spent_by_day.items() if s > p.daily_budget_fen}
                if over:
                    raise PolicyError(f"policy {p.id}: daily budget exceeded on days {over}")
            if p.cap is not None and p.most_uses > p.cap:
                raise PolicyError(f"policy {p.id}: a user was paid more than {p.cap} times a day")


def _scaled(yuan: float | None, sample: float) -> int | None:
    return None if yuan is None else yuan_to_fen(yuan * sample)
