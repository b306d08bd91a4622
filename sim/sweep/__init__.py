"""Grids of runs on Dask: the sweep file, its directory and resume rules, the cluster, and the
tables of results."""

from sim.errors import SweepError
from sim.sweep.runner import SweepResult, run_sweep

__all__ = ["SweepError", "SweepResult", "run_sweep"]
