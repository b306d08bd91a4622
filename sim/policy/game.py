"""``run_sim.py game``: two platforms, each with its own decision variables and payoff,
answer each other in turn (round k searches the best response of one platform to the
other's last policy) until neither moves by more than the tolerance or the round limit.
Each round is a search of ``sim.search`` in ``rounds/NN-PLAYER``; all rounds share the
seeds, so payoffs differ by the policies and not by luck."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sim.errors import OutputExists
from sim.policy.measure import read_all, spread
from sim.policy.optimize import plan_of
from sim.policy.spec import Loaded, Player, read_game
from sim.scenario.load import load_scenario
from sim.search.outputs import extends_yaml, num, write_csv, write_text
from sim.search.space import Param, apply
from sim.search.study import run_search
from sim.sweep.cluster import dask_client
from sim.sweep.directory import identity


@dataclass(frozen=True)
class Payoffs:
    """The objective of one player's round: minus its payoff (maximised), with every
    player's payoff recorded (mean, sd, n over replications)."""

    players: dict[str, Player]
    mover: str

    def __call__(self, run_dirs: list[Path]) -> tuple[float, dict[str, Any]]:
        pay: dict[str, Any] = {}
        for name, p in self.players.items():
            runs = read_all(list(p.payoff), run_dirs)
            per_run = [
                sum(t.weight * runs[t.label()][r] for t in p.payoff) for r in range(len(run_dirs))
            ]
            pay[name] = spread(per_run)
        return -pay[self.mover]["mean"], {"payoffs": pay}


@dataclass
class GameResult:
    dir: Path
    status: str  # settled, not settled, failed
    rounds: list[dict[str, Any]] = field(default_factory=list)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)


def value_at(data: Any, path: str) -> Any:
    """The value at a dotted path of a resolved scenario (None when absent)."""
    for key in path.split("."):
        if isinstance(data, list) and key.isdigit() and int(key) < len(data):
            data = data[int(key)]
        elif isinstance(data, dict):
            data = data.get(key)
        else:
            return None
    return data


def _contains(param: Param, value: Any) -> bool:
    if param.choices is not None:
        return value in param.choices
    return isinstance(value, int | float) and param.low <= value <= param.high  # type: ignore[operator]


def move(space: dict[str, Param], old: dict[str, Any], new: dict[str, Any]) -> float:
    """How far a policy moved: the largest change over its variables, each as a share of
    its range (a choice counts 0 when kept, 1 when changed)."""
    out = 0.0
    for path, param in space.items():
        a, b = old.get(path), new[path]
        if param.choices is not None or not isinstance(a, int | float):
            d = 0.0 if a == b else 1.0
        else:
            assert param.low is not None and param.high is not None
            d = abs(float(b) - float(a)) / (param.high - param.low)
        out = max(out, d)
    return out


def _check_dir(out: Path, owner: str, force: bool) -> None:
    if not out.is_dir() or not any(out.iterdir()) or force:
        return
    try:
        stored = json.loads((out / "game.json").read_text("utf-8")).get("owner")
    except (OSError, ValueError):
        stored = None
    if stored != owner:
        raise OutputExists(f"{out}: holds other results; use another --out, or --force")


def run_game(
    path: str | Path,
    out: str | Path | None = None,
    *,
    workers: int = 2,
    scheduler: str | None = None,
    client: Any = None,
    progress: bool = False,
    force: bool = False,
    log: Any = None,
) -> GameResult:
    """Play (or resume) the game file at ``path`` in ``out`` (default ``runs/game-NAME``);
    writes rounds.csv, game.json and final.yaml. Raises ``ScenarioError`` for a bad file."""
    path = Path(path)
    loaded = read_game(path)
    spec = loaded.spec
    out = Path(out) if out is not None else Path("runs") / f"game-{path.stem}"
    owner = identity(str(path)) or str(path)
    _check_dir(out, owner, force)
    names = list(spec.players)
    current = {n: {p: value_at(loaded.base, p) for p in spec.players[n].params} for n in names}
    result = GameResult(out, "not settled", policies=current)
    t0 = time.perf_counter()
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "game.json").is_file():  # marks the directory as this game's, to resume
        write_text(out / "game.json", json.dumps({"kind": "game", "owner": owner}) + "\n")
    shared: dict[str, Path] = {}  # runs of earlier rounds, read again rather than rerun
    with dask_client(workers, scheduler, client, True) as dask:
        for k in range(1, spec.rounds + 1):
            mover = names[(k - 1) % 2]
            other = names[k % 2]
            space = dict(spec.players[mover].params)
            start = current[mover]
            first = (start,) if all(_contains(space[p], v) for p, v in start.items()) else ()
            plan = plan_of(
                loaded, space, base=apply(loaded.base, current[other], loaded.source), first=first
            )
            res = run_search(
                plan,
                Payoffs(dict(spec.players), mover),
                out / "rounds" / f"{k:02d}-{mover}",
                owner=f"{owner}#round-{k}",
                record={"game": spec.model_dump(mode="json"), "round": k, "fixed": current[other]},
                client=dask,
                progress=progress,
                force=force,
                shared=shared,
            )
            ranked = res.ranked()
            if not ranked:
                result.status = "failed"
                break
            best = ranked[0]
            moved = move(space, start, best.params)
            current[mover] = dict(best.params)
            row = {
                "round": k,
                "mover": mover,
                "trial": best.number,
                "moved": moved,
                "policies": {n: dict(current[n]) for n in names},
                "payoffs": best.details["payoffs"],
            }
            result.rounds.append(row)
            if log is not None:
                pays = ", ".join(f"{n} {best.details['payoffs'][n]['mean']:,.4g}" for n in names)
                pol = ", ".join(f"{p}={v}" for p, v in best.params.items())
                log(f"round {k}: {mover} answers with {pol} (moved {moved:.3g}); payoffs {pays}")
            previous = result.rounds[-2]["moved"] if len(result.rounds) > 1 else math.inf
            if moved <= spec.tolerance and previous <= spec.tolerance:
                result.status = "settled"
                break
    result.policies = current
    _write(out, loaded, owner, result)
    if log is not None:
        log(
            f"game: {result.status} after {len(result.rounds)} rounds (limit {spec.rounds}, "
            f"tolerance {spec.tolerance:g}) in {time.perf_counter() - t0:.1f} s"
        )
        for n in names:
            log(f"  {n}: " + ", ".join(f"{p}={v}" for p, v in current[n].items()))
    return result


def _write(out: Path, loaded: Loaded, owner: str, result: GameResult) -> None:
    """rounds.csv (policies and payoffs per round), game.json, final.yaml."""
    spec = loaded.spec
    names = list(spec.players)
    params = [f"{n}:{p}" for n in names for p in spec.players[n].params]
    cols = ["round", "mover", "trial", "moved", *params]
    cols += [f"{n}:payoff{s}" for n in names for s in ("", ".sd")]
    rows = [
        [
            r["round"],
            r["mover"],
            r["trial"],
            num(r["moved"]),
            *(num(r["policies"][n][p]) for n in names for p in spec.players[n].params),
            *(num(r["payoffs"][n][k]) for n in names for k in ("mean", "sd")),
        ]
        for r in result.rounds
    ]
    write_csv(out / "rounds.csv", cols, rows)
    merged = {p: v for n in names for p, v in result.policies[n].items()}
    raw = load_scenario(loaded.base_path).model_dump(mode="json")
    head = (
        f"# The last pair of policies of `run_sim.py game {Path(loaded.source).name}`: "
        f"{result.status} after {len(result.rounds)} rounds.\n"
        f"# The game ran it with these overrides: {', '.join(spec.overrides) or 'none'}.\n"
    )
    (out / "final.yaml").unlink(missing_ok=True)
    if result.rounds:
        write_text(out / "final.yaml", head + extends_yaml(out, loaded.base_path, raw, merged))
    doc = {
        "kind": "game",
        "owner": owner,
        "file": loaded.source,
        "status": result.status,
        "rounds": len(result.rounds),
        "round_limit": spec.rounds,
        "tolerance": spec.tolerance,
        "policies": result.policies,
        "trajectory": result.rounds,
    }
    write_text(
        out / "game.json", json.dumps(doc, indent=2, default=str).replace("NaN", "null") + "\n"
    )
