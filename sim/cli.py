"""Command line of the taxi-hailing simulator: parse, call ``sim``, map failures to exit codes.

    python run_sim.py                       # the default scenario, summary table on stdout
    python run_sim.py run FILE [--seed N] [--out DIR] [--set path=value]... [--quiet]
    python run_sim.py validate FILE [--set path=value]...
    python run_sim.py sweep SWEEP.yaml [--workers N | --scheduler tcp://HOST:PORT] [--out DIR]
    python run_sim.py compare RUN_DIR... [--label NAME]... [--out FILE.png|.svg|.pdf]
    python run_sim.py report RUN_DIR... [--baseline RUN_DIR] [--out FILE.html]
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
        help="check a scenario file and its city, or every run of a sweep file, without running it",
    )
    val.add_argument("file", type=Path, help="scenario or sweep YAML file")
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
    rep.add_argument("dirs", nargs="+", type=Path, metavar="RUN_DIR", help=RUN_DIR_HELP)
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
        io.check_target(out, force)
        hidden = out.parent / f".{out.name}.csv-{os.getpid()}"
        try:  # written and converted under a hidden name, then renamed into place
            results = run(scenario, hidden, progress=progress)
            io.tables_to_parquet(hidden)
            io.commit(hidden, out)
        except BaseException:
            io.discard(hidden)
            raise
        results.dir = out
    else:
        results = run(scenario, out, force=force, progress=progress)
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
    )
    print(f"outputs: {res.dir}")
    if res.failed:
        print(
            f"error: {res.failed} of {res.runs} runs failed; see {res.dir / 'failures.json'}",
            file=sys.stderr,
        )
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
        args.dirs, args.out, baseline=args.baseline, labels=args.labels, map_window=window
    )
    print(f"outputs: {out}")
    return 0


def _is_sweep_file(path: Path) -> bool:
    """A sweep file names its ``base`` scenario; anything unreadable is left to the
    scenario loader to report."""
    import yaml

    from sim.scenario.load import load_yaml

    try:
        data = load_yaml(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError, RecursionError):
        # not readable as YAML: load_scenario says what is wrong, in its words
        return False
    return isinstance(data, dict) and "base" in data


def _validate_sweep(args) -> int:
    """Plan every run of a sweep (each scenario resolved and validated) and check its
    metrics, as ``sweep`` does before it starts, without running anything."""
    from sim.errors import BadInput
    from sim.sweep.runner import check_metrics, plan, read_spec

    if args.overrides:
        raise BadInput(
            f"{args.file}: --set applies to scenario files; a sweep file sets"
            " its runs' overrides under overrides:"
        )
    spec = read_spec(args.file)
    tasks = plan(spec, args.file.parent, str(args.file), Path("runs") / "validate")
    check_metrics(spec, tasks, str(args.file))
    print(
        f"ok: {args.file}: sweep of {len(tasks)} runs ({len(tasks) // spec.replications}"
        f" points x {spec.replications} replications) is valid"
    )
    return 0


def _source(args) -> Path:
    return getattr(args, "file", None) or getattr(args, "dir", None) or args.dirs[0]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", str(DEFAULT_SCENARIO), *argv]  # no command: the default scenario
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)

    from sim.errors import BadInput, CityError, OutputExists, ScenarioError, SelfCheckError
    from sim.scenario.load import load_scenario

    commands = {"sweep": _sweep, "compare": _compare, "report": _report, "lab": _lab}
    try:
        if args.command in commands:
            return commands[args.command](args)
        if args.command == "validate" and _is_sweep_file(args.file):
            return _validate_sweep(args)
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
    except SystemExit as exc:
        if exc.code == 128 + signal.SIGTERM:
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
