"""Durations (waits, pickup and busy times) summarised in memory that stops growing.

A run appends one value per ride to a typed array, the cheapest thing a hot loop can do.
Up to ``EXACT`` values are kept as they are and the quantiles are numpy's. Past that, at
each ``compact`` (the day clock calls it at midnight), they are folded into a histogram of
``BIN_S`` bins that also sums the values in each bin; values beyond ``SPAN_S`` are kept
exactly aside. A season of twenty million rides then holds a few MB, not a GB. Count,
mean, minimum and the count above zero stay exact; a quantile reads each order statistic
as the mean of its bin, so it is off by less than ``BIN_S`` and exact where a bin holds one
value only (zero waits, whole-second pickups). Durations beyond ``SPAN_S`` are rare
(waits of riders who never give up, in a city that cannot serve them); they are the one
part that still grows with the rides.
"""

from __future__ import annotations

from array import array

import numpy as np

EXACT = 1 << 20  # values kept exactly before the first fold
BIN_S = 0.1  # histogram resolution, seconds
SPAN_S = 6 * 3600.0  # the histogram's range; longer durations are kept exactly
N_BINS = round(SPAN_S / BIN_S)  # bins of the histogram


class Durations:
    """A stream of durations in seconds: ``append`` one, ``describe`` them all."""

    def __init__(self) -> None:
        self.values = array("d")
        self.append = self.values.append  # the hot path: a bound C method
        self.counts: np.ndarray | None = None  # histogram of folded values
        self.sums: np.ndarray | None = None  # sum of the folded values in each bin
        self.long = array("d")  # folded values beyond SPAN_S, exact
        self.n_folded = 0
        self.sum_folded = 0.0
        self.min_folded = np.inf
        self.positive_folded = 0

    def __len__(self) -> int:
        return self.n_folded + len(self.values)

    def compact(self) -> None:
        """Fold the values into the histogram once there are more than ``EXACT``."""
        if len(self) > EXACT:
            self._fold(np.array(self.values, dtype=float))
            del self.values[:]

    def _fold(self, x: np.ndarray) -> None:
        if self.counts is None:
            self.counts = np.zeros(N_BINS, dtype=np.int64)
            self.sums = np.zeros(len(self.counts))
        self.n_folded += len(x)
        self.sum_folded += float(x.sum())
        self.min_folded = min(self.min_folded, float(x.min(initial=np.inf)))
        self.positive_folded += int(np.count_nonzero(x > 0))
        counts, sums, long = self._binned(x)
        self.counts += counts
        self.sums += sums
        self.long.extend(long.tolist())

    def _binned(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Counts and sums of ``x`` per histogram bin, and the values beyond ``SPAN_S``."""
        inside = x < SPAN_S
        n = N_BINS
        bins = np.clip((x[inside] / BIN_S).astype(np.int64), 0, n - 1)
        return (
            np.bincount(bins, minlength=n),
            np.bincount(bins, weights=x[inside], minlength=n),
            x[~inside],
        )

    def _rest(self) -> np.ndarray:
        return np.array(self.values, dtype=float)

    def total(self) -> float:
        return self.sum_folded + float(self._rest().sum())

    def minimum(self) -> float | None:
        low = min(self.min_folded, float(self._rest().min(initial=np.inf)))
        return None if low == np.inf else low

    def positive(self) -> int:
        """How many durations were above zero (a rider who waited at all)."""
        return self.positive_folded + int(np.count_nonzero(self._rest() > 0))

    def describe(self, quantiles: tuple[float, ...] = (0.5, 0.9)) -> dict[str, float | None]:
        """Mean and quantiles, rounded for JSON; None when empty."""
        keys = [f"p{round(q * 100)}" for q in quantiles]
        if not len(self):
            return {"mean": None, **dict.fromkeys(keys)}
        if self.counts is None:
            x = self._rest()
            mean, values = float(x.mean()), np.quantile(x, quantiles).tolist()
        else:
            mean, values = self.total() / len(self), self._folded_quantiles(quantiles)
        return {
            "mean": round(mean, 3),
            **{k: round(v, 3) for k, v in zip(keys, values, strict=True)},
        }

    def _folded_quantiles(self, quantiles: tuple[float, ...]) -> list[float]:
        """numpy's linear-interpolation quantiles, each order statistic read as the mean
        of its histogram bin (exact beyond ``SPAN_S``)."""
        counts, sums, long = self._binned(self._rest())
        counts, sums = counts + self.counts, sums + self.sums
        cum = np.cumsum(counts)
        long = np.sort(np.concatenate([np.array(self.long, dtype=float), long]))
        n_hist = int(cum[-1])

        def order_statistic(k: int) -> float:
            if k < n_hist:
                b = int(np.searchsorted(cum, k, side="right"))
                return float(sums[b] / counts[b])
            return float(long[k - n_hist])

        out = []
        for q in quantiles:
            h = q * (len(self) - 1)
            lo = int(h)
            v = order_statistic(lo)
            if h > lo:
                v += (h - lo) * (order_statistic(lo + 1) - v)
            out.append(v)
        return out
