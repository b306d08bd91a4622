"""Searches over scenario parameters: a library optimiser proposes trials, each trial's
replications run on the sweep's Dask machinery, an objective scores them. Calibration is
one objective; any other (an optimal policy) plugs into the same loop."""

from sim.search.space import Param, check_space
from sim.search.study import Objective, SearchPlan, SearchResult, Trial, run_search

__all__ = [
    "Objective",
    "Param",
    "SearchPlan",
    "SearchResult",
    "Trial",
    "check_space",
    "run_search",
]
