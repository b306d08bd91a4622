"""The metric names a sweep's runs will report, found before the sweep by a tiny run."""

from __future__ import annotations

import json
from typing import Any

from sim.records.summary import flatten


def probe_metrics(scenario: dict[str, Any]) -> set[str] | None:
    """The metric names a run of ``scenario`` reports, from a five-day run of a tiny sample
    of it (a few hundredths of a second): names depend on the rails, channels and policies
    and on the run being long enough for a Bass fit, not on the city's size. None when the
    shrunken scenario cannot run; the names are then checked only after the sweep."""
    from sim.city.travel import build_city
    from sim.engine.run import simulate
    from sim.records.summary import summarize
    from sim.scenario.load import apply_override, scenario_from_dict

    data = json.loads(json.dumps(scenario))
    try:
        apply_override(data, ["duration"], "5d")
        sample = data.get("population", {}).get("sample", 1.0)
        apply_override(data, ["population", "sample"], min(float(sample), 1e-4))
        # no travel-time matrices: a few trips' searches, not minutes of all-pairs paths
        apply_override(data, ["city", "max_matrix_nodes"], 1)
        scn = scenario_from_dict(data, "<probe>")
        return set(flatten(summarize(simulate(scn, None, city=build_city(scn.city)))))
    except Exception:  # the runs themselves will report what is wrong
        return None
