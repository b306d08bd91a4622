"""The progress bar of a run on the terminal: the simulated date, rides per second of wall
time and the time left, on stderr; closed (and its line cleared) when the run ends, so
nothing printed afterwards lands on it."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

BAR_FORMAT = "{desc} {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]"


class RunProgress:
    """A tqdm bar over simulated seconds, described by the simulated date and hour."""

    def __init__(self, total_s: float, start: datetime, file=None) -> None:
        from tqdm import tqdm

        self.start = start
        self.t0 = time.perf_counter()
        self.bar = tqdm(
            total=total_s,
            leave=False,
            mininterval=0.5,
            bar_format=BAR_FORMAT,
            desc=self.date(0.0),
            dynamic_ncols=True,
            file=file,
        )
        self.closed = False

    def date(self, now_s: float) -> str:
        return (self.start + timedelta(seconds=now_s)).strftime("%Y-%m-%d %H:%M")

    def update(self, now_s: float, rides: int) -> None:
        """Move to simulated second ``now_s`` with ``rides`` completed so far."""
        if self.closed:
            return
        wall = max(time.perf_counter() - self.t0, 1e-9)
        self.bar.set_description_str(
            f"{self.date(now_s)} · {rides / wall:,.0f} rides/s", refresh=False
        )
        self.bar.update(max(0.0, min(now_s, self.bar.total) - self.bar.n))

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.bar.close()
