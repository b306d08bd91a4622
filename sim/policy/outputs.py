"""What an optimisation writes, rebuilt from its trials on every invocation (no clock is
read, so the files are byte-identical whatever the workers): trials.csv, best.yaml (or one
scenario per Pareto point under pareto/), optimize.json, optimize.md and a figure."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

from sim.policy.measure import feasible, violation
from sim.policy.optimize import Outcome, figure_text
from sim.policy.spec import Loaded
from sim.scenario.load import load_scenario
from sim.search.outputs import extends_yaml, num, write_csv, write_text
from sim.search.study import SearchResult, Trial

OUTPUTS = (
    "trials.csv",
    "best.yaml",
    "optimize.json",
    "optimize.md",
    "convergence.png",
    "pareto.png",
)


def metric_names(loaded: Loaded) -> list[str]:
    spec = loaded.spec
    return [m.label() for m in (*spec.objectives, *spec.constraints)]


def write_trials(out: Path, loaded: Loaded, trials: list[Trial]) -> None:
    """trials.csv of the trials so far: each figure's mean and sd over replications."""
    params = list(loaded.spec.params)
    names = metric_names(loaded)
    cols = ["trial", "status", "feasible", "violation", *params]
    cols += [c for n in names for c in (n, f"{n}.sd")] + ["error"]
    rows = []
    for t in trials:
        stats = t.details.get("stats", {})
        ok = t.status == "ok"
        rows.append(
            [
                t.number,
                t.status,
                ("yes" if feasible(t.details) else "no") if ok else "",
                num(violation(t.details)) if ok else "",
                *(num(t.params.get(p)) for p in params),
                *(num(stats.get(n, {}).get(k)) for n in names for k in ("mean", "sd")),
                " ".join(t.error.split()),
            ]
        )
    write_csv(out / "trials.csv", cols, rows)


def _trial_json(out: Path, loaded: Loaded, t: Trial | None) -> dict[str, Any] | None:
    if t is None or t.status != "ok":
        return None
    spec = loaded.spec
    return {
        "trial": t.number,
        "params": t.params,
        "seeds": t.seeds,
        "runs": [os.path.relpath(d, out) for d in t.dirs],  # relative to the directory
        "metrics": t.details["stats"],
        "constraints": [
            {"constraint": c.describe(), "met": e <= 0, "excess": e}
            for c, e in zip(spec.constraints, t.details["constraints"], strict=True)
        ],
    }


def _clean(v: Any) -> Any:
    """NaN (the sd of one replication) as null: optimize.json is strict JSON."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_clean(x) for x in v]
    return v


def _header(loaded: Loaded, t: Trial, what: str) -> str:
    spec = loaded.spec
    lines = [f"# {what} of `run_sim.py optimize {Path(loaded.source).name}`: trial {t.number}."]
    stats = t.details["stats"]
    for g in spec.objectives:
        lines.append(f"# {g.goal} {g.label()}: {figure_text(stats[g.label()])}")
    for c in spec.constraints:
        lines.append(f"# {c.describe()}: {figure_text(stats[c.label()])}")
    over = ", ".join(spec.overrides) or "none"
    lines.append(f"# The search ran it with these overrides: {over}.")
    return "\n".join(lines) + "\n"


def write_outputs(out: Path, loaded: Loaded, result: SearchResult, found: Outcome) -> None:
    """Every output of a finished optimisation."""
    from sim.policy.plot import write_convergence, write_pareto

    write_trials(out, loaded, result.trials)
    for name in OUTPUTS[1:]:
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / "pareto", ignore_errors=True)
    raw = load_scenario(loaded.base_path).model_dump(mode="json")
    scenarios: list[str] = []
    if found.best is not None:
        text = _header(loaded, found.best, "The optimal policy")
        write_text(
            out / "best.yaml", text + extends_yaml(out, loaded.base_path, raw, found.best.params)
        )
        scenarios.append("best.yaml")
    if found.front:
        (out / "pareto").mkdir()
        for i, t in enumerate(found.front):
            name = f"pareto/{i:02d}-trial{t.number:04d}.yaml"
            text = _header(loaded, t, f"Pareto point {i}")
            write_text(
                out / name, text + extends_yaml(out / "pareto", loaded.base_path, raw, t.params)
            )
            scenarios.append(name)
    spec = loaded.spec
    doc = {
        "kind": "optimize",
        "file": loaded.source,
        "status": found.status,
        "feasibility": "judged on the mean over replications",
        "replications": spec.replications,
        "objectives": [
            {"name": g.label(), "goal": g.goal, "reads": g.reading().label()}
            for g in spec.objectives
        ],
        "constraints": [{"name": c.label(), "constraint": c.describe()} for c in spec.constraints],
        "params": {p: param.describe() for p, param in spec.params.items()},
        "trials": len(result.trials),
        "failed": result.failed,
        "best": _trial_json(out, loaded, found.best),
        "front": [_trial_json(out, loaded, t) for t in found.front],
        "nearest": _trial_json(out, loaded, found.nearest),
        "base": _trial_json(out, loaded, found.base),
        "scenarios": scenarios,
    }
    write_text(out / "optimize.json", json.dumps(_clean(doc), indent=2, sort_keys=False) + "\n")
    write_text(out / "optimize.md", report(loaded, doc))
    ok = [t for t in result.trials if t.status == "ok"]
    if ok and len(spec.objectives) == 1:
        write_convergence(out / "convergence.png", loaded, ok, found)
    elif ok:
        write_pareto(out / "pareto.png", loaded, ok, found)


def report(loaded: Loaded, doc: dict[str, Any]) -> str:
    """A markdown section: the answer (or that there is none) against the base."""
    name = Path(loaded.source).name
    lines = [f"## Policy search: `{name}`", ""]
    status = doc["status"]
    lines.append(
        {
            "optimal": "**Optimal** (best feasible trial found).",
            "front": f"**Pareto front** of {len(doc['front'])} trials.",
            "infeasible": "**Infeasible**: no trial meets the constraints. The nearest trial "
            "is shown; it is not an answer.",
            "failed": "**Failed**: no trial finished.",
        }[status]
    )
    lines += [
        "",
        f"{doc['trials']} trials, {doc['replications']} replication(s) each on seeds common "
        "to every trial; constraints judged on the mean over replications.",
        "",
    ]
    shown = [("base", doc["base"])]
    shown += [("best", doc["best"])] if doc["best"] else []
    shown += [(f"Pareto {i}", t) for i, t in enumerate(doc["front"])]
    shown += [("nearest (infeasible)", doc["nearest"])] if doc["nearest"] else []
    shown = [(k, t) for k, t in shown if t is not None]
    names = [o["name"] for o in doc["objectives"]] + [c["name"] for c in doc["constraints"]]
    lines += [
        "| | " + " | ".join(f"`{p}`" for p in doc["params"]) + " | " + " | ".join(names) + " |",
        "| --- " * (1 + len(doc["params"]) + len(names)) + "|",
    ]
    for label, t in shown:
        cells = [str(t["params"].get(p, "base")) for p in doc["params"]]
        cells += [
            figure_text({**t["metrics"][n], "sd": t["metrics"][n]["sd"] or math.nan}) for n in names
        ]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Constraints: " + ("; ".join(c["constraint"] for c in doc["constraints"]) or "none"),
        "",
    ]
    return "\n".join(lines)
