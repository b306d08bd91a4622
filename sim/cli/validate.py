"""``validate``: what kind of file it is, and the checks its command makes before it
starts (a scenario's city, a sweep's runs and metrics, a search's targets), without
running anything."""

from __future__ import annotations

from pathlib import Path


def file_kind(path: Path) -> str:
    """``sweep`` for a file that names its ``base`` scenario and no section of a scenario
    (a scenario with a stray ``base:`` is a scenario with an unknown key), ``calibration``
    if it also names ``targets``, else ``scenario``; anything unreadable is left to the
    scenario loader to report."""
    from sim.errors import ScenarioError
    from sim.scenario.spec import Scenario
    from sim.scenario.yamlfile import read_yaml_file

    try:
        data = read_yaml_file(path)
    except ScenarioError:
        return "scenario"  # load_scenario says what is wrong, in its words
    scenario_only = set(Scenario.model_fields) - {"seed"}
    if not isinstance(data, dict) or "base" not in data or set(data) & scenario_only:
        return "scenario"
    for kind, key in (("calibration", "targets"), ("optimize", "objectives"), ("game", "players")):
        if key in data:
            return kind
    return "sweep"


def check_city(scenario) -> None:
    """The city checks of a run (graph file, connectivity, places, cells) without its
    travel-time matrices, which take minutes on a big graph; raises ``CityError``."""
    from sim.city.travel import build_city

    build_city(scenario.city, matrices=False)


def sweep(args) -> int:
    """Plan every run of a sweep (each scenario resolved and validated) and check its
    metrics, as ``sweep`` does before it starts, without running anything."""
    import json

    from sim.scenario.load import scenario_from_dict
    from sim.sweep.runner import check_metrics, plan
    from sim.sweep.spec import read_spec, with_overrides

    spec = read_spec(args.file)
    if args.overrides:
        spec = with_overrides(spec, args.file.parent, str(args.file), args.overrides)
    tasks = plan(spec, args.file.parent, str(args.file), Path("runs") / "validate")
    cities = {json.dumps(t.scenario["city"], sort_keys=True): t.scenario for t in tasks}
    for scenario in cities.values():  # each distinct city checked as run checks it
        check_city(scenario_from_dict(scenario, str(args.file)))
    check_metrics(spec, tasks, str(args.file))
    print(
        f"ok: {args.file}: sweep of {len(tasks)} runs ({len(tasks) // spec.replications}"
        f" points x {spec.replications} replications) is valid"
    )
    return 0


def calibration(args) -> int:
    """Check a calibration file, its base, its parameters and its targets (on a tiny run),
    as ``calibrate`` does before it starts, without running any trial."""
    from sim.calibrate.spec import read_calibration

    cal = read_calibration(args.file)
    print(
        f"ok: {args.file}: calibration of {len(cal.spec.params)} parameters to "
        f"{len(cal.targets)} targets is valid"
    )
    return 0


def policy(args, kind: str) -> int:
    """Check an optimize or game file, its base, its parameters and its metrics (on a
    tiny run), as the command does before it starts, without running any trial."""
    from sim.policy import read_game, read_optimize

    loaded = (read_optimize if kind == "optimize" else read_game)(args.file)
    print(f"ok: {args.file}: {kind} file over {loaded.spec.base} is valid")
    return 0
