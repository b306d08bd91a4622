"""What each command does once its arguments are parsed: a thin call into ``sim``, the
files it wrote, and an exit code (failures are mapped in ``sim.cli.main``)."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def run(args, scenario) -> int:
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


def sweep(args) -> int:
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


def calibrate(args) -> int:
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


def policy(args) -> int:
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


def compare(args) -> int:
    from sim.report.compare import write_compare

    print(f"outputs: {write_compare(args.dirs, args.out, args.labels)}")
    return 0


def report(args) -> int:
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


def lab(args) -> int:
    from sim.errors import BadInput
    from sim.lab import serve

    if not 0 < args.sample <= 1:
        raise BadInput(f"--sample must be above 0 and at most 1 (got {args.sample})")
    serve(args.file, args.port, args.sample, args.days)
    return 0


def unwritten(args) -> str:
    if args.command == "sweep":
        return "finished runs are kept; run the sweep again to resume it"
    if args.command == "calibrate":
        return "finished runs are kept; run the calibration again to resume it"
    if args.command in ("optimize", "game"):
        return f"finished runs are kept; run the {args.command} again to resume it"
    if args.command == "lab":
        return "the lab has stopped"
    return "no outputs were written"
