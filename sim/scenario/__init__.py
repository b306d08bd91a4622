"""The scenario as data: strict pydantic models of every section, the YAML loader with
``extends`` and ``--set`` overrides. Imports only ``sim.errors`` and ``sim.registry``."""

from sim.scenario.load import load_scenario, scenario_from_dict
from sim.scenario.spec import Scenario

__all__ = ["Scenario", "load_scenario", "scenario_from_dict"]
