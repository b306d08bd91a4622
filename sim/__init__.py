"""taxisim: a discrete-event simulator of taxi-hailing markets and payment-rail adoption.

import sim
res = sim.run("scenarios/default.yaml", seed=7)
res.summary["payment_share"], res.table("daily")
"""

from importlib import metadata

from sim.api import Results, run
from sim.errors import CityError, OutputExists, ScenarioError, SelfCheckError
from sim.registry import (
    register_city_kind,
    register_dispatch,
    register_driver_model,
    register_rider_model,
    register_subsidy_rule,
)
from sim.scenario.load import load_scenario

__all__ = [
    "CityError",
    "OutputExists",
    "Results",
    "ScenarioError",
    "SelfCheckError",
    "load_scenario",
    "register_city_kind",
    "register_dispatch",
    "register_driver_model",
    "register_rider_model",
    "register_subsidy_rule",
    "run",
]
try:
    __version__ = metadata.version("taxisim")  # the one version number lives in setup.cfg
except metadata.PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "unknown"
