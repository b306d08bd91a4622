"""The report in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by selenium opens the page from disk and checks what an analyst
sees: no console error, nothing fetched, the charts drawn, tables with rows that sort and
download as CSV. Skipped, with the reason, where no browser is installed."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest
import yaml

import run_sim
from tests.conftest import small

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def need_browser() -> None:
    if not (CHROMIUM and DRIVER):
        pytest.skip("no headless browser: apt-get install chromium chromium-driver")


def make_driver(download_dir: Path):
    """A headless Chromium that logs the console and the network, saving downloads to
    ``download_dir``; skips the test where there is none."""
    need_browser()
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed")
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        opts.add_argument(arg)
    opts.add_argument("--window-size=1400,1000")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    opts.add_experimental_option(
        "prefs",
        {"download.default_directory": str(download_dir), "download.prompt_for_download": False},
    )
    return webdriver.Chrome(service=Service(DRIVER), options=opts)


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    """A six-day run with a three-day rider subsidy, its counterfactual, and their report."""
    need_browser()
    folder = tmp_path_factory.mktemp("browser")
    dirs = []
    for name, policies in (
        (
            "subsidy",
            [
                {
                    "id": "ali_rider_5",
                    "rail": "alipay",
                    "side": "rider",
                    "amount_yuan": 5,
                    "start": "2013-12-02",
                    "end": "2013-12-05",
                }
            ],
        ),
        ("none", []),
    ):
        data = small(
            name=name,
            start="2013-12-02T00:00:00",
            duration="6d",
            demand={"daily_requests": 1500},
            fleet={"drivers": 20},
            adoption={"enabled": True},
            population={"sample": 0.5},
            payment={"riders_bound": {"alipay": 0.3}, "drivers_accepting": {"alipay": 0.5}},
            policies=policies,
        )
        f = folder / f"{name}.yaml"
        f.write_text(yaml.safe_dump(data), encoding="utf-8")
        assert run_sim.main(["run", str(f), "--quiet", "--out", str(folder / name)]) == 0
        dirs.append(str(folder / name))
    out = folder / "report.html"
    assert run_sim.main(["report", dirs[0], "--baseline", dirs[1], "--out", str(out)]) == 0
    return out


@pytest.fixture
def page(report, tmp_path):
    driver = make_driver(tmp_path)
    driver.get(report.as_uri())
    try:
        yield driver
    finally:
        driver.quit()


def severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def requested(driver) -> list[str]:
    """Every URL the page asked the network layer for."""
    urls = []
    for entry in driver.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            urls.append(msg["params"]["request"]["url"])
    return urls


def test_the_report_draws_its_charts_offline_without_console_errors(page, report):
    charts = page.execute_script(
        "return Array.from(document.querySelectorAll('.plotly-graph-div')).map(function (d) {"
        "  return [d.id, (d.data || []).length, d.querySelectorAll('.main-svg').length,"
        "          d.querySelectorAll('path.js-line, g.trace').length]; });"
    )
    drawn = {c[0]: c for c in charts}
    assert {"fig-timeline", "fig-adoption", "fig-waits", "fig-fleet"} <= set(drawn)
    for name, traces, svgs, marks in charts:
        assert traces > 0 and svgs > 0 and marks > 0, (name, traces, svgs, marks)
    assert severe(page) == []
    urls = requested(page)
    assert urls and all(u == report.as_uri() or u.startswith(("data:", "blob:")) for u in urls)
    headline = page.find_element("css selector", "ul.headline").text
    assert "Subsidies cost" in headline and "Alipay" in headline


def test_hover_shows_values_and_zoom_changes_the_axis(page):
    from selenium.webdriver import ActionChains

    before = page.execute_script(
        "return document.getElementById('fig-adoption')._fullLayout.xaxis.range.slice();"
    )
    plot = page.find_element("css selector", "#fig-adoption .nsewdrag")
    page.execute_script("arguments[0].scrollIntoView({block: 'center'});", plot)
    w = plot.size["width"]
    time.sleep(0.3)
    ActionChains(page).move_to_element(plot).perform()
    time.sleep(0.3)
    ActionChains(page).move_by_offset(10, 0).perform()  # a move over the plot: the hover
    time.sleep(0.5)
    hover = page.find_element("css selector", "#fig-adoption .hoverlayer .legend").text
    assert "%" in hover and "subsidy: Alipay" in hover
    ActionChains(page).move_to_element_with_offset(
        plot, -w // 4, 0
    ).click_and_hold().move_by_offset(w // 5, 0).release().perform()
    time.sleep(0.5)
    after = page.execute_script(
        "return document.getElementById('fig-adoption')._fullLayout.xaxis.range.slice();"
    )
    assert after != before  # a drag zoomed in
    assert severe(page) == []


def test_tables_have_rows_sort_and_download_as_csv(page, tmp_path):
    rows = page.execute_script(
        "var o = {}; document.querySelectorAll('table.data').forEach(function (t) {"
        "  o[t.dataset.name] = t.tBodies[0].rows.length; }); return o;"
    )
    assert rows["daily_by_rail"] == 2 * 6 * 3  # two runs, six days, three rails
    assert rows["daily_by_channel"] > 0 and rows["against_baseline"] > 0
    assert rows["money"] > 0 and rows["bass_fits"] > 0
    table = page.find_element("css selector", 'table[data-name="daily_by_rail"]')
    heading = next(h for h in table.find_elements("css selector", "th") if h.text == "rides paid")
    page.execute_script("arguments[0].scrollIntoView();", heading)
    column = [h.text for h in table.find_elements("css selector", "th")].index("rides paid")

    def values() -> list[float]:
        return page.execute_script(
            "var t = arguments[0], c = arguments[1];"
            "return Array.from(t.tBodies[0].rows).map(function (r) {"
            "  return parseFloat(r.cells[c].dataset.v); });",
            table,
            column,
        )

    heading.click()
    assert values() == sorted(values())
    heading.click()
    assert values() == sorted(values(), reverse=True)
    button = page.find_element("css selector", 'button.csv[data-name="daily_by_rail"]')
    page.execute_script("arguments[0].click();", button)
    target = tmp_path / "daily_by_rail.csv"
    for _ in range(50):
        if target.exists() and target.stat().st_size:
            break
        time.sleep(0.1)
    lines = target.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("run,date,rail,") and len(lines) == 1 + 36
    assert severe(page) == []


def test_the_map_plays_pauses_and_moves_with_its_slider(page):
    figure = page.find_element("id", "fig-map-0")
    page.execute_script("arguments[0].scrollIntoView();", figure)

    def state() -> tuple[int, list[list[float]]]:
        """The slider's frame, and per trace its point count and the sum of its x."""
        return page.execute_script(
            "var d = document.getElementById('fig-map-0');"
            "return [d._fullLayout.sliders[0].active,"
            "        d.data.slice(1).map(function (t) {"
            "          return [t.x.length, t.x.reduce(function (a, b) { return a + b; }, 0)];"
            "        })];"
        )

    assert state()[0] == 0 and sum(n for n, _ in state()[1]) > 0  # points on the first frame
    play, pause = figure.find_elements("css selector", ".updatemenu-button")
    seen = {json.dumps(state()[1])}  # the first frame's points, before it plays
    play.click()
    for _ in range(30):
        time.sleep(0.2)
        seen.add(json.dumps(state()[1]))
        if state()[0] >= 5:
            break
    assert state()[0] >= 5 and len(seen) > 1  # frames advanced and the points moved
    pause.click()
    time.sleep(0.5)
    stopped = state()[0]
    time.sleep(1.0)
    assert state()[0] == stopped  # paused
    roads = page.execute_script("return document.getElementById('fig-map-0').data[0].x.length;")
    assert roads > 100  # the road graph is drawn under them
    assert severe(page) == []
