"""``run_sim.py lab``: a local browser app to play with a subsidy policy.

The policy's knobs (amount per side, the riders' daily cap, free rides, start and stop,
the rail's fee and settlement days, the dispatch policy) are controls; each change runs a
small sample of the scenario in a background thread and redraws the adoption curves day
by day as the run advances. Built on Panel (HoloViz): a maintained library that serves
Python callbacks to the browser over a websocket with no JavaScript of ours, embeds plotly
figures (the report's charting library) and takes its widgets from Bokeh; Solara would
need an ipywidgets stack beside it for the same. Served on 127.0.0.1 only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sim.errors import BadInput
from sim.registry import DISPATCH

RAIL_COLOURS = {"alipay": "#1677ff", "wechat_pay": "#07a35a"}
PANELS = (
    ("riders_bound_share", "riders: card bound"),
    ("ride_share", "share of the day's rides"),
    ("drivers_accepting_share", "drivers accepting"),
)


@dataclass
class Knobs:
    """The controls' values; ``overrides`` turns them into ``--set`` strings."""

    rider_yuan: float
    driver_yuan: float
    rider_cap: int  # rides a rider is subsidised per day; 0: no cap
    free_rides: int
    start: date
    stop: date
    fee_rate: float
    settlement_days: int
    dispatch: str


@dataclass
class Lab:
    """Where the knobs apply in the scenario, and the run in progress."""

    base: Path
    sample: float
    days: int
    rider: int  # index of the rider-side policy in the scenario's policies
    driver: int
    rail: int  # index of the policies' rail in payment.rails
    rail_id: str
    defaults: Knobs
    run_start: date
    generation: int = 0
    rows: list[tuple] = field(default_factory=list)
    status: str = "starting"
    city: Any = None
    window: tuple[date, date] | None = None  # the subsidy's span in the run shown

    def overrides(self, k: Knobs) -> list[str]:
        r, d, rail = self.rider, self.driver, self.rail
        out = [
            f"population.sample={self.sample}",
            f"duration={self.days}d",
            "outputs.rides=false",
            f"policies.{r}.amount_yuan={k.rider_yuan}",
            f"policies.{d}.amount_yuan={k.driver_yuan}",
            f"policies.{r}.per_user_daily_cap={k.rider_cap or 'null'}",
            f"policies.{r}.daily_free_rides={k.free_rides}",
            f"payment.rails.{rail}.fee_rate={k.fee_rate}",
            f"payment.rails.{rail}.settlement_days={k.settlement_days}",
            f"dispatch.policy={k.dispatch}",
        ]
        for i in (r, d):
            out += [f"policies.{i}.start={k.start}", f"policies.{i}.end={k.stop}"]
            out.append(f"policies.{i}.extended_to=null")
        return out

    def start_run(self, k: Knobs) -> None:
        """Run the scenario with ``k`` in a thread; a newer run makes this one's rows moot."""
        from sim.engine.world import World
        from sim.errors import ScenarioError
        from sim.scenario.load import load_scenario

        self.generation += 1
        mine = self.generation
        try:
            scn = load_scenario(self.base, self.overrides(k))
        except ScenarioError as exc:
            self.status = "; ".join(str(p) for p in exc.problems)
            return
        self.rows, self.status = [], f"run {mine}: running"
        self.window = (k.start, k.stop)

        def work() -> None:
            t0 = time.perf_counter()
            world = World(scn, None, city=self.city)
            self.rows = world.days.rows  # filled at each simulated midnight
            world.run()
            if self.generation == mine:
                self.status = (
                    f"run {mine}: done, {self.days} days in {time.perf_counter() - t0:.1f} s"
                )

        threading.Thread(target=work, daemon=True).start()

    def figure(self):
        from plotly.subplots import make_subplots

        from sim.records.daybook import DAILY_COLUMNS

        col = {c: i for i, c in enumerate(DAILY_COLUMNS)}
        fig = make_subplots(rows=1, cols=3, subplot_titles=[t for _, t in PANELS])
        rows = list(self.rows)
        start = self.run_start
        for n, (key, _) in enumerate(PANELS, start=1):
            for rail in dict.fromkeys(r[col["rail"]] for r in rows):
                if rail == "cash":
                    continue
                pts = [r for r in rows if r[col["rail"]] == rail]
                fig.add_trace(
                    {
                        "type": "scatter",
                        "x": [r[col["date"]] for r in pts],
                        "y": [r[col[key]] for r in pts],
                        "mode": "lines",
                        "name": rail,
                        "legendgroup": rail,
                        "showlegend": n == 1,
                        "line": {"color": RAIL_COLOURS.get(rail)},
                    },
                    row=1,
                    col=n,
                )
        end = start + timedelta(days=self.days)
        if self.window is not None:
            for n in (1, 2, 3):
                fig.add_vrect(
                    x0=str(self.window[0]),
                    x1=str(self.window[1]),
                    fillcolor=RAIL_COLOURS.get(self.rail_id, "#999999"),
                    opacity=0.08,
                    line_width=0,
                    row=1,
                    col=n,
                )
        fig.update_xaxes(range=[str(start), str(end)])
        fig.update_yaxes(range=[0, 1], tickformat=".0%")
        fig.update_layout(
            height=420, template="plotly_white", margin={"l": 50, "r": 20, "t": 40, "b": 40}
        )
        return fig


def make_lab(base: Path, sample: float, days: int) -> Lab:
    """The lab of a scenario with a rider-side and a driver-side policy on one rail."""
    from sim.city.travel import build_city
    from sim.scenario.load import load_scenario

    scn = load_scenario(base, [f"population.sample={sample}", f"duration={days}d"])
    rider = next((i for i, p in enumerate(scn.policies) if p.side == "rider"), None)
    if rider is None:
        raise BadInput(f"{base}: the lab needs a scenario with a rider-side subsidy policy")
    rail_id = scn.policies[rider].rail
    driver = next(
        (i for i, p in enumerate(scn.policies) if p.side == "driver" and p.rail == rail_id), None
    )
    if driver is None:
        raise BadInput(f"{base}: the lab needs a driver-side policy on {rail_id} too")
    rp, dp = scn.policies[rider], scn.policies[driver]
    rails = [r.id for r in scn.payment.rails]
    rail = scn.payment.rails[rails.index(rail_id)]

    def amount(p) -> float:
        return p.amount_yuan if isinstance(p.amount_yuan, float) else p.amount_yuan.max

    defaults = Knobs(
        rider_yuan=amount(rp),
        driver_yuan=amount(dp),
        rider_cap=rp.per_user_daily_cap or 0,
        free_rides=rp.daily_free_rides,
        start=rp.start.date(),
        stop=rp.effective_end.date(),
        fee_rate=rail.fee_rate,
        settlement_days=rail.settlement_days,
        dispatch=scn.dispatch.policy,
    )
    return Lab(
        base,
        sample,
        days,
        rider,
        driver,
        rails.index(rail_id),
        rail_id,
        defaults,
        scn.start.date(),
        city=build_city(scn.city),
    )


def app(lab: Lab):
    """The page: controls on the left, the curves and the run's status on the right."""
    import panel as pn

    d = lab.defaults
    w = {
        "rider_yuan": pn.widgets.EditableFloatSlider(
            name="rider subsidy per ride (yuan)", start=0, end=20, step=0.5, value=d.rider_yuan
        ),
        "driver_yuan": pn.widgets.EditableFloatSlider(
            name="driver subsidy per ride (yuan)", start=0, end=20, step=0.5, value=d.driver_yuan
        ),
        "rider_cap": pn.widgets.EditableIntSlider(
            name="rides subsidised per rider a day (0: no cap)", start=0, end=10, value=d.rider_cap
        ),
        "free_rides": pn.widgets.EditableIntSlider(
            name="free rides drawn a day", start=0, end=1000, step=50, value=d.free_rides
        ),
        "start": pn.widgets.DatePicker(name="subsidy starts", value=d.start),
        "stop": pn.widgets.DatePicker(name="subsidy stops", value=d.stop),
        "fee_rate": pn.widgets.EditableFloatSlider(
            name=f"{lab.rail_id} fee (share of the fare)",
            start=0,
            end=0.02,
            step=0.001,
            value=d.fee_rate,
        ),
        "settlement_days": pn.widgets.EditableIntSlider(
            name="settlement days (drivers)", start=0, end=7, value=d.settlement_days
        ),
        "dispatch": pn.widgets.Select(
            name="dispatch policy", options=list(DISPATCH.names()), value=d.dispatch
        ),
    }
    plot = pn.pane.Plotly(lab.figure(), sizing_mode="stretch_width", height=440)
    status = pn.pane.Markdown(lab.status, css_classes=["lab-status"])
    shown = {"gen": -1, "n": -1, "status": ""}

    def rerun(*_events) -> None:
        lab.start_run(Knobs(**{k: v.value for k, v in w.items()}))

    def refresh() -> None:
        if (lab.generation, len(lab.rows), lab.status) != (
            shown["gen"],
            shown["n"],
            shown["status"],
        ):
            shown.update(gen=lab.generation, n=len(lab.rows), status=lab.status)
            plot.object = lab.figure()
            day = len(lab.rows) // max(1, len({r[2] for r in lab.rows}) or 1)
            status.object = (
                f"**{lab.status}** · day {day} of {lab.days}"
                if "done" not in lab.status
                else f"**{lab.status}**"
            )

    for widget in w.values():
        widget.param.watch(rerun, "value")

    def start() -> None:
        rerun()
        callback = pn.state.add_periodic_callback(refresh, period=300)
        # a closed tab stops its updates (else they are written to a closed websocket)
        pn.state.on_session_destroyed(lambda _context: callback.stop())

    pn.state.onload(start)
    intro = pn.pane.Markdown(
        f"### taxisim lab: {lab.base.name}\n{lab.sample:.1%} sample, {lab.days} days. "
        "Change a control: the run starts again and the curves redraw as it advances."
    )
    return pn.Row(
        pn.Column(intro, *w.values(), width=360),
        pn.Column(status, plot, sizing_mode="stretch_width"),
    )


def serve(base: Path, port: int, sample: float, days: int, log=print) -> None:
    """Serve the lab on 127.0.0.1:``port`` until interrupted."""
    import panel as pn

    template = make_lab(base, sample, days)  # the city is built once, for every session
    log(f"lab: http://127.0.0.1:{port}/ (Ctrl-C to stop)")
    pn.serve(
        lambda: app(replace(template, rows=[], generation=0)),  # each browser tab its own run
        address="127.0.0.1",
        port=port,
        show=False,
        websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"],
        title="taxisim lab",
        print=False,
    )
