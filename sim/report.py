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


def summary_table(s: dict[str, Any]) -> str:
    """The headline figures of ``summary.json`` as an aligned two-column table."""
    money = s["money"]
    rows = [
        ("scenario", s["scenario"]), ("seed", s["seed"]),
        ("simulated days", s["simulated_days"]), ("drivers (simulated)", s["drivers"]),
        ("requests", s["requests"]), ("completed", s["completed"]),
        ("abandoned", s["abandoned"]), ("open at end", s["open_at_end"]),
        ("wait to pickup mean / p90 (s)",
         f"{_fmt(s['wait_s']['mean'])} / {_fmt(s['wait_s']['p90'])}"),
        ("pickup time mean (s)", s["pickup_s"]["mean"]),
        ("driver utilization", s["utilization"]),
    ]
    rows += [(f"paid with {rail}", share) for rail, share in s["payment_share"].items()]
    rows += [
        ("fares (yuan)", money["fares_yuan"]),
        ("subsidies paid (yuan)", money["subsidy_total_yuan"]),
        ("subsidy per mobile ride (yuan)", money["subsidy_per_mobile_ride_yuan"]),
    ]
    for key, val in s.get("adoption", {}).get("final", {}).items():
        rows.append((f"final {key}", val))
    rows += [("events", s["events"]), ("wall time (s)", s["wall_s"])]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {_fmt(v)}" for k, v in rows)
