"""run_sim.py given output places it cannot use, and validate given cities run refuses:
one error line, exit 2, nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conftest import small
from tests.test_cli import cli, scenario_file


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def one_error(r, *words: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), r.stderr
    assert all(w in lines[0] for w in words), (words, lines[0])
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr


@pytest.mark.parametrize("out", [".", "..", "sub/.."])
def test_run_refuses_the_current_directory_and_its_parents(tmp_path, out):
    work = tmp_path / "work"
    (work / "sub").mkdir(parents=True)
    f = scenario_file(work)
    before = listing(tmp_path)
    r = cli("run", str(f), "--out", out, "--force", "--quiet", cwd=work)
    one_error(r, "current directory")
    assert listing(tmp_path) == before


def test_run_refuses_the_project_directory(tmp_path, monkeypatch):
    """Through the API with the project directory pointed at a scratch folder, so a broken
    check replaces that folder and not the project."""
    import sim
    from sim.io import targets as io

    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "keep.txt").write_text("keep")
    monkeypatch.setattr(io, "PROJECT", proj.resolve())
    before = listing(tmp_path)
    for out in (proj, tmp_path):
        with pytest.raises(sim.OutputExists, match="project directory"):
            sim.run(small(duration="1h"), out, force=True)
    assert listing(tmp_path) == before


def test_the_api_refuses_the_current_directory_too(tmp_path, monkeypatch):
    import sim

    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.txt").write_text("keep")
    with pytest.raises(sim.OutputExists, match="current directory"):
        sim.run(small(duration="1h"), ".", force=True)
    assert listing(tmp_path) == ["keep.txt"]


def test_run_into_a_file_or_below_one(tmp_path):
    f = scenario_file(tmp_path)
    (tmp_path / "afile").write_text("keep")
    before = listing(tmp_path)
    for args in (("--out", "afile"), ("--out", "afile", "--force")):
        one_error(cli("run", str(f), *args, "--quiet", cwd=tmp_path), "afile", "is a file")
    one_error(
        cli("run", str(f), "--out", "afile/sub/run", "--quiet", cwd=tmp_path), "afile is a file"
    )
    assert listing(tmp_path) == before and (tmp_path / "afile").read_text() == "keep"


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_run_into_an_uncreatable_place(tmp_path):
    r = cli("run", str(scenario_file(tmp_path)), "--out", "/proc/taxisim-nope", "--quiet")
    one_error(r, "/proc/taxisim-nope", "cannot write")
    assert not Path("/proc/taxisim-nope").exists()


def test_validate_runs_the_city_checks_of_run(tmp_path):
    bad_xml = tmp_path / "bad.graphml"
    bad_xml.write_text("<graphml><node", encoding="utf-8")
    cases = {
        "file not found": {"kind": "graphml", "path": str(tmp_path / "none.graphml")},
        "cannot read GraphML": {"kind": "graphml", "path": str(bad_xml)},
        "no node 99999": {**small()["city"], "places": {"airport": {"node": 99999}}},
    }
    for words, city in cases.items():
        f = tmp_path / "s.yaml"
        f.write_text(yaml.safe_dump({**small(), "city": city}), encoding="utf-8")
        for command in ("validate", "run"):
            one_error(
                cli(command, str(f), "--out", str(tmp_path / "o"))
                if command == "run"
                else cli(command, str(f)),
                str(f),
                "city.",
                words,
            )
    assert not (tmp_path / "o").exists()
    cache = tmp_path / "cache"
    r = cli("validate", str(scenario_file(tmp_path)), env={"TAXISIM_CACHE": str(cache)})
    assert r.returncode == 0 and "valid" in r.stdout, r.stderr
    assert not cache.exists()  # the city was checked, its matrices not built


def test_help_names_every_argument_without_markup():
    top = cli("--help")
    assert top.returncode == 0 and "``" not in top.stdout and "exit codes" in top.stdout
    for command, arg in (
        ("run", "file"),
        ("validate", "file"),
        ("sweep", "file"),
        ("compare", "RUN_DIR"),
        ("report", "RUN_DIR"),
    ):
        r = cli(command, "--help")
        assert r.returncode == 0 and "``" not in r.stdout
        block = r.stdout.split("positional arguments:")[1].split("options:")[0]
        line = next(x for x in block.splitlines() if x.strip().startswith(arg))
        assert len(line.split()) > 1, (command, line)  # the argument has help text


def test_validate_reports_unmakeable_values_in_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    for text, words in (
        ("start: 2013-12-01T25:00:00\n", ("invalid value", "hour")),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", ("nested too deeply",)),
    ):
        bad.write_text(text, encoding="utf-8")
        one_error(cli("validate", str(bad)), *words)
