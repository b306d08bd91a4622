"""One or several runs as one self-contained interactive HTML page that reads like a brief.

The charting library's JavaScript (plotly) is inlined once in the page, as are the style
sheet and the small script that sorts tables and saves them as CSV, so the file opens in a
browser from disk, by mail or from an artifact store, fetches nothing and needs no server.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from sim.errors import BadInput
from sim.io.files import write_file
from sim.report import brief, calibration, figures, tables
from sim.report.calibration import Calibrated, read_calibrated
from sim.report.calibration import is_calibration_dir as calibration_dir
from sim.report.map import DEFAULT_WINDOW, Window, map_sections
from sim.report.rundir import Run, check_run_dir, read_runs
from sim.report.search import is_search, read_search

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:1.5em auto;
max-width:80em;color:#222;padding:0 1em;line-height:1.45}
h1{font-size:1.6em;margin-bottom:.2em}
h2{font-size:1.25em;margin-top:2em;border-bottom:1px solid #ddd;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
.meta,.caption,.rows{color:#666;font-size:.88em}.caption{margin:.2em 0}
.headline{background:#f4f8ff;border-left:4px solid #1677ff;padding:.6em 1.2em;margin:1em 0}
.headline li{margin:.25em 0}
.flag{color:#b3261e;font-weight:600}
table{border-collapse:collapse;font-size:.88em}
th,td{padding:.25em .7em;border-bottom:1px solid #eee;text-align:left;white-space:nowrap}
td.num{text-align:right;font-variant-numeric:tabular-nums}
th{background:#f6f6f6;position:sticky;top:0;cursor:pointer;user-select:none}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
.table{margin:.6em 0 1.2em}.tools{margin:.3em 0}
.scroll .box{max-height:28em;overflow:auto;border:1px solid #eee}
.flat .box{overflow:auto}
button{font:inherit;font-size:.85em;padding:.15em .7em;cursor:pointer}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.8em}
nav a{margin-right:1em;font-size:.9em}
"""


# plotly rejects a running animation's promise, with no reason, when "pause" interrupts
# it; that is the pause working, not an error, so it is kept off the console.
QUIET_PAUSE = (
    "window.addEventListener('unhandledrejection', function (e) {"
    " if (e.reason === undefined) e.preventDefault(); });"
)


def _plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


def _figure(fig, div_id: str) -> str:
    """A figure's div and the script that draws it; ids fixed so the page is reproducible
    (and not those of the sections' anchors). ``fig`` is a plotly figure or its mapping."""
    if fig is None:
        return ""
    import plotly.io as pio

    layout = fig["layout"] if isinstance(fig, dict) else fig.layout
    return pio.to_html(
        fig,
        full_html=False,
        include_plotlyjs=False,
        include_mathjax=False,
        div_id=f"fig-{div_id}",
        default_height=f"{layout['height'] or 450}px",
        config={"displaylogo": False, "responsive": True},
        validate=False,
        auto_play=False,
    )


def _esc(text: Any) -> str:
    return html.escape(str(text))


def _scenario_yaml(run: Run) -> str:
    scenario = run.manifest.get("scenario")
    if not scenario:
        return ""
    text = yaml.safe_dump(scenario, sort_keys=False, allow_unicode=True, width=100)
    return (
        f"<details><summary>{_esc(run.label)}: resolved scenario (YAML, as in "
        f"manifest.json)</summary><pre>{_esc(text)}</pre></details>"
    )


def _meta(run: Run) -> str:
    m, s = run.manifest, run.summary
    bits = [
        ("scenario", s.get("scenario")),
        ("seed", s.get("seed")),
        ("sample", s.get("sample")),
        ("days", s.get("simulated_days")),
        ("from", m.get("scenario_file")),
        ("commit", (m.get("git_commit") or "")[:10] or None),
        ("directory", run.dir),
    ]
    return " · ".join(f"{k}: {_esc(v)}" for k, v in bits if v is not None)


def _increments(runs: Sequence[Run], base: Run | None) -> str:
    """Each run against the baseline: sentences, then one column per run."""
    if base is None:
        return ""
    others = [r for r in runs if r is not base]
    if not others:
        return ""
    incs = [brief.increment(r, base) for r in others]
    figures_: dict[str, list[Any]] = {"measured on": [str(i.horizon) for i in incs]}
    for inc_i, inc in enumerate(incs):
        for what, values in (
            ("extra card-bound riders", inc.extra_bound),
            ("extra drivers accepting", inc.extra_drivers),
        ):
            for rail, v in values.items():
                key = f"{what}: {brief.rail_name(rail)}"
                figures_.setdefault(key, [None] * len(incs))[inc_i] = round(v)
    figures_["extra mobile-paid rides over the run"] = [round(i.extra_mobile_rides) for i in incs]
    figures_["extra subsidy (yuan)"] = [round(i.extra_subsidy_yuan, 2) for i in incs]
    figures_["extra subsidy per extra card-bound rider (yuan)"] = [
        round(i.cost_per_adopter, 2) if i.cost_per_adopter is not None else None for i in incs
    ]
    df = pd.DataFrame(
        {
            "figure": list(figures_),
            **{i.run: [v[k] for v in figures_.values()] for k, i in enumerate(incs)},
        }
    )
    sentences = "".join(f"<li>{_esc(brief.increment_sentence(i))}</li>" for i in incs)
    return f'<ul class="headline">{sentences}</ul>' + tables.frame_html(
        df,
        "against_baseline",
        "Counts are of the full city (the sample scaled back); adopters are measured "
        f"{brief.RETAIN_DAYS} days after each run's last subsidy stops, or on its last "
        "day when it ends sooner; rides over the days both runs cover.",
    )


def _headlines(runs: Sequence[Run]) -> str:
    out = []
    for run in runs:
        lines = "".join(f"<li>{_esc(s)}</li>" for s in brief.headline(run))
        title = f"<h3>{_esc(run.label)}</h3>" if len(runs) > 1 else ""
        out.append(f'{title}<ul class="headline">{lines}</ul>')
    return "".join(out)


def _bass(runs: Sequence[Run]) -> str:
    df = tables.bass_frame(runs)
    if df.empty:
        return ""
    flagged = (df["flags"] != "ok").sum()
    note = (
        f'<p><span class="flag">{flagged} of {len(df)} fits flagged</span>. A parameter at '
        "its bound means the fit ran out of room, not that the market has that value; a "
        "curve that is not S-shaped (imitation q no larger than innovation p) never takes "
        "off, so the Bass story of word of mouth does not describe it.</p>"
        if flagged
        else ""
    )
    return note + tables.frame_html(df, "bass_fits")


def _dispatch(runs: Sequence[Run]) -> str:
    parts = []
    for run in runs:
        df = tables.dispatch_frame(run)
        if df is not None:
            parts.append(tables.frame_html(df, f"dispatch_{run.label}", f"{run.label}"))
    if not parts:
        return ""
    return (
        '<p class="caption">The wait here runs from the request to the match with a taxi; '
        "the wait in the figure above runs to the pickup.</p>" + "".join(parts)
    )


def _calibration(cal: Calibrated | None) -> str:
    """The model against the record: the figure with its bands, the targets, the fit."""
    if cal is None:
        return ""
    caption = (
        f"Calibration {cal.name} in {cal.dir}: {len(cal.trials)} finished trials; the best "
        f"is trial {cal.best['trial']} (loss {float(cal.best['loss']):.4g}, the sum of z "
        f"squared). The band spans every replication of the best {len(cal.band)} trials; "
        "z = (model - record) / tolerance, within the tolerance when |z| <= 1. Records and "
        "tolerances are read from the targets file as it is now."
    )
    return (
        f'<p class="caption">{_esc(caption)}</p>'
        + _figure(calibration.fit_figure(cal), "calibration")
        + tables.frame_html(calibration.targets_frame(cal), "calibration_targets")
        + tables.frame_html(
            calibration.params_frame(cal), "calibration_params", "The fitted values."
        )
    )


def report_html(
    runs: Sequence[Run],
    baseline: Run | None = None,
    maps: dict[str, dict] | None = None,
    calibrated: Calibrated | None = None,
    search: str = "",
) -> str:
    """The page for ``runs`` (the baseline among them, if any) as an HTML string, with the
    calibration ``calibrated`` against the record when given; ``search``: the section of a
    policy search whose runs these are."""
    title = " vs ".join(r.label for r in runs) if len(runs) <= 3 else f"{len(runs)} runs"
    sections = [
        ("search", "Policy search", search),
        ("summary", "Headline", _headlines(runs)),
        ("calibration", "Model against the record", _calibration(calibrated)),
        (
            "baseline",
            f"Against the baseline, {baseline.label}" if baseline else "",
            _increments(runs, baseline),
        ),
        ("timeline", "Policy timeline", _figure(figures.timeline_figure(runs), "timeline")),
        (
            "adoption",
            "Adoption by rail and side",
            _figure(figures.adoption_figure(runs), "adoption"),
        ),
        ("bass", "Bass fits of the adoption curves", _bass(runs)),
        ("money", "Money", tables.frame_html(tables.money_frame(runs), "money")),
        ("waits", "Riders' waits", _figure(figures.waits_figure(runs), "waits")),
        ("fleet", "Fleet and waiting riders", _figure(figures.fleet_figure(runs), "fleet")),
        ("dispatch", "Dispatch by hailing channel", _dispatch(runs)),
        (
            "daily",
            "Daily by rail",
            tables.frame_html(tables.daily_by_rail(runs), "daily_by_rail"),
        ),
    ]
    channels = tables.daily_by_channel(runs)
    if channels is not None:
        sections.append(
            (
                "channels",
                "Daily by hailing channel",
                tables.frame_html(
                    channels,
                    "daily_by_channel",
                    "From the ride table: requests and completed rides of the full city.",
                ),
            )
        )
    for i, (label, fig) in enumerate((maps or {}).items()):
        sections.append(
            (
                f"map-{i}",
                f"Map: {label}",
                '<p class="caption">Taxis by state and riders waiting, rebuilt from the ride '
                "table: moves are drawn as straight lines between nodes, and a taxi appears "
                "from its first ride on (simulated taxis and riders).</p>"
                + _figure(fig, f"map-{i}"),
            )
        )
    sections.append(("scenario", "Scenario", "".join(_scenario_yaml(r) for r in runs)))
    nav = " ".join(f'<a href="#{i}">{_esc(h)}</a>' for i, h, body in sections if h and body)
    body = "".join((f'<h2 id="{i}">{_esc(h)}</h2>' if h else "") + b for i, h, b in sections if b)
    only_cash = all(not r.rails for r in runs)
    note = (
        '<p class="meta">Only cash in these runs: no adoption curves to plot.</p>'
        if only_cash
        else ""
    )
    metas = "".join(f'<p class="meta">{_meta(r)}</p>' for r in runs)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)} – taxisim report</title><style>{STYLE}</style>"
        f"<script>{QUIET_PAUSE}</script>"
        f'<script type="text/javascript">{_plotly_js()}</script></head><body>'
        f"<h1>{_esc(title)}</h1>{metas}"
        f"<nav>{nav}</nav>{note}{body}"
        f"<script>{tables.TABLE_SCRIPT}</script></body></html>\n"
    )


def default_out(run_dirs: Sequence[Path]) -> Path:
    """One run: its own ``report.html``; several: ``report.html`` in the current directory."""
    return run_dirs[0] / "report.html" if len(run_dirs) == 1 else Path("report.html")


def write_report(
    run_dirs: Sequence[str | Path] | str | Path,
    out: str | Path | None = None,
    *,
    baseline: str | Path | None = None,
    labels: Sequence[str] | None = None,
    map_window: str | None = DEFAULT_WINDOW,
    calibration: str | Path | None = None,
) -> Path:
    """Write the report of ``run_dirs`` (and ``baseline``, compared against) to ``out``.

    Every run directory is checked and read before anything is written; the page is written
    under a hidden name and renamed, so ``out`` is never half a page. A directory or an
    unwritable place is ``BadInput``, with nothing left behind. ``map_window`` (local
    ``HH:MM-HH:MM`` on the first day, or ``YYYY-MM-DD HH:MM-HH:MM``; None: no map) is the
    span of the animated map of each run that kept its rides. ``calibration``: a directory
    ``run_sim.py calibrate`` wrote, shown against the record; a calibration directory given
    alone as ``run_dirs`` is shown with its best trial's run (the page then goes to that
    directory's ``report.html``).
    """
    if isinstance(run_dirs, str | Path):
        run_dirs = [run_dirs]
    found = None
    if any(is_search(Path(d)) for d in run_dirs):  # an optimize directory: best vs base
        if len(run_dirs) > 1 or baseline is not None:
            raise BadInput("a policy search's directory is reported alone, without --baseline")
        found = read_search(Path(run_dirs[0]))
        out = out or Path(run_dirs[0]) / "report.html"
        run_dirs, baseline, labels = found.dirs, found.dirs[1], labels or found.labels
    cal_dirs = [d for d in run_dirs if calibration_dir(d)]
    if cal_dirs and (len(run_dirs) > 1 or calibration is not None):
        raise BadInput(
            f"{cal_dirs[0]}: a calibration directory goes alone, or with runs as --calibration DIR"
        )
    calibrated = read_calibrated(calibration) if calibration is not None else None
    if cal_dirs:
        calibrated = read_calibrated(cal_dirs[0])
        out = out or Path(cal_dirs[0]) / "report.html"
        run_dirs = [calibrated.best_run_dir()]
        labels = labels or [f"best trial {calibrated.best['trial']}"]
    dirs = [check_run_dir(d) for d in run_dirs]
    base_dir = check_run_dir(baseline) if baseline is not None else None
    if base_dir is not None and not any(d.resolve() == base_dir.resolve() for d in dirs):
        dirs.append(base_dir)
        if labels is not None:
            labels = [*labels, base_dir.name]
    out = Path(out) if out else default_out(dirs)
    if out.is_dir():
        raise BadInput(f"{out}: is a directory, not a file")
    if out.suffix.lower() not in (".html", ".htm"):
        raise BadInput(f"{out}: not an .html file name")
    runs = read_runs(dirs, labels)
    base = (
        next(r for r in runs if r.dir.resolve() == base_dir.resolve())
        if base_dir is not None
        else None
    )
    window = Window(map_window) if map_window else None
    if window is not None:
        window.bounds(runs[0].start)  # a malformed window is said before any work
    section = found.section if found else ""
    text = report_html(runs, base, map_sections(runs, window), calibrated, section)
    write_file(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return out
