"""Calibration: fit scenario parameters to figures of the record (a targets CSV) with the
search loop of ``sim.search``; writes the fitted scenario, a figure and a report section."""

from sim.calibrate.run import TargetLoss, run_calibration
from sim.calibrate.spec import read_calibration
from sim.calibrate.targets import read_targets

__all__ = ["TargetLoss", "read_calibration", "read_targets", "run_calibration"]
