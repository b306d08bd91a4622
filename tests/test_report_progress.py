"""The run's progress bar: simulated date, rides per second, time left; closed at the end."""

from __future__ import annotations

import io
from datetime import datetime

from sim.core.progress import RunProgress


def test_the_bar_shows_the_simulated_date_and_rides_per_second_then_clears():
    out = io.StringIO()
    bar = RunProgress(2 * 86400.0, datetime(2013, 12, 1), file=out)
    bar.bar.mininterval = 0  # draw every update
    bar.update(86400.0 + 3600.0, 1200)
    text = out.getvalue()
    assert "2013-12-02 01:00 · " in text and " rides/s " in text and "52%|" in text
    assert "<" in text.rsplit("[", 1)[1]  # elapsed<remaining: the time left
    bar.close()
    assert bar.closed and out.getvalue().endswith("\r")  # the line is cleared, not left
    bar.update(2 * 86400.0, 2000)  # a late sample after the close draws nothing
    bar.close()
