"""Command line of the taxi-hailing simulator: parse, call ``sim``, map failures to exit codes.

    python run_sim.py                       # the default scenario, summary table on stdout
    python run_sim.py run FILE [--seed N] [--out DIR] [--set path=value]... [--quiet]
    python run_sim.py validate FILE [--set path=value]...   # a scenario, sweep or calibration
    python run_sim.py sweep SWEEP.yaml [--workers N | --scheduler tcp://HOST:PORT] [--out DIR]
                                       [--set path=value]...
    python run_sim.py calibrate CALIBRATION.yaml [--workers N | --scheduler URL] [--out DIR]
    python run_sim.py optimize OPTIMIZE.yaml [--workers N | --scheduler URL] [--out DIR]
    python run_sim.py game GAME.yaml [--workers N | --scheduler URL] [--out DIR]
    python run_sim.py compare RUN_DIR... [--label NAME]... [--out FILE.png|.svg|.pdf]
    python run_sim.py report RUN_DIR... [--baseline RUN_DIR] [--calibration DIR] [--out FILE.html]
    python run_sim.py report CALIBRATION_DIR    # its best run, and the model against the record
    python run_sim.py lab [FILE] [--port N]     # a browser app on 127.0.0.1

Exit codes: 0 done, 1 internal failure or broken self-check, 2 bad input, 130/143 stopped.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
from pathlib import Path

# The project's own scenarios (an editable install or a source checkout).
HERE = Path(__file__).resolve().parents[1]
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


def _parser() -> argparse.ArgumentParser:
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
        help="check a scenario file and its city, every run of a sweep file, or a calibration "
        "file and its targets, without running it",
    )
    val.add_argument("file", type=Path, help="scenario, sweep or calibration YAML file")
    val.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field, e.g. fleet.drivers=800",
    )
    sw = sub.add_parser("sweep", help="run a grid of scenarios with replications on Dask")
    sw.add_argument("file", type=Path, help="sweep YAML file")
    sw.add_argument(
        "--workers",
        type=_positive,
        default=os.cpu_count() or 1,
        help="worker processes of the local cluster (default: one per core)",
    )
    sw.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="use a running Dask scheduler instead of a local cluster",
    )
    sw.add_argument(
        "--out", type=Path, help="sweep directory (default runs/sweep-NAME); a rerun resumes it"
    )
    sw.add_argument(
        "--force",
        action="store_true",
        help="use a directory that holds another sweep's results (replaced)",
    )
    sw.add_argument("--quiet", action="store_true", help="no progress bar")
    sw.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="PATH=VALUE",
        help="override a field of every run's base, after the sweep file's overrides",
    )
    cal = sub.add_parser(
        "calibrate", help="fit scenario parameters to target figures (optuna trials on Dask)"
    )
    cal.add_argument("file", type=Path, help="calibration YAML file")
    cal.add_argument(
        "--workers",
        type=_positive,
        default=os.cpu_count() or 1,
        help="worker processes of the local cluster (default: one per core)",
    )
    cal.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="use a running Dask scheduler instead of a local cluster",
    )
    cal.add_argument(
        "--out",
        type=Path,
        help="calibration directory (default runs/calibrate-NAME); a rerun resumes it",
    )
    cal.add_argument(
        "--force",
        action="store_true",
        help="use a directory that holds another sweep's or calibration's results (replaced)",
    )
    cal.add_argument("--quiet", action="store_true", help="no progress bar")
    _search_parser(
        sub, "optimize", "the cheapest (or best) policy meeting targets (optuna on Dask)"
    )
    _search_parser(sub, "game", "two platforms' iterated best responses to each other's policies")
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
        help=f"{RUN_DIR_HELP}, or one calibration directory (written by calibrate)",
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


def _search_parser(sub, name: str, help_text: str) -> None:
    """The parser of ``optimize`` and ``game``: a file, workers or a scheduler, a directory."""
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
        "--out", type=Path, help=f"directory (default runs/{name}-NAME); a rerun resumes it"
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="use a directory that holds another sweep's or search's results (replaced)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _policy(args) -> int:
    """``optimize`` and ``game``: the same options, the same ending."""
    from sim.policy import run_game, run_optimize

    options = {
        "workers": args.workers,
        "scheduler": args.scheduler,
        "progress": not args.quiet and sys.stderr.isatty(),
        "log": print,
        "force": args.force,
    }
    if args.command == "optimize":
        res, found = run_optimize(args.file, args.out, **options)
        out, failed = res.dir, found.status == "failed"
    else:
        game = run_game(args.file, args.out, **options)
        out, failed = game.dir, game.status == "failed"
    print(f"outputs: {out}")
    if failed:
        print(f"error: no trial finished; see {out}", file=sys.stderr)
        return 1
    return 0


def _lab(args) -> int:
    from sim.errors import BadInput
    from sim.lab import serve

    if not 0 < args.sample <= 1:
        raise BadInput(f"--sample must be above 0 and at most 1 (got {args.sample})")
    serve(args.file, args.port, args.sample, args.days)
    return 0


def _errors(lines: list[str]) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return 2


def _unwritten(args) -> str:
    if args.command == "sweep":
        return "finished runs are kept; run the sweep again to resume it"
    if args.command == "calibrate":
        return "finished runs are kept; run the calibration again to resume it"
    if args.command in ("optimize", "game"):
        return f"finished runs are kept; run the {args.command} again to resume it"
    if args.command == "lab":
        return "the lab has stopped"
    return "no outputs were written"


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _check_city(scenario) -> None:
    """The city checks of a run (graph file, connectivity, places, cells) without its
    travel-time matrices, which take minutes on a big graph; raises ``CityError``."""
    from sim.city.travel import build_city

    build_city(scenario.city, matrices=False)


def _run(args, scenario) -> int:
    from sim.api import default_out, run
    from sim.report.text import summary_table

    # The default directory belongs to this scenario and seed: a rerun replaces it.
    out = args.out or default_out(scenario, args.overrides)
    force = args.force or args.out is None
    progress = not args.quiet and sys.stderr.isatty()
    if args.format == "parquet":
        from sim.io import files as io

        io.require_parquet()
        out = io.real_target(out)
        io.check_target(out, force)
        hidden = out.parent / f".{out.name}.csv-{os.getpid()}"
        try:  # written and converted under a hidden name, then renamed into place
            results = run(
                args.file, hidden, seed=args.seed, overrides=args.overrides, progress=progress
            )
            io.tables_to_parquet(hidden)
            io.commit(hidden, out, force)
        except BaseException:
            io.discard(hidden)
            raise
        results.dir = out
    else:
        # the file, not the loaded scenario: the manifest records it and what it extends
        results = run(
            args.file, out, seed=args.seed, overrides=args.overrides, force=force, progress=progress
        )
    if not args.quiet:
        print(summary_table(results.summary))
    print(f"outputs: {results.dir}")
    return 0


def _sweep(args) -> int:
    from sim.sweep.runner import run_sweep

    out = args.out or Path("runs") / f"sweep-{args.file.stem}"
    res = run_sweep(
        args.file,
        out,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet and sys.stderr.isatty(),
        log=print,
        force=args.force,
        overrides=args.overrides,
    )
    print(f"outputs: {res.dir}")
    if res.failed:
        print(
            f"error: {res.failed} of {res.runs} runs failed; see {res.dir / 'failures.json'}",
            file=sys.stderr,
        )
        return 1
    return 0


def _calibrate(args) -> int:
    from sim.calibrate.run import run_calibration

    res = run_calibration(
        args.file,
        args.out,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=not args.quiet and sys.stderr.isatty(),
        log=print,
        force=args.force,
    )
    print(f"outputs: {res.dir}")
    if not res.ranked():
        print(f"error: no trial finished; see {res.dir / 'trials.csv'}", file=sys.stderr)
        return 1
    return 0


def _compare(args) -> int:
    from sim.report.compare import write_compare

    print(f"outputs: {write_compare(args.dirs, args.out, args.labels)}")
    return 0


def _report(args) -> int:
    from sim.report.html import write_report

    window = None if args.map.lower() == "none" else args.map
    out = write_report(
        args.dirs,
        args.out,
        baseline=args.baseline,
        labels=args.labels,
        map_window=window,
        calibration=args.calibration,
    )
    print(f"outputs: {out}")
    return 0


def _file_kind(path: Path) -> str:
    """``sweep`` for a file that names its ``base`` scenario and no section of a scenario
    (a scenario with a stray ``base:`` is a scenario with an unknown key), ``calibration``
    if it also names ``targets``, else ``scenario``; anything unreadable is left to the
    scenario loader to report."""
    from sim.errors import ScenarioError
    from sim.scenario.spec import Scenario
    from sim.scenario.yamlfile import read_yaml_file

    try:
        data = read_yaml_file(path)
    except ScenarioError:
        return "scenario"  # load_scenario says what is wrong, in its words
    scenario_only = set(Scenario.model_fields) - {"seed"}
    if not isinstance(data, dict) or "base" not in data or set(data) & scenario_only:
        return "scenario"
    for kind, key in (("calibration", "targets"), ("optimize", "objectives"), ("game", "players")):
        if key in data:
            return kind
    return "sweep"


def _validate_sweep(args) -> int:
    """Plan every run of a sweep (each scenario resolved and validated) and check its
    metrics, as ``sweep`` does before it starts, without running anything."""
    import json

    from sim.scenario.load import scenario_from_dict
    from sim.sweep.runner import check_metrics, plan, read_spec, with_overrides

    spec = read_spec(args.file)
    if args.overrides:
        spec = with_overrides(spec, args.file.parent, str(args.file), args.overrides)
    tasks = plan(spec, args.file.parent, str(args.file), Path("runs") / "validate")
    cities = {json.dumps(t.scenario["city"], sort_keys=True): t.scenario for t in tasks}
    for scenario in cities.values():  # each distinct city checked as run checks it
        _check_city(scenario_from_dict(scenario, str(args.file)))
    check_metrics(spec, tasks, str(args.file))
    print(
        f"ok: {args.file}: sweep of {len(tasks)} runs ({len(tasks) // spec.replications}"
        f" points x {spec.replications} replications) is valid"
    )
    return 0


def _validate_calibration(args) -> int:
    """Check a calibration file, its base, its parameters and its targets (on a tiny run),
    as ``calibrate`` does before it starts, without running any trial."""
    from sim.calibrate.spec import read_calibration

    cal = read_calibration(args.file)
    print(
        f"ok: {args.file}: calibration of {len(cal.spec.params)} parameters to "
        f"{len(cal.targets)} targets is valid"
    )
    return 0


def _validate_policy(args, kind: str) -> int:
    """Check an optimize or game file, its base, its parameters and its metrics (on a
    tiny run), as the command does before it starts, without running any trial."""
    from sim.policy import read_game, read_optimize

    loaded = (read_optimize if kind == "optimize" else read_game)(args.file)
    print(f"ok: {args.file}: {kind} file over {loaded.spec.base} is valid")
    return 0


def _source(args) -> Path:
    return getattr(args, "file", None) or getattr(args, "dir", None) or args.dirs[0]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", str(DEFAULT_SCENARIO), *argv]  # no command: the default scenario
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    if hasattr(signal, "SIGHUP"):  # the terminal went away: stop as cleanly as for SIGTERM
        signal.signal(signal.SIGHUP, _terminate)

    from sim.errors import BadInput, CityError, OutputExists, ScenarioError, SelfCheckError
    from sim.scenario.load import load_scenario

    commands = {
        "sweep": _sweep,
        "calibrate": _calibrate,
        "optimize": _policy,
        "game": _policy,
        "compare": _compare,
        "report": _report,
        "lab": _lab,
    }
    try:
        if args.command in commands:
            return commands[args.command](args)
        kind = _file_kind(args.file) if args.command == "validate" else "scenario"
        if kind == "calibration" and args.overrides:
            raise BadInput(
                f"{args.file}: --set applies to scenario and sweep files; a calibration"
                " file sets its runs' overrides under overrides:"
            )
        if kind == "sweep":
            return _validate_sweep(args)
        if kind == "calibration":
            return _validate_calibration(args)
        if kind in ("optimize", "game"):
            return _validate_policy(args, kind)
        scenario = load_scenario(args.file, args.overrides, getattr(args, "seed", None))
        if args.command == "validate":
            _check_city(scenario)
            print(f"ok: {args.file}: scenario {scenario.name!r} is valid")
            return 0
        return _run(args, scenario)
    except ScenarioError as exc:
        return _errors([str(p) for p in exc.problems])
    except (CityError, OutputExists) as exc:
        return _errors([f"error: {_source(args)}: {exc}"])
    except BadInput as exc:
        return _errors([f"error: {exc}"])
    except SelfCheckError as exc:
        print(f"self-check failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"interrupted: {_unwritten(args)}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed (| head): the work is done and written
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
        return 0
    except SystemExit as exc:
        if exc.code in (128 + signal.SIGTERM, 128 + getattr(signal, "SIGHUP", 1)):
            print(f"terminated: {_unwritten(args)}", file=sys.stderr)
        raise
    except MemoryError:
        print(
            "error: out of memory: reduce fleet.drivers, demand or population.sample",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # an internal failure: say what, exit 1
        if os.environ.get("TAXISIM_DEBUG"):
            traceback.print_exc()
        print(
            f"internal error: {type(exc).__name__}: {exc} (set TAXISIM_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
