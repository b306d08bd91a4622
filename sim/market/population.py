"""Riders and drivers who persist across days, as arrays indexed by person.

What each person has (apps installed, cards bound, rails accepted, habits) lives here;
the rules that change it live in ``sim.money.rails`` (per ride) and ``sim.market.adoption``
(per day).
Bit j of a rail mask stands for rail j of ``payment.rails``; bit 0 (cash) is always set.
"""

from __future__ import annotations

import numpy as np

from sim.scenario.spec import Scenario


def rail_mask(flags: np.ndarray) -> np.ndarray:
    """Pack a (people, rails) bool array into one integer mask per person."""
    packed = np.packbits(flags, axis=1, bitorder="little").astype(np.int64)
    out = np.zeros(len(flags), dtype=np.int64)
    for i in range(packed.shape[1]):
        out |= packed[:, i] << (8 * i)
    return out


def _columns(cols: list[np.ndarray], n: int) -> np.ndarray:
    """Stack boolean columns into an (n, len(cols)) array, also when there are none."""
    return np.stack(cols, axis=1) if cols else np.zeros((n, 0), dtype=bool)


class Population:
    """The run's riders and drivers (already scaled by ``population.sample``)."""

    # Bit masks per person (see ``refresh_masks``), lists for the hot loop's reads.
    rider_mask: list[int]  # rails each rider has bound
    driver_mask: list[int]  # rails each driver accepts
    driver_app_mask: list[int]  # apps each driver runs

    def __init__(self, scenario: Scenario, n_drivers: int, rng: np.random.Generator) -> None:
        pop = scenario.population
        rails = scenario.payment.rails
        self.rail_ids = [r.id for r in rails]
        self.platforms = list(pop.platforms)
        sample = pop.sample
        n_riders = pop.riders or scenario.demand.daily_requests / pop.rides_per_rider_day
        self.n_riders = max(1, int(round(n_riders * sample)))
        self.n_drivers = n_drivers
        r, n_r = len(rails), self.n_riders
        # Ride propensity: gamma-distributed, so some riders ride often and most rarely.
        self.propensity = rng.gamma(pop.propensity_shape, 1.0, n_r)
        self._cum = np.cumsum(self.propensity)
        self.rider_apps = _columns(
            [rng.random(n_r) < pop.riders_apps.get(p, 0.0) for p in self.platforms], n_r
        )
        self.driver_apps = _columns(
            [rng.random(n_drivers) < pop.drivers_apps.get(p, 0.0) for p in self.platforms],
            n_drivers,
        )  # the apps each driver runs today
        self.driver_aware = self.driver_apps.copy()  # the apps he knows (has installed)
        bound = scenario.payment.riders_bound
        accepting = scenario.payment.drivers_accepting
        self.bound = np.stack(
            [
                np.ones(n_r, bool) if rl.id == "cash" else rng.random(n_r) < bound.get(rl.id, 0.0)
                for rl in rails
            ],
            axis=1,
        ).reshape(n_r, r)
        self.accepts = np.stack(
            [
                np.ones(n_drivers, bool)
                if rl.id == "cash"
                else rng.random(n_drivers) < accepting.get(rl.id, 0.0)
                for rl in rails
            ],
            axis=1,
        ).reshape(n_drivers, r)
        self.habit = np.zeros((n_r, r))
        self.app_habit = np.zeros((n_r, len(self.platforms)))  # habit of hailing by app
        self.last_rail = [-1] * n_r  # the rail of her last payment (-1: none yet)
        # Riders who keep a favourite driver (seed: regular passengers as WeChat contacts).
        share = scenario.dispatch.prebook.riders_share
        self.favourite = (
            np.where(rng.random(n_r) < share, rng.integers(0, n_drivers, n_r), -1)
            if share > 0
            else np.full(n_r, -1)
        )
        self._mask_arrays: dict[str, np.ndarray] = {}
        self.refresh_masks()

    def refresh_masks(self) -> None:
        """Bring the per-person masks the hot loop reads up to date (after any daily
        update). Only the entries that changed are rewritten: a day costs its changes,
        not a new list of every rider."""
        for name, flags in (
            ("rider_mask", self.bound),
            ("driver_mask", self.accepts),
            ("driver_app_mask", self.driver_apps),
        ):
            new = rail_mask(flags)
            old = self._mask_arrays.get(name)
            if old is None:
                setattr(self, name, new.tolist())
            else:
                masks = getattr(self, name)
                changed = np.flatnonzero(new != old)
                for i, m in zip(changed.tolist(), new[changed].tolist(), strict=True):
                    masks[i] = m
            self._mask_arrays[name] = new

    def draw_riders(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Riders of ``n`` requests, each drawn in proportion to ride propensity (looked
        up in sorted order, which walks a city's millions of riders once, not at random)."""
        u = rng.random(n) * self._cum[-1]
        order = np.argsort(u)
        riders = np.empty(n, dtype=np.intp)
        riders[order] = np.searchsorted(self._cum, u[order], side="right")
        return riders
