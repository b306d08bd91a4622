"""Golden regression: every shipped scenario, on a short horizon, against committed figures.

Each scenario runs for two simulated days at a sample of at most 1% (so the suite stays
fast) and its headline figures are compared with ``tests/golden/<name>.json``:
counts within 2% relative, shares and means within the absolute tolerances below.
After an intended change of behaviour, regenerate with ``pytest --update-golden
tests/test_golden.py`` and commit the new files with the change that explains them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import sim
from tests.conftest import ROOT

GOLDEN = Path(__file__).parent / "golden"
SCENARIOS = sorted(p for p in (ROOT / "scenarios").rglob("*.yaml"))
COUNT_REL = 0.02
SHARE_ABS = 0.02
SECONDS_REL = 0.05


def horizon(path: Path) -> list[str]:
    scn = sim.load_scenario(path)
    over = ["outputs.plots=false"]
    if scn.duration_s > 2 * 86400:
        over.append("duration=2d")
    if scn.population.sample > 0.01:
        over.append("population.sample=0.01")
    return over


def figures(summary: dict) -> dict[str, float]:
    """The compared figures, flattened to dotted names."""
    out = {k: summary[k] for k in ("requests", "completed", "abandoned")}
    out["pickup_wait_s.mean"] = summary["pickup_wait_s"]["mean"]
    out["utilization"] = summary["utilization"]
    out.update({f"payment_share.{k}": v for k, v in summary["payment_share"].items()})
    out["money.fares_yuan"] = summary["money"]["fares_yuan"]
    out["money.subsidy_total_yuan"] = summary["money"]["subsidy_total_yuan"]
    out.update({f"adoption.{k}": v for k, v in summary["adoption"]["final"].items()})
    return out


def close(name: str, got: float | None, want: float | None) -> bool:
    if got is None or want is None:
        return got == want
    if "share" in name or name.startswith("adoption.") or name == "utilization":
        return abs(got - want) <= SHARE_ABS
    if name.endswith("_s.mean"):
        return abs(got - want) <= SECONDS_REL * max(abs(want), 1.0)
    return abs(got - want) <= COUNT_REL * max(abs(want), 1.0)


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.stem for p in SCENARIOS])
def test_golden(path: Path, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    res = sim.run(path, tmp_path / "run", overrides=horizon(path))
    got = figures(res.summary)
    file = GOLDEN / f"{path.relative_to(ROOT / 'scenarios').with_suffix('').as_posix()}.json"
    if request.config.getoption("--update-golden"):
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(got, indent=2, sort_keys=True) + "\n")
        return
    assert file.exists(), f"no golden file {file}: run pytest --update-golden"
    want = json.loads(file.read_text())
    assert set(got) == set(want)
    bad = {k: (got[k], want[k]) for k in want if not close(k, got[k], want[k])}
    assert not bad, f"figures moved beyond tolerance (got, golden): {bad}"
