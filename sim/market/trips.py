"""What a rider model is shown about a chunk of potential trips."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Trips:
    """What riders know about a chunk of potential trips (one row each)."""

    t: float  # the moment the chunk is decided (run seconds)
    riders: np.ndarray
    fare_yuan: np.ndarray
    reference_fare_yuan: np.ndarray
    subsidy_yuan: np.ndarray  # (n, platforms)
    wait_s: np.ndarray  # (n, 1 + platforms): the street, then each app
    installed: np.ndarray  # (n, platforms) bool
    app_habit: np.ndarray  # (n, platforms)
