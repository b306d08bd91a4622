"""What riders have learned about waiting: an expected wait per zone and hailing channel.

Riders do not know the fleet's state; they know how long recent hails in their zone took.
Each pickup updates the zone's estimate for its channel by exponential smoothing, and a
rider who gave up adds the time she waited (a lower bound of the wait she would have had).
Estimates start at the reference wait, so the first days of a run are the reference
conditions until experience says otherwise.
"""

from __future__ import annotations

import numpy as np


class WaitBook:
    """Expected seconds from request to pickup, by zone (a spatial cell) and channel
    (0 the street, 1 + k app platform k)."""

    def __init__(self, n_zones: int, n_channels: int, prior_s: float, rate: float) -> None:
        self.n_channels = n_channels
        self.rate = rate
        self.keep = 1.0 - rate
        self._w = [prior_s] * (n_zones * n_channels)  # flat list: the hot path writes it

    def observe(self, zone: int, channel: int, wait_s: float) -> None:
        i = zone * self.n_channels + channel
        w = self._w
        w[i] = self.keep * w[i] + self.rate * wait_s

    def expected(self, zones: np.ndarray) -> np.ndarray:
        """(len(zones), channels) expected waits in seconds, for a chunk of requests."""
        table = np.asarray(self._w).reshape(-1, self.n_channels)
        return table[zones]
