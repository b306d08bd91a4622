"""The command line's parser: every command, its options and their help."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

# The project's own scenarios (an editable install or a source checkout).
HERE = Path(__file__).resolve().parents[2]

DEFAULT_SCENARIO = HERE / "scenarios" / "default.yaml"


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1 (got {text!r})")
    return int(text)


DESCRIPTION = (
    "Simulate taxi hailing and the adoption of mobile payment rails. Without a "
    "command, runs scenarios/default.yaml."
)

EPILOG = "exit codes: 0 done, 1 internal failure or broken self-check, 2 bad input, 130/143 stopped"

SCENARIO_HELP = "scenario YAML file"

RUN_DIR_HELP = "directory of a finished run (written by run or by a sweep)"


def build_parser() -> argparse.ArgumentParser:
    """Every command and its options (``--help`` reads them)."""
    p = argparse.ArgumentParser(prog="taxisim", description=DESCRIPTION, epilog=EPILOG)
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run a scenario file")
    run.add_argument("file", type=Path, help=SCENARIO_HELP)
    run.add_argument("--seed", type=int, help="replace the scenario's seed")
    run.add_argument(
        "--out",
        type=Path,
        help="output directory (default runs/NAME-seedSEED, "
        "plus -HASH with --set; replaced on a rerun of the same command)",
    )
    run.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field, e.g. fleet.drivers=800",
    )
    run.add_argument("--force", action="store_true", help="replace a non-empty output dir")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    run.add_argument(
        "--format",
        choices=("csv", "parquet"),
        default="csv",
        help="format of the ride and ledger tables (parquet needs pyarrow)",
    )
    val = sub.add_parser(
        "validate",
        help="check a scenario file and its city, every run of a sweep file, or a calibration, "
        "optimize or game file and its metrics, without running it",
    )
    val.add_argument(
        "file", type=Path, help="scenario, sweep, calibration, optimize or game YAML file"
    )
    val.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field, e.g. fleet.drivers=800",
    )
    sw = _cluster_command(
        sub, "sweep", "run a grid of scenarios with replications on Dask", "sweep-NAME", "sweep's"
    )
    sw.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field of every run's base, after the sweep file's overrides",
    )
    _cluster_command(
        sub,
        "calibrate",
        "fit scenario parameters to target figures (optuna trials on Dask)",
        "calibrate-NAME",
        "sweep's or calibration's",
    )
    _cluster_command(
        sub,
        "optimize",
        "the cheapest (or best) policy meeting targets (optuna on Dask)",
        "optimize-NAME",
        "sweep's or search's",
    )
    _cluster_command(
        sub,
        "game",
        "two platforms' iterated best responses to each other's policies",
        "game-NAME",
        "sweep's or search's",
    )
    cmp = sub.add_parser("compare", help="overlay adoption curves and waits of several runs")
    cmp.add_argument("dirs", nargs="+", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
    cmp.add_argument(
        "--out",
        type=Path,
        default=Path("compare.png"),
        help="figure to write: a .png, .svg or .pdf file (default compare.png)",
    )
    cmp.add_argument(
        "--label",
        dest="labels",
        action="append",
        metavar="NAME",
        help="name of each run in the legend, once per run in order (default: directory names)",
    )
    rep = sub.add_parser(
        "report", help="write one self-contained interactive HTML report of one or more runs"
    )
    rep.add_argument(
        "dirs",
        nargs="+",
        type=Path,
        metavar="RUN_DIR",
        help=f"{RUN_DIR_HELP}, or one calibration or optimize directory",
    )
    rep.add_argument(
        "--baseline",
        type=Path,
        metavar="RUN_DIR",
        help="the counterfactual run: every other run is measured against it",
    )
    rep.add_argument(
        "--label",
        dest="labels",
        action="append",
        metavar="NAME",
        help="name of each run, once per RUN_DIR in order (default: directory names)",
    )
    rep.add_argument(
        "--out",
        type=Path,
        help="HTML file (default RUN_DIR/report.html for one run, ./report.html for several)",
    )
    rep.add_argument(
        "--calibration",
        type=Path,
        metavar="DIR",
        help="a calibration directory (written by calibrate): the model against the record",
    )
    rep.add_argument(
        "--map",
        default="07:00-10:00",
        metavar="[DATE ]HH:MM-HH:MM",
        help="window of the animated map of each run with a ride table (default 07:00-10:00 "
        "on the first day; 'none': no map)",
    )
    lab = sub.add_parser(
        "lab", help="a local browser app: policy knobs as controls, curves redrawn as it runs"
    )
    lab.add_argument(
        "file",
        nargs="?",
        type=Path,
        default=DEFAULT_SCENARIO,
        help="scenario (default: default.yaml)",
    )
    lab.add_argument(
        "--port", type=_positive, default=5006, help="port on 127.0.0.1 (default 5006)"
    )
    lab.add_argument(
        "--sample", type=float, default=0.005, help="share of the city simulated (default 0.005)"
    )
    lab.add_argument("--days", type=_positive, default=40, help="days simulated (default 40)")
    return p


def _cluster_command(
    sub: argparse._SubParsersAction, name: str, help_text: str, default_dir: str, others: str
) -> argparse.ArgumentParser:
    """A command that runs a file's many runs on Dask (``sweep``, ``calibrate``,
    ``optimize``, ``game``): the file, workers or a scheduler, its directory."""
    p = sub.add_parser(name, help=help_text)
    p.add_argument("file", type=Path, help=f"{name} YAML file")
    p.add_argument(
        "--workers",
        type=_positive,
        default=os.cpu_count() or 1,
        help="worker processes of the local cluster (default: one per core)",
    )
    p.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="use a running Dask scheduler instead of a local cluster",
    )
    p.add_argument(
        "--out", type=Path, help=f"directory (default runs/{default_dir}); a rerun resumes it"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help=f"use a directory that holds another {others} results (replaced)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p
