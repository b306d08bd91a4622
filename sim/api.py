"""The public entry point: run a scenario and get its results, from a notebook or the CLI."""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.city.travel import build_city
from sim.engine.run import simulate
from sim.io import files as io
from sim.records.checks import verify
from sim.records.summary import summarize
from sim.registry import unknown_name
from sim.scenario.load import load_scenario, scenario_from_dict
from sim.scenario.spec import Scenario


@dataclass
class Results:
    """A finished run: its directory, its summary, and its tables on demand."""

    dir: Path
    summary: dict[str, Any]
    _tables: dict[str, dict[str, np.ndarray]] = field(default_factory=dict, repr=False)

    def table(self, name: str) -> dict[str, np.ndarray]:
        """A table of the run (``rides``, ``daily``, ``timeseries``, ``ledger_daily``, and
        ``ledger`` when kept) as columns whose types do not depend on the data: integer
        columns that are never blank are int64, integer columns that may be blank (rides'
        ``driver_id``, ``fare_fen``, ``free_ride``, ...) are float64 with NaN for blanks, as
        are measures, and text columns are str arrays with "" for blanks."""
        if name not in self._tables:
            self._check_name(name)
            self._tables[name] = io.read_columns(self.dir, name)
        return self._tables[name]

    def frame(self, name: str):
        """A table of the run as a pandas DataFrame, with the column types of ``table``
        (int64, float64 with NaN for blanks, text as str with "" for blanks)."""
        import pandas as pd

        return pd.DataFrame(self.table(name))

    def tables(self) -> list[str]:
        """Names of the tables this run wrote, for ``table`` and ``frame``."""
        return [n for n in io.SCHEMAS if self._file(n) is not None]

    def _file(self, name: str) -> Path | None:
        for ext in ("csv", "parquet"):
            if (self.dir / f"{name}.{ext}").is_file():
                return self.dir / f"{name}.{ext}"
        return None

    def _check_name(self, name: str) -> None:
        """``KeyError`` naming the tables there are, for a name that is not one of them."""
        if self._file(name) is None or name not in io.SCHEMAS:
            if name in io.SCHEMAS:
                have = ", ".join(self.tables()) or "none"
                why = f"{name!r}: not kept by this run (see the scenario's outputs); "
                raise KeyError(f"{why}this run's tables are {have}")
            raise KeyError(unknown_name("table", name, self.tables()))


def default_out(scenario: Scenario, overrides: list[str] | None = None) -> Path:
    """``runs/NAME-seedSEED``, or with ``--set`` overrides ``runs/NAME-seedSEED-HASH``
    (8 hex digits of the overrides as written): a rerun of the same command replaces its
    own directory, and a run with overrides never replaces the plain run's."""
    base = f"{scenario.name}-seed{scenario.seed}"
    if not overrides:
        return Path("runs") / base
    digest = hashlib.sha256("\n".join(overrides).encode("utf-8")).hexdigest()
    return Path("runs") / f"{base}-{digest[:8]}"


def resolve(
    scenario: Scenario | str | Path | dict[str, Any],
    seed: int | None = None,
    overrides: list[str] | None = None,
) -> tuple[Scenario, str | None]:
    """A validated scenario from a file, a mapping or a model, with seed and overrides."""
    if isinstance(scenario, str | Path):
        return load_scenario(scenario, overrides, seed), str(scenario)
    if isinstance(scenario, dict):
        return scenario_from_dict(scenario, overrides=overrides, seed=seed), None
    if seed is not None or overrides:
        return scenario_from_dict(
            scenario.model_dump(mode="json"), overrides=overrides, seed=seed
        ), None
    return scenario, None


def run(
    scenario: Scenario | str | Path | dict,
    out: str | Path | None = None,
    *,
    seed: int | None = None,
    overrides: list[str] | None = None,
    force: bool = False,
    progress: bool = False,
) -> Results:
    """Run one scenario and write its outputs to ``out`` atomically.

    ``scenario`` is a YAML file, a mapping of the same fields, or a ``Scenario``; ``seed``
    replaces its seed and ``overrides`` are ``"dotted.path=value"`` strings applied on top
    (as ``--set`` on the command line). ``force`` replaces a non-empty ``out``; without it
    such a directory raises ``OutputExists``. ``progress`` shows a progress bar on stderr.

    Without ``out`` the outputs go to a new temporary directory (handy in notebooks) that
    lives as long as the returned ``Results``: it is deleted once that object is garbage
    collected, or at interpreter exit, so copy ``res.dir`` or pass ``out`` to keep them.
    A directory given as ``out`` is never deleted.
    Raises ``ScenarioError``/``CityError`` for bad input, ``OutputExists`` for a non-empty
    target, and ``SelfCheckError`` when the run breaks one of its invariants.
    """
    scn, source = resolve(scenario, seed, overrides)
    temp: Path | None = None
    if out:
        target = io.real_target(Path(out))
    else:
        temp = Path(tempfile.mkdtemp(prefix=f"taxisim-{scn.name}-"))
        target = temp / "run"
    try:
        results = _run(scn, source, target, force, progress)
    except BaseException:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
        raise
    if temp is not None:
        weakref.finalize(results, shutil.rmtree, str(temp), ignore_errors=True)
    return results


def _run(scn: Scenario, source: str | None, target: Path, force: bool, progress: bool) -> Results:
    io.check_target(target, force)
    city = build_city(scn.city)
    staging = io.staging_dir(target)
    try:
        outcome = simulate(scn, staging, progress=progress, city=city)
        verify(outcome.ledger, outcome.book, outcome.stats, outcome.paid_by_rail)
        summary = summarize(outcome)
        io.write_tables(
            staging,
            outcome.timeseries,
            outcome.daily,
            outcome.demand,
            outcome.platforms,
            outcome.ledger,
        )
        io.write_json(staging / "summary.json", summary)
        io.write_json(staging / "manifest.json", io.manifest(scn, outcome.wall_s, source, city))
        if scn.outputs.plots:
            from sim.report.plots import write_plots

            write_plots(staging / "plots", scn, outcome.daily, outcome.timeseries)
        io.commit(staging, target, force)
    except BaseException:
        io.discard(staging)
        raise
    return Results(target, summary)
