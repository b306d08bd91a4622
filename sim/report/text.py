"""Text views of a run for the terminal."""

from __future__ import annotations

from typing import Any


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.3f}" if abs(v) < 1000 else f"{v:,.0f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def _yuan(v: float | None, decimals: int = 0) -> str:
    """Money in one format down a column, whatever its size."""
    return "-" if v is None else f"{v:,.{decimals}f}"


def summary_table(s: dict[str, Any]) -> str:
    """The headline figures of ``summary.json`` as an aligned two-column table."""
    money = s["money"]
    rows = [
        ("scenario", s["scenario"]),
        ("seed", str(s["seed"])),
        ("simulated days", s["simulated_days"]),
        ("drivers (simulated)", s["simulated_drivers"]),
        ("requests", s["requests"]),
        ("completed", s["completed"]),
        ("abandoned", s["abandoned"]),
        ("open at end", s["open_at_end"]),
        (
            "wait to pickup mean / p90 (s)",
            f"{_fmt(s['pickup_wait_s']['mean'])} / {_fmt(s['pickup_wait_s']['p90'])}",
        ),
        ("pickup time mean (s)", s["pickup_s"]["mean"]),
        ("driver utilization", s["utilization"]),
    ]
    rows += [(f"paid with {rail}", share) for rail, share in s["payment_share"].items()]
    rows += [
        ("fares (yuan)", _yuan(money["fares_yuan"])),
        ("subsidies paid (yuan)", _yuan(money["subsidy_total_yuan"])),
        ("subsidy per mobile ride (yuan)", _yuan(money["subsidy_per_mobile_ride_yuan"], 2)),
    ]
    rows += [("events", s["events"]), ("wall time (s)", s["wall_s"])]
    width = max(len(k) for k, _ in rows)
    table = "\n".join(f"{k:<{width}}  {_fmt(v)}" for k, v in rows)
    parts = [table, channel_table(s), rail_table(s)]
    return "\n\n".join(p for p in parts if p)


def channel_table(s: dict[str, Any]) -> str:
    """Who took the trips: potential trips, and requests on the street and per app."""
    demand = s.get("demand")
    if not demand or not demand.get("potential_trips"):
        return ""
    requests = demand["requests"] or 1
    rows = [
        ("potential trips", demand["potential_trips"], ""),
        ("taken as taxi requests", demand["requests"], _fmt(demand["take_share"])),
        ("hailed on the street", demand["street_hails"], _fmt(demand["street_hails"] / requests)),
    ]
    for name, p in s.get("platforms", {}).items():
        rows.append((f"ordered through {name}", p["orders"], _fmt(p["orders"] / requests)))
    cells = [(k, _fmt(v), share) for k, v, share in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    lines = [f"{k:<{widths[0]}}  {v:>{widths[1]}}  {share:>{widths[2]}}" for k, v, share in cells]
    return "trips over the run (count, share)\n" + "\n".join(lines)


def rail_table(s: dict[str, Any]) -> str:
    """The rails side by side at the end of the run: who adopted, who paid, what it cost."""
    final = s.get("adoption", {}).get("final", {})
    rails = [r for r in s["payment_share"] if r != "cash"]
    if not final or not rails:
        return ""
    spent: dict[str, float] = {}
    for p in s["money"]["subsidy_by_policy"].values():
        spent[p["rail"]] = spent.get(p["rail"], 0.0) + p["spent_yuan"]
    head = (
        "rail",
        "riders bound",
        "riders paid today",
        "drivers accepting",
        "share of rides",
        "subsidy (yuan)",
    )
    body = [
        (
            r,
            final.get(f"{r}.riders_bound"),
            final.get(f"{r}.riders_active"),
            final.get(f"{r}.drivers_accepting"),
            s["payment_share"][r],
            spent.get(r, 0.0),
        )
        for r in rails
    ]
    cells = [head, *[(*(_fmt(v) for v in row[:-1]), _yuan(row[-1])) for row in body]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(head))]
    lines = [
        "  ".join(
            c.rjust(w) if i else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in cells
    ]
    return (
        "rails at the end of the run (share of riders / drivers; rides over the run)\n"
        + "\n".join(lines)
    )
