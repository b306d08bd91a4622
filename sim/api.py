"""The public entry point: run a scenario and get its results, from a notebook or the CLI."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim import io
from sim.checks import verify
from sim.city import build_city
from sim.engine import simulate
from sim.scenario import load_scenario, scenario_from_dict
from sim.schema import Scenario
from sim.summary import summarize


@dataclass
class Results:
    """A finished run: its directory, its summary, and its tables on demand."""

    dir: Path
    summary: dict[str, Any]
    _tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    def table(self, name: str) -> dict[str, np.ndarray]:
        """A table of the run (``rides``, ``daily``, ``timeseries``, ``ledger_daily``)."""
        if name not in self._tables:
            self._tables[name] = io.read_columns(self.dir, name)
        return self._tables[name]


def default_out(scenario: Scenario) -> Path:
    return Path("runs") / f"{scenario.name}-seed{scenario.seed}"


def resolve(scenario: Scenario | str | Path, seed: int | None = None,
            overrides: list[str] | None = None) -> tuple[Scenario, str | None]:
    """A validated scenario from a file, a mapping or a model, with seed and overrides."""
    if isinstance(scenario, str | Path):
        return load_scenario(scenario, overrides, seed), str(scenario)
    if isinstance(scenario, dict):
        return scenario_from_dict(scenario, overrides=overrides, seed=seed), None
    if seed is not None or overrides:
        return scenario_from_dict(scenario.model_dump(mode="json"), overrides=overrides,
                                  seed=seed), None
    return scenario, None


def run(scenario: Scenario | str | Path | dict, out: str | Path | None = None, *,
        seed: int | None = None, overrides: list[str] | None = None, force: bool = False,
        progress: bool = False) -> Results:
    """Run one scenario and write its outputs to ``out`` atomically.

    Without ``out`` the outputs go to a new temporary directory (handy in notebooks).
    Raises ``ScenarioError``/``CityError`` for bad input, ``OutputExists`` for a non-empty
    target, and ``SelfCheckError`` when the run breaks one of its invariants.
    """
    scn, source = resolve(scenario, seed, overrides)
    target = Path(out) if out else Path(tempfile.mkdtemp(prefix=f"taxisim-{scn.name}-")) / "run"
    io.check_target(target, force)
    city = build_city(scn.city)
    staging = io.staging_dir(target)
    try:
        outcome = simulate(scn, staging, progress=progress, city=city)
        verify(outcome.world)
        summary = summarize(outcome)
        io.write_tables(outcome.world, staging)
        io.write_json(staging / "summary.json", summary)
        io.write_json(staging / "manifest.json", io.manifest(scn, outcome.wall_s, source))
        if scn.outputs.plots:
            from sim.plots import write_plots

            write_plots(outcome.world, staging / "plots")
        io.commit(staging, target)
    except BaseException:
        io.discard(staging)
        raise
    return Results(target, summary)
