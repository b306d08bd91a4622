"""The lab in a real browser: ``run_sim.py lab`` served on 127.0.0.1, opened in headless
Chromium; the first run draws its curves as it advances, and a changed control runs the
scenario again. Skipped, with the reason, where no browser is installed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.test_browser_report import make_driver, need_browser, severe

# Panel renders its widgets inside shadow roots: find an element through them.
FIND = """
function find(root, sel) {
  var hit = root.querySelector(sel);
  if (hit) return hit;
  var all = root.querySelectorAll('*');
  for (var i = 0; i < all.length; i++) {
    if (all[i].shadowRoot) { hit = find(all[i].shadowRoot, sel); if (hit) return hit; }
  }
  return null;
}
function findAll(root, sel, out) {
  out = out || [];
  root.querySelectorAll(sel).forEach(function (e) { out.push(e); });
  root.querySelectorAll('*').forEach(function (e) {
    if (e.shadowRoot) findAll(e.shadowRoot, sel, out);
  });
  return out;
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab():
    need_browser()
    pytest.importorskip("panel", reason="panel not installed")
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "run_sim.py", "lab", "--port", str(port), "--days", "12"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.3)
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def status(driver) -> str:
    return driver.execute_script(
        FIND + "var s = find(document, '.lab-status');"
        "return s ? (s.shadowRoot || s).textContent : '';"  # its text is in its own shadow
    )


def wait_for(driver, words: str, seconds: float = 120) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        text = status(driver)
        if words in text:
            return text
        time.sleep(0.3)
    raise AssertionError(f"{words!r} not in the status: {status(driver)!r}")


def curves(driver) -> list[int]:
    """Points of each curve drawn in the lab's plotly figure."""
    return driver.execute_script(
        FIND + "var d = find(document, '.js-plotly-plot');"
        "return d && d.data ? d.data.map(function (t) { return (t.x || []).length; }) : [];"
    )


def most_points(driver, expected: int, seconds: float = 15) -> int:
    """The most points of any curve once ``expected`` are drawn, or when ``seconds`` pass:
    the figure is drawn in the browser after the status that says the run is done."""
    deadline = time.monotonic() + seconds
    while (got := max(curves(driver), default=0)) != expected and time.monotonic() < deadline:
        time.sleep(0.2)
    return got


def test_the_lab_draws_as_it_runs_and_reruns_when_a_control_changes(lab, tmp_path):
    driver = make_driver(tmp_path)
    try:
        driver.get(lab)
        seen = set()
        deadline = time.monotonic() + 120
        while "done" not in status(driver) and time.monotonic() < deadline:
            seen.add(max(curves(driver), default=0))
            time.sleep(0.2)
        assert "run 1: done, 12 days" in wait_for(driver, "run 1: done")
        assert most_points(driver, 12) == 12  # a point a day for every curve
        assert len(seen) > 1  # the curves grew while the run advanced
        from selenium.webdriver.support.select import Select

        box = Select(  # the dispatch policy's list (a date picker has month lists too)
            driver.execute_script(
                FIND + "return findAll(document, 'select').filter(function (s) {"
                "  return s.querySelector('option[value=nearest]'); })[0];"
            )
        )
        now = box.first_selected_option.get_attribute("value")
        other = next(o for o in box.options if o.get_attribute("value") != now)
        box.select_by_value(other.get_attribute("value"))  # as a user picks another policy
        wait_for(driver, "run 2: done")
        assert most_points(driver, 12) == 12
        assert severe(driver) == []
    finally:
        driver.quit()
