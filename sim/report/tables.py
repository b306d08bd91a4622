"""Tables of a report as pandas frames (daily by rail, daily by hailing channel, money,
dispatch, Bass fits) and as HTML that the page's script sorts and downloads as CSV.

Each cell keeps its raw value in ``data-v`` (what the CSV and the sort use) beside the text
shown, so a downloaded table has the numbers, not their formatting.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd

from sim.records.summary import flatten
from sim.report.brief import DISPATCH_ROWS, bass_flags, channel_name, plain_key, rail_name
from sim.report.rundir import Run

DAILY_HEADINGS = {
    "date": "date",
    "rail": "rail",
    "riders_installed_share": "riders with the rail's app",
    "riders_bound_share": "riders with a card bound",
    "riders_active_share": "riders who paid with it that day",
    "drivers_accepting_share": "drivers accepting",
    "rides_paid": "rides paid",
    "ride_share": "share of rides",
    "subsidy_rider_yuan": "rider subsidy (yuan)",
    "subsidy_driver_yuan": "driver subsidy (yuan)",
    "free_rides": "free rides",
    "free_ride_yuan": "free rides (yuan)",
    "unsettled_yuan": "drivers' money awaiting settlement (yuan)",
    "linked_app_ride_share": "own app's rides paid with it",
}
SHARE_WORDS = ("share", "riders with", "riders who", "drivers accepting", "gave up", "matched")


def daily_by_rail(runs: Sequence[Run]) -> pd.DataFrame:
    """daily.csv of every run, one row per run, day and rail, with plain headings."""
    frames = []
    for run in runs:
        df = pd.DataFrame({k: v for k, v in run.daily.items() if k in DAILY_HEADINGS})
        df.insert(0, "run", run.label)
        frames.append(df)
    return pd.concat(frames, ignore_index=True).rename(columns=DAILY_HEADINGS)


def daily_by_channel(runs: Sequence[Run]) -> pd.DataFrame | None:
    """Per run, day and hailing channel (street, each app, pre-booked) from the ride table:
    requests and completed rides of the full city, share given up, mean waits in minutes."""
    frames = []
    for run in runs:
        if run.rides is None:
            continue
        scale = 1.0 / float(run.summary.get("sample") or 1.0)
        df = run.rides
        platform = df["platform"].fillna("")
        channel = df["channel"].fillna("").where(df["channel"] != "app", "app:" + platform)
        names = {c: channel_name(c) for c in channel.unique()}
        g = pd.DataFrame(
            {
                "day": (df["t_request"] // 86400).astype(int),
                "channel": channel.map(names),
                "completed": df["status"] == "completed",
                "abandoned": df["status"] == "abandoned",
                "to_match": (df["t_match"] - df["t_request"]) / 60.0,
                "to_pickup": (df["t_pickup"] - df["t_request"]) / 60.0,
            }
        ).groupby(["day", "channel"], sort=True)
        out = pd.DataFrame(
            {
                "requests": g.size() * scale,
                "completed": g["completed"].sum() * scale,
                "gave up (share)": g["abandoned"].mean(),
                "wait to match, mean (min)": g["to_match"].mean(),
                "wait to pickup, mean (min)": g["to_pickup"].mean(),
            }
        ).reset_index()
        first = run.start.date()
        out.insert(0, "date", [str(first + timedelta(days=int(d))) for d in out.pop("day")])
        out.insert(0, "run", run.label)
        for c in ("requests", "completed"):
            out[c] = out[c].round().astype("int64")
        frames.append(out)
    return pd.concat(frames, ignore_index=True) if frames else None


def money_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """Subsidy by policy and each run's total, one row per run and policy."""
    rows = []
    for run in runs:
        money = run.summary.get("money", {})
        for pid, p in money.get("subsidy_by_policy", {}).items():
            rows.append(
                {
                    "run": run.label,
                    "policy": pid,
                    "rail": rail_name(p.get("rail", "")),
                    "side": p.get("side"),
                    "spent (yuan)": p.get("spent_yuan"),
                    "rides paid a subsidy": p.get("rides_paid"),
                    "free rides": p.get("free_rides"),
                }
            )
        rows.append(
            {
                "run": run.label,
                "policy": "all policies",
                "side": "both",
                "spent (yuan)": money.get("subsidy_total_yuan"),
                "per mobile-paid ride (yuan)": money.get("subsidy_per_mobile_ride_yuan"),
                "fares (yuan)": money.get("fares_yuan"),
            }
        )
    return pd.DataFrame(rows)


def dispatch_frame(run: Run) -> pd.DataFrame | None:
    """Figures of each hailing channel of a run, in plain words with their units."""
    channels = run.summary.get("dispatch")
    if not isinstance(channels, dict) or not channels:
        return None
    flat = {
        channel_name(k): flatten(v)
        for k, v in channels.items()
        if isinstance(v, dict) and v.get("requests", 1)  # a channel nobody used: no column
    }
    known = [k for k, _, _ in DISPATCH_ROWS]
    names = {k: label for k, label, _ in DISPATCH_ROWS}
    keys = [k for k in known if any(k in f for f in flat.values())]
    keys += [k for f in flat.values() for k in f if k not in names and k not in keys]
    return pd.DataFrame(
        {
            "figure": [names.get(k, plain_key(k)) for k in keys],
            **{c: [f.get(k) for k in keys] for c, f in flat.items()},
        }
    )


def bass_row(label: str, key: str, fit: dict[str, Any]) -> dict[str, Any]:
    """One Bass fit in words: a flat curve's parameters left blank (not identified), and
    its flags ("ok" for a normal S-curve)."""
    rail, _, curve = key.partition(".")
    flags = bass_flags(fit)
    identified = fit.get("r2") is not None
    return {
        "run": label,
        "rail": rail_name(rail),
        "curve": curve.replace("_", " "),
        "p (innovation)": fit.get("p") if identified else None,
        "q (imitation)": fit.get("q") if identified else None,
        "m (ceiling)": fit.get("m") if identified else None,
        "R²": fit.get("r2"),
        "days": fit.get("n"),
        "flags": "; ".join(flags) if flags else "ok",
    }


def bass_frame(runs: Sequence[Run]) -> pd.DataFrame:
    """Every Bass fit of every run with its flags."""
    return pd.DataFrame(
        [
            bass_row(run.label, key, fit)
            for run in runs
            for key, fit in run.summary.get("adoption", {}).get("bass_fit", {}).items()
        ]
    )


# --- HTML ----------------------------------------------------------------------------------
def _cell_text(v: Any, column: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, bool | np.bool_):
        return "yes" if v else "no"
    if isinstance(v, int | np.integer):
        return f"{int(v):,}"
    if isinstance(v, float | np.floating):
        v = float(v)
        if any(w in column for w in SHARE_WORDS) and 0 <= v <= 1:
            return f"{100 * v:.1f}%"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        return f"{v:.4g}" if abs(v) < 1 else f"{v:,.2f}".rstrip("0").rstrip(".")
    return str(v)


def _raw(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, np.generic):
        v = v.item()
    return str(v)


def frame_html(df: pd.DataFrame, name: str, caption: str = "", max_height: bool = True) -> str:
    """A table the page's script can sort (click a heading) and save as ``NAME.csv``."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    body = []
    for row in df.itertuples(index=False):
        cells = []
        for c, v in zip(df.columns, row, strict=True):
            numeric = isinstance(v, int | float | np.number) and not isinstance(v, bool)
            cls = ' class="num"' if numeric else ""
            context = f"{c} {row[0]}"  # a column's name, or the row's (figures as rows)
            raw, shown = html.escape(_raw(v)), html.escape(_cell_text(v, context))
            cells.append(f'<td{cls} data-v="{raw}">{shown}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    wrap = "scroll" if max_height and len(df) > 25 else "flat"
    cap = f"<p class='caption'>{html.escape(caption)}</p>" if caption else ""
    return (
        f'<div class="table {wrap}">{cap}<div class="tools"><button type="button" '
        f'class="csv" data-name="{html.escape(name)}">Download CSV</button> '
        f'<span class="rows">{len(df):,} rows · click a heading to sort</span></div>'
        f'<div class="box"><table class="data" data-name="{html.escape(name)}"><thead><tr>'
        f"{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div></div>"
    )


TABLE_SCRIPT = """
document.querySelectorAll('table.data').forEach(function (t) {
  t.querySelectorAll('th').forEach(function (th, i) {
    th.addEventListener('click', function () {
      var up = th.getAttribute('aria-sort') !== 'ascending';
      t.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      var rows = Array.prototype.slice.call(t.tBodies[0].rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].dataset.v, y = b.cells[i].dataset.v;
        var nx = Number(x), ny = Number(y), c;
        if (x === '' || y === '') c = (x === '') - (y === '');
        else if (!isNaN(nx) && !isNaN(ny)) c = nx - ny;
        else c = x.localeCompare(y);
        return up ? c : -c;
      });
      rows.forEach(function (r) { t.tBodies[0].appendChild(r); });
    });
  });
});
document.querySelectorAll('button.csv').forEach(function (b) {
  b.addEventListener('click', function () {
    var t = document.querySelector('table.data[data-name="' + b.dataset.name + '"]');
    var q = function (s) { return /[",\\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s; };
    var lines = [Array.prototype.map.call(t.tHead.rows[0].cells,
                   function (c) { return q(c.textContent); }).join(',')];
    Array.prototype.forEach.call(t.tBodies[0].rows, function (r) {
      lines.push(Array.prototype.map.call(r.cells,
                 function (c) { return q(c.dataset.v); }).join(','));
    });
    var a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([lines.join('\\n') + '\\n'], {type: 'text/csv'}));
    a.download = b.dataset.name + '.csv';
    document.body.appendChild(a); a.click(); a.remove();
  });
});
"""
