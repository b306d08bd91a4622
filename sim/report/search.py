"""A policy search's directory in the report: its answer's first run against the base
scenario's on the same seed, after a section that states the answer (or that there is
none) with each figure's mean and spread over the replications."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.errors import BadInput

FILE = "optimize.json"


@dataclass(frozen=True)
class Search:
    dirs: list[Path]  # the answer's (or the nearest trial's) first run, then the base's
    labels: list[str]
    section: str  # HTML


def is_search(path: Path) -> bool:
    return (Path(path) / FILE).is_file()


def read_search(path: Path) -> Search:
    """The runs and section of the search in ``path``; ``BadInput`` when it has no run to
    show (no trial finished, or the base failed)."""
    path = Path(path)
    try:
        doc = json.loads((path / FILE).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise BadInput(f"{path / FILE}: cannot be read ({exc})") from None
    shown = doc.get("best") or (doc.get("front") or [None])[0] or doc.get("nearest")
    base = doc.get("base")
    if shown is None or base is None:
        raise BadInput(f"{path}: the search has no finished trial and base to compare")
    what = {"optimal": "best policy", "front": "Pareto point 0"}.get(
        doc["status"], "nearest trial (infeasible)"
    )
    label = f"{what} (trial {shown['trial']})"
    dirs = [path / shown["runs"][0], path / base["runs"][0]]
    return Search(dirs, [label, "base"], _section(doc, [(label, shown), ("base", base)]))


def _cell(stats: dict[str, Any]) -> str:
    sd = "-" if stats.get("sd") is None else f"{stats['sd']:.4g}"
    return f"{stats['mean']:.4g} (sd {sd}, n {stats['n']})"


def _section(doc: dict[str, Any], rows: list[tuple[str, dict[str, Any]]]) -> str:
    esc = html.escape
    status = {
        "optimal": "Optimal: the best trial that meets every constraint.",
        "front": f"A Pareto front of {len(doc['front'])} trials; the first is shown.",
        "infeasible": "Infeasible: no trial meets the constraints. The nearest trial is "
        "shown; it is not an answer.",
    }.get(doc["status"], doc["status"])
    names = [o["name"] for o in doc["objectives"]] + [c["name"] for c in doc["constraints"]]
    head = "".join(f"<th>{esc(p)}</th>" for p in [*doc["params"], *names])
    body = ""
    for label, t in rows:
        cells = [str(t["params"].get(p, "as the base")) for p in doc["params"]]
        cells += [_cell(t["metrics"][n]) for n in names]
        body += f"<tr><td>{esc(label)}</td>" + "".join(f"<td>{esc(c)}</td>" for c in cells)
        body += "</tr>"
    cons = "; ".join(c["constraint"] for c in doc["constraints"]) or "none"
    return (
        f'<p class="headline">{esc(status)}</p>'
        f'<p class="caption">{esc(doc["file"])}: {doc["trials"]} trials, '
        f"{doc['replications']} replication(s) each on seeds common to every trial; "
        f"constraints ({esc(cons)}) judged on the mean over replications. The runs below "
        "are the first replication of each.</p>"
        f'<div class="table flat"><div class="box"><table><tr><th></th>{head}</tr>'
        f"{body}</table></div></div>"
    )
