"""A run as one self-contained HTML page: tables and figures, nothing fetched from anywhere.

Figures are PNGs embedded as base64 data URIs and the style sheet is inline, so the file
opens in a browser from disk, by mail or from an artifact store, with no server.
"""

from __future__ import annotations

import base64
import csv
import html
import io as _bytes
import json
from pathlib import Path
from typing import Any

from sim.errors import BadInput
from sim.io.files import write_file
from sim.report.compare import check_run_dir, run_days, wait_series, wait_step

STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em auto;max-width:72em;
color:#222;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}
h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.6em 0;font-size:.92em}
th,td{padding:.25em .8em;border-bottom:1px solid #eee;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#f6f6f6}
img{max-width:100%;height:auto}.meta{color:#666;font-size:.9em}
pre{background:#f6f6f6;padding:1em;overflow:auto;font-size:.8em}
"""


def _fmt(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:,.4f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def table(header: list[str], rows: list[list[Any]]) -> str:
    """An HTML table; every cell escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(c))}</td>" for c in r) + "</tr>" for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def png_data_uri(fig) -> str:
    """A figure as a PNG data URI, so the page needs no file beside it."""
    buf = _bytes.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _figure(title: str, fig) -> str:
    if fig is None:
        return ""
    uri = png_data_uri(fig)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<h2>{html.escape(title)}</h2><img alt="{html.escape(title)}" src="{uri}">'


def _rows(path: Path, columns: tuple[str, ...]) -> list[tuple]:
    """A CSV as tuples in the order of ``columns`` (as the engine keeps them in memory)."""
    out = []
    with open(path, newline="", encoding="utf-8") as f:
        for rec in csv.DictReader(f):
            out.append(tuple(_number(rec.get(c, "")) for c in columns))
    return out


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def summary_rows(s: dict[str, Any]) -> list[list[Any]]:
    """Every scalar figure of the summary in its own order, then the waits on one line each."""
    rows: list[list[Any]] = [
        [k.replace("_", " "), str(v) if k == "seed" else v]
        for k, v in s.items()
        if not isinstance(v, dict | list) and k != "wall_s"
    ]
    for key, label in (
        ("wait_s", "wait to pickup (s)"),
        ("match_wait_s", "wait to match (s)"),
        ("pickup_s", "pickup drive (s)"),
    ):
        d = s.get(key)
        if isinstance(d, dict):
            rows.append(
                [
                    f"{label} mean / p50 / p90",
                    " / ".join(_fmt(d.get(q)) for q in ("mean", "p50", "p90")),
                ]
            )
    rows.append(["wall time (s)", s.get("wall_s")])
    return rows


def money_html(money: dict[str, Any]) -> str:
    policies = [
        [
            pid,
            p.get("rail"),
            p.get("side"),
            p.get("spent_yuan"),
            p.get("rides_paid"),
            p.get("free_rides"),
        ]
        for pid, p in money.get("subsidy_by_policy", {}).items()
    ]
    out = table(
        ["policy", "rail", "side", "spent (yuan)", "rides paid", "free rides"],
        policies or [["no subsidy policy", "", "", "", "", ""]],
    )
    rails = list(money.get("fares_by_rail_yuan", {}))
    out += table(
        ["rail", "fares (yuan)", "fees (yuan)"],
        [[r, money["fares_by_rail_yuan"].get(r), money.get("fees_yuan", {}).get(r)] for r in rails],
    )
    side = money.get("subsidy_by_side_yuan", {})
    out += table(
        ["total", "yuan"],
        [
            ["fares", money.get("fares_yuan")],
            ["subsidy to riders", side.get("rider")],
            ["subsidy to drivers", side.get("driver")],
            ["subsidy total", money.get("subsidy_total_yuan")],
            ["subsidy per mobile-paid ride", money.get("subsidy_per_mobile_ride_yuan")],
            ["driver income settled", money.get("driver_income_settled_yuan")],
            ["driver income awaiting settlement", money.get("driver_income_unsettled_yuan")],
        ],
    )
    return out


def adoption_rows(s: dict[str, Any]) -> list[list[Any]]:
    """Per mobile rail: final shares, share of payments, Bass fit of the riders' curve."""
    final = s.get("adoption", {}).get("final", {})
    fits = s.get("adoption", {}).get("bass_fit", {})
    rails = list(dict.fromkeys(k.split(".")[0] for k in final))
    rows = []
    for r in rails:
        fit = fits.get(f"{r}.riders_bound") or {}
        if fit.get("r2") is None:  # a flat curve: p and q are not identified, say nothing
            fit = {}
        rows.append(
            [
                r,
                final.get(f"{r}.riders_bound"),
                final.get(f"{r}.riders_active"),
                final.get(f"{r}.drivers_accepting"),
                s.get("payment_share", {}).get(r),
                fit.get("p"),
                fit.get("q"),
                fit.get("m"),
                fit.get("r2"),
            ]
        )
    return rows


def dispatch_html(s: dict[str, Any]) -> str:
    """Per hailing channel, when the run reports them: every figure, flattened."""
    channels = s.get("dispatch")
    if not isinstance(channels, dict) or not channels:
        return ""
    from sim.records.summary import flatten

    flat = {name: flatten(v) for name, v in channels.items() if isinstance(v, dict)}
    keys = list(dict.fromkeys(k for f in flat.values() for k in f))
    return "<h2>Dispatch by channel</h2>" + table(
        ["figure", *flat], [[k, *(f.get(k) for f in flat.values())] for k in keys]
    )


def _scenario(manifest: dict[str, Any]):
    from sim.errors import ScenarioError
    from sim.scenario.load import scenario_from_dict

    try:
        return scenario_from_dict(manifest["scenario"], "manifest.json")
    except (ScenarioError, KeyError, TypeError):
        return None  # written by another version of the schema: no shaded policy windows


def report_html(run_dir: str | Path) -> str:
    """The report of a finished run as an HTML string."""
    from sim.records.daybook import DAILY_COLUMNS
    from sim.records.ridelog import TIMESERIES_COLUMNS
    from sim.report.plots import adoption_figure, fleet_figure

    d = check_run_dir(run_dir)
    s = json.loads((d / "summary.json").read_text("utf-8"))
    manifest = (
        json.loads((d / "manifest.json").read_text("utf-8"))
        if (d / "manifest.json").exists()
        else {}
    )
    scn = _scenario(manifest)
    adoption = fleet = waits = None
    adoption_note = ""
    if scn is not None and any(r.id != "cash" for r in scn.payment.rails):
        adoption = adoption_figure(_rows(d / "daily.csv", DAILY_COLUMNS), scn)
    elif scn is not None:  # an empty figure would say less than this line
        adoption_note = '<p class="meta">Only cash in this run: no adoption curves to plot.</p>'
    if (d / "timeseries.csv").exists():
        fleet = fleet_figure(_rows(d / "timeseries.csv", TIMESERIES_COLUMNS))
    hourly = wait_step(run_days(d)) < 86400.0  # one run: hours read better for short ones
    series = wait_series(d, unit="hours" if hourly else "days")
    if series is not None and len(series[0]):
        import matplotlib.pyplot as plt

        waits, ax = plt.subplots(figsize=(10, 3.2))
        ax.plot(series[0], series[1], color="crimson")
        ax.set_xlabel(series[2])
        ax.set_ylabel("mean wait (min)")
        ax.set_title("riders' wait from request to pickup (completed rides)")
        ax.grid(alpha=0.3)
        waits.tight_layout()
    name = html.escape(str(s.get("scenario", d.name)))
    meta = " · ".join(
        html.escape(f"{k}: {_fmt(v)}")
        for k, v in (
            ("seed", str(s.get("seed"))),
            ("scenario file", manifest.get("scenario_file")),
            ("package", manifest.get("package_version")),
            ("commit", manifest.get("git_commit")),
            ("python", manifest.get("python")),
        )
        if v is not None
    )
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{name} – taxisim '
        f"report</title><style>{STYLE}</style></head><body>",
        f'<h1>{name}</h1><p class="meta">{meta}</p>',
        "<h2>Summary</h2>",
        table(["figure", "value"], summary_rows(s)),
        "<h2>Money</h2>",
        money_html(s.get("money", {})),
        "<h2>Adoption by rail (end of run)</h2>",
        table(
            [
                "rail",
                "riders bound",
                "riders active",
                "drivers accepting",
                "share of payments",
                "Bass p",
                "Bass q",
                "Bass m",
                "Bass R²",
            ],
            adoption_rows(s),
        ),
        _figure("Adoption of payment rails", adoption) or adoption_note,
        dispatch_html(s),
        _figure("Fleet and waiting riders", fleet),
        _figure("Riders' waits", waits),
    ]
    if manifest.get("scenario"):
        text = html.escape(json.dumps(manifest["scenario"], indent=1))
        parts.append(
            f"<h2>Scenario</h2><details><summary>resolved scenario "
            f"(manifest.json)</summary><pre>{text}</pre></details>"
        )
    parts.append("</body></html>\n")
    return "\n".join(p for p in parts if p)


def write_report(run_dir: str | Path, out: str | Path | None = None) -> Path:
    """Write ``report.html`` (by default inside the run directory) and return its path.

    Written under a hidden name and renamed, so ``out`` is never half a page; a directory
    or an unwritable place is ``BadInput``, with nothing left behind.
    """
    run_dir = check_run_dir(run_dir)
    out = Path(out) if out else run_dir / "report.html"
    if out.is_dir():
        raise BadInput(f"{out}: is a directory, not a file")
    text = report_html(run_dir)
    write_file(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    return out
