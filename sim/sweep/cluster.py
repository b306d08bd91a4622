"""Where a sweep's runs are computed: one run on a worker, the Dask client to send runs
to, and the submission of a sweep's runs to it.

A local cluster's worker processes import the script that started the sweep again (Python's
``spawn``), so a script without ``if __name__ == "__main__":`` would start a sweep in every
worker; that is caught and reported in one line instead of pages of tracebacks.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import Problem
from sim.io import files as io

if TYPE_CHECKING:
    from sim.errors import SweepError
    from sim.sweep.runner import RunTask

RUN_FILE = "sweep_run.json"  # written inside a run's staging directory: its presence = complete


def is_complete(run_dir: Path, digest: str) -> bool:
    """A run directory under its real name, computed from exactly this scenario and seed."""
    try:
        stored = json.loads((run_dir / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return stored.get("hash") == digest and (run_dir / "summary.json").is_file()


def execute(task: RunTask) -> dict[str, Any]:
    """Compute one run on a worker. Errors come back as values so the sweep goes on."""
    from sim.api import run

    final = Path(task.dir)
    if is_complete(final, task.hash):  # a retried task whose first attempt got that far
        return {"index": task.index, "status": "ok", "computed": True}
    staging = final.parent / f".{final.name}.partial-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    t0 = time.perf_counter()
    try:
        run(task.scenario, staging)
        io.write_json(
            staging / RUN_FILE,
            {
                "index": task.index,
                "point": task.point,
                "replication": task.replication,
                "params": task.params,
                "seed": task.seed,
                "hash": task.hash,
                "wall_s": round(time.perf_counter() - t0, 3),
            },
        )
        if is_complete(final, task.hash):
            io.discard(staging)
        else:
            io.commit(staging, final, force=True)  # a stale run of an older hash
    except Exception as exc:
        io.discard(staging)
        return {
            "index": task.index,
            "status": "error",
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }
    except BaseException:
        io.discard(staging)
        raise
    return {"index": task.index, "status": "ok", "computed": True}


@contextmanager
def dask_client(workers: int, scheduler: str | None, client: Any, needed: bool) -> Iterator[Any]:
    """The client to run on: the caller's, one connected to ``scheduler``, or a local cluster
    of ``workers`` processes with one thread each (closed on the way out)."""
    if client is not None or not needed:
        yield client
        return
    import logging

    from distributed import Client, LocalCluster

    if scheduler:
        try:
            own = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise io.BadInput(f"--scheduler {scheduler}: cannot connect ({exc})") from None
        with own:
            yield own
        return
    # The scheduler always serves HTTP (dashboard_address=None means port 8787, and a
    # warning when another cluster has it): a free port on localhost and no dashboard.
    # security=True: mutual TLS with credentials made for this cluster alone, so another
    # local process cannot attach and run code in the workers (client.run).
    try:
        with _workers_deaf_to_ctrl_c():
            cluster = LocalCluster(
                n_workers=max(1, workers),
                threads_per_worker=1,
                processes=True,
                dashboard_address="127.0.0.1:0",
                scheduler_kwargs={"dashboard": False},
                silence_logs=logging.ERROR,
                security=True,
            )
    except RuntimeError:  # "Nanny failed to start."
        script = _unguarded_script()
        if script is None:
            raise
        raise _guard_missing(script) from None
    parent = logging.getLogger("distributed")
    level = parent.level
    try:
        with cluster, Client(cluster) as own:
            try:
                yield own
            except BaseException:  # Ctrl-C, a signal: close without a page of logs
                _quiet(own)
                raise
    finally:
        parent.setLevel(level)


def _silence() -> None:
    import logging

    logging.getLogger("distributed").setLevel(logging.CRITICAL)


def _quiet(client: Any) -> None:
    """Silence Dask's logs before an interrupted cluster closes: the scheduler (in this
    process) then reports the keys it could not gather and each worker the heartbeat it
    could not send, none of which the user can act on."""
    import contextlib

    _silence()
    with contextlib.suppress(Exception):  # a worker already gone has nothing left to say
        client.run(_silence, on_error="ignore")


@contextmanager
def _workers_deaf_to_ctrl_c() -> Iterator[None]:
    """Start worker processes with Ctrl-C ignored (they inherit it, and Python keeps an
    ignored SIGINT at start-up): a Ctrl-C at the terminal reaches every process of the
    group, and only the sweep itself should answer it, by closing the cluster, not each
    worker with a page of tracebacks."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def importing_main() -> bool:
    """True in a new worker process that is importing the script that started the sweep
    (what ``multiprocessing`` itself checks before refusing to start processes)."""
    import multiprocessing

    return bool(getattr(multiprocessing.current_process(), "_inheriting", False))


def _unguarded_script() -> str | None:
    """The script Python was started with, if it has no ``if __name__ == "__main__":``: its
    code then runs again in every worker process the local cluster starts."""
    import ast

    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path is None or hasattr(sys, "ps1"):
        return None
    try:
        tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError, SyntaxError):
        return None
    guarded = any(
        isinstance(node, ast.If) and "__name__" in ast.unparse(node.test) for node in tree.body
    )
    return None if guarded else str(path)


def _guard_missing(script: str) -> SweepError:
    from sim.errors import SweepError

    return SweepError(
        [
            Problem(
                script,
                "",
                "the local Dask cluster's worker processes failed "
                'to start: call run_sweep under `if __name__ == "__main__":` '
                "in this script (each worker process imports the script "
                "again)",
            )
        ]
    )


def compute(todo: list[RunTask], client: Any, progress: bool) -> dict[int, dict[str, Any]]:
    """Submit every task; a task whose worker is lost is rescheduled by Dask."""
    from distributed import as_completed
    from tqdm import tqdm

    token = uuid.uuid4().hex[:8]  # never handed a result cached under an earlier key
    futures = {
        client.submit(execute, t, key=f"taxisim-run-{t.index}-{token}", retries=2, pure=False): t
        for t in todo
    }
    outcomes: dict[int, dict[str, Any]] = {}
    failed = 0
    with tqdm(total=len(todo), unit="run", disable=not progress, leave=False) as bar:
        for fut in as_completed(futures):
            t = futures[fut]
            try:
                outcomes[t.index] = fut.result()
            except Exception as exc:  # the worker died every time, or could not run it
                outcomes[t.index] = {
                    "index": t.index,
                    "status": "error",
                    "error": f"{type(exc).__name__}: {exc}",
                    "traceback": "".join(traceback.format_exception(exc)),
                }
            if outcomes[t.index].get("status") == "error":
                failed += 1
                bar.set_postfix_str(f"{failed} failed", refresh=False)
            bar.update(1)
    return outcomes
