"""Command line of the taxi-hailing simulator: parse, call ``sim``, map failures to exit codes.

    python run_sim.py                       # the default scenario, summary table on stdout
    python run_sim.py run FILE [--seed N] [--out DIR] [--set path=value]... [--quiet]
    python run_sim.py validate FILE [--set path=value]...

Exit codes: 0 done, 1 internal failure or broken self-check, 2 bad input, 130/143 stopped.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_SCENARIO = HERE / "scenarios" / "default.yaml"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="taxisim", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run a scenario file")
    run.add_argument("file", type=Path)
    run.add_argument("--seed", type=int, help="replace the scenario's seed")
    run.add_argument("--out", type=Path, help="output directory (default runs/NAME-seedSEED, "
                     "replaced on a rerun)")
    run.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="PATH=VALUE", help="override a field, e.g. fleet.drivers=800")
    run.add_argument("--force", action="store_true", help="replace a non-empty output dir")
    run.add_argument("--quiet", action="store_true", help="no progress bar and no table")
    val = sub.add_parser("validate", help="check a scenario file without running it")
    val.add_argument("file", type=Path)
    val.add_argument("--set", dest="overrides", action="append", default=[],
                     metavar="PATH=VALUE")
    return p


def _errors(lines: list[str]) -> int:
    for line in lines:
        print(line, file=sys.stderr)
    return 2


def _terminate(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0].startswith("-") and argv[0] not in ("-h", "--help")):
        argv = ["run", str(DEFAULT_SCENARIO), *argv]  # no command: the default scenario
    args = _parser().parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)

    from sim.checks import SelfCheckError
    from sim.city import CityError
    from sim.io import OutputExists
    from sim.scenario import ScenarioError, load_scenario

    try:
        scenario = load_scenario(args.file, args.overrides, getattr(args, "seed", None))
        if args.command == "validate":
            print(f"ok: {args.file}: scenario {scenario.name!r} is valid")
            return 0
        from sim.api import default_out, run
        from sim.report import summary_table

        # The default directory belongs to this scenario and seed: a rerun replaces it.
        out = args.out or default_out(scenario)
        progress = not args.quiet and sys.stderr.isatty()
        results = run(scenario, out, force=args.force or args.out is None, progress=progress)
        results_source = results.dir
        if not args.quiet:
            print(summary_table(results.summary))
        print(f"outputs: {results_source}")
        return 0
    except ScenarioError as exc:
        return _errors([str(p) for p in exc.problems])
    except (CityError, OutputExists) as exc:
        return _errors([f"error: {args.file}: {exc}"])
    except SelfCheckError as exc:
        print(f"self-check failed: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: no outputs were written", file=sys.stderr)
        return 130
    except SystemExit as exc:
        if exc.code == 128 + signal.SIGTERM:
            print("terminated: no outputs were written", file=sys.stderr)
        raise
    except MemoryError:
        print("error: out of memory: reduce fleet.drivers, demand or population.sample",
              file=sys.stderr)
        return 1
    except Exception as exc:  # an internal failure: say what, exit 1
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
