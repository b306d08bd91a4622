"""Command line of the taxi-hailing simulator: parse, call ``sim``, map failures to exit codes.

    python run_sim.py                       # the default scenario, summary table on stdout
    python run_sim.py run FILE [--seed N] [--out DIR] [--set path=value]... [--quiet]
    python run_sim.py validate FILE [--set path=value]...   # any file below
    python run_sim.py sweep SWEEP.yaml [--workers N | --scheduler tcp://HOST:PORT] [--out DIR]
                                       [--set path=value]...
    python run_sim.py calibrate CALIBRATION.yaml [--workers N | --scheduler URL] [--out DIR]
    python run_sim.py optimize OPTIMIZE.yaml [--workers N | --scheduler URL] [--out DIR]
    python run_sim.py game GAME.yaml [--workers N | --scheduler URL] [--out DIR]
    python run_sim.py compare RUN_DIR... [--label NAME]... [--out FILE.png|.svg|.pdf]
    python run_sim.py report RUN_DIR... [--baseline RUN_DIR] [--calibration DIR] [--out FILE.html]
    python run_sim.py report CALIBRATION_DIR    # its best run, and the model against the record
    python run_sim.py report OPTIMIZE_DIR       # the best policy against the base
    python run_sim.py lab [FILE] [--port N]     # a browser app on 127.0.0.1

Exit codes: 0 done, 1 internal failure or broken self-check, 2 bad input, 130/143 stopped.
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path

from sim.cli import commands, validate
from sim.cli.parser import DEFAULT_SCENARIO, build_parser


def _errors(lines: list[str]) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return 2


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _source(args) -> Path:
    return getattr(args, "file", None) or getattr(args, "dir", None) or args.dirs[0]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", str(DEFAULT_SCENARIO), *argv]  # no command: the default scenario
    args = build_parser().parse_args(argv)
    # Ctrl-C stops a run even when it was started from a job that ignores SIGINT (a shell
    # starts background jobs so, and Python then keeps ignoring it).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _terminate)
    if hasattr(signal, "SIGHUP"):  # the terminal went away: stop as cleanly as for SIGTERM
        signal.signal(signal.SIGHUP, _terminate)

    from sim.errors import BadInput, CityError, OutputExists, ScenarioError, SelfCheckError
    from sim.scenario.load import load_scenario

    handlers = {
        "sweep": commands.sweep,
        "calibrate": commands.calibrate,
        "optimize": commands.policy,
        "game": commands.policy,
        "compare": commands.compare,
        "report": commands.report,
        "lab": commands.lab,
    }
    try:
        if args.command in handlers:
            return handlers[args.command](args)
        kind = validate.file_kind(args.file) if args.command == "validate" else "scenario"
        if kind == "calibration" and args.overrides:
            raise BadInput(
                f"{args.file}: --set applies to scenario and sweep files; a calibration"
                " file sets its runs' overrides under overrides:"
            )
        if kind == "sweep":
            return validate.sweep(args)
        if kind == "calibration":
            return validate.calibration(args)
        if kind in ("optimize", "game"):
            return validate.policy(args, kind)
        scenario = load_scenario(args.file, args.overrides, getattr(args, "seed", None))
        if args.command == "validate":
            validate.check_city(scenario)
            print(f"ok: {args.file}: scenario {scenario.name!r} is valid")
            return 0
        return commands.run(args, scenario)
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
        print(f"interrupted: {commands.unwritten(args)}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # stdout closed (| head): the work is done and written
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the flush at exit does not fail again
        return 0
    except SystemExit as exc:
        if exc.code in (128 + signal.SIGTERM, 128 + getattr(signal, "SIGHUP", 1)):
            print(f"terminated: {commands.unwritten(args)}", file=sys.stderr)
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
