"""What a calibration writes, rebuilt from its trials on every invocation (nothing here
reads a clock, so the files are byte-identical whatever the workers): trials.csv,
figures.csv, best.yaml, fit.png and calibration.md."""

from __future__ import annotations

from pathlib import Path

from sim.calibrate.spec import Calibration
from sim.scenario.load import load_scenario
from sim.search.outputs import extends_yaml, fitted_mapping, num, write_csv, write_text
from sim.search.study import SearchResult, Trial

__all__ = ["OUTPUTS", "best_yaml", "fitted_mapping", "num", "write_outputs", "write_trials"]

OUTPUTS = ("trials.csv", "figures.csv", "best.yaml", "fit.png", "calibration.md")


def write_trials(out: Path, cal: Calibration, trials: list[Trial]) -> None:
    """trials.csv and figures.csv of the trials so far (after each batch, so a long
    calibration can be watched; each file replaced whole)."""
    params = list(cal.spec.params)
    ids = [t.id for t in cal.targets]
    rows = [
        [
            t.number,
            t.status,
            num(t.value),
            *(num(t.params.get(p)) for p in params),
            *(num(t.details.get("mean", {}).get(i)) for i in ids),
            " ".join(t.error.split()),
        ]
        for t in trials
    ]
    write_csv(out / "trials.csv", ["trial", "status", "loss", *params, *ids, "error"], rows)
    fig_rows = [
        [t.number, r, t.seeds[r], i, num(run[i])]
        for t in trials
        for r, run in enumerate(t.details.get("runs", []))
        for i in ids
    ]
    write_csv(out / "figures.csv", ["trial", "replication", "seed", "target", "value"], fig_rows)


def write_outputs(out: Path, cal: Calibration, result: SearchResult) -> None:
    """Every output of a finished calibration."""
    from sim.calibrate.plot import write_fit

    write_trials(out, cal, result.trials)
    ranked = result.ranked()
    for name in ("best.yaml", "fit.png", "calibration.md"):
        (out / name).unlink(missing_ok=True)
    if not ranked:
        return
    best = ranked[0]
    band = ranked[: cal.spec.band_trials]
    write_text(out / "best.yaml", best_yaml(out, cal, best))
    write_fit(out / "fit.png", cal, best, band)
    write_text(out / "calibration.md", report(cal, result, band))


def best_yaml(out: Path, cal: Calibration, best: Trial) -> str:
    """A scenario that extends the base with the best trial's values."""
    base_raw = load_scenario(cal.base_path).model_dump(mode="json")
    over = ", ".join(cal.spec.overrides) or "none"
    head = (
        f"# Fitted by `run_sim.py calibrate {Path(cal.source).name}`: trial {best.number}, loss "
        f"{best.value:.4g}\n# (sum of squared errors in tolerances over "
        f"{len(cal.targets)} targets). The base scenario with the fitted values;\n"
        f"# the calibration ran it with these overrides: {over}.\n"
    )
    return head + extends_yaml(out, cal.base_path, base_raw, best.params)


def _g(v: float) -> str:
    """Four significant digits; whole numbers with thousands separators from 1,000 up."""
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def report(cal: Calibration, result: SearchResult, band: list[Trial]) -> str:
    """A self-contained markdown section: setup, targets, fitted values and residuals."""
    spec, best = cal.spec, band[0]
    ok = len(result.trials) - result.failed
    given = len(spec.first_points)
    start = f"the first {spec.startup_trials} at random"
    if given:
        random = max(0, spec.startup_trials - given)
        start = f"first the {given} point(s) of `first_trial`, then {random} at random"
    lines = [
        f"## Calibration: `{Path(cal.source).name}`",
        "",
        f"Base scenario `{spec.base}` with overrides "
        f"{', '.join(f'`{o}`' for o in spec.overrides) or 'none'}; targets `{spec.targets}`. "
        f"{len(result.trials)} trials ({ok} finished) proposed by optuna's TPE sampler "
        f"(seed {spec.seed}; {start}; in batches of "
        f"{spec.batch}), each run with {spec.replications} replication(s) on seeds common "
        "to every trial. Loss: the sum over targets of ((model - target) / tolerance)^2, "
        "the model being the mean over replications.",
        "",
        "### Targets",
        "",
        "| id | target | tolerance | read from the model as | source |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| {t.id} | {_g(t.value)} | {_g(t.tolerance)} | {t.label()} | {t.source} |"
        for t in cal.targets
    ]
    lines += [
        "",
        f"### Fitted values (best trial {best.number}, loss {best.value:.4g})",
        "",
        f"| parameter | range | fitted | best {len(band)} trials |",
        "| --- | --- | --- | --- |",
    ]
    for path, param in spec.params.items():
        values = [t.params[path] for t in band]
        spread = (
            ", ".join(sorted({str(v) for v in values}))
            if param.choices is not None
            else f"{_g(min(values))} to {_g(max(values))}"
        )
        fitted = best.params[path]
        cell = _g(fitted) if isinstance(fitted, float) else str(fitted)
        lines.append(f"| `{path}` | {param.describe()} | **{cell}** | {spread} |")
    lines += [
        "",
        "### Residuals",
        "",
        f"Model: the best trial's mean over its {spec.replications} replication(s); band: "
        f"lowest to highest over every replication of the best {len(band)} trials.",
        "",
        "| id | target | model | band | residual | in tolerances |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in cal.targets:
        model = best.details["mean"][t.id]
        runs = [r[t.id] for tr in band for r in tr.details["runs"]]
        res = model - t.value
        lines.append(
            f"| {t.id} | {_g(t.value)} | {_g(model)} | {_g(min(runs))} to {_g(max(runs))} "
            f"| {'+' if res >= 0 else '-'}{_g(abs(res))} | {res / t.tolerance:+.2f} |"
        )
    lines += [
        "",
        "The figure `fit.png` shows each target against the model; `trials.csv` lists every "
        "trial, `figures.csv` every run's figures, and `best.yaml` is the fitted scenario.",
        "",
    ]
    return "\n".join(lines)
