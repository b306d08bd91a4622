"""Screenshots of the comparison report for the README, taken in headless Chromium.

    python docs/screenshots.py                       # runs default and no_subsidy first
    python docs/screenshots.py --runs runs/default-seed42 runs/no_subsidy-seed42

Writes docs/img/report-*.png: the headline and the figures against the baseline, the
adoption curves, the map of the first morning (after a few seconds of play) and a table;
and docs/img/lab.png, the lab after its first run.
Needs Debian's ``chromium`` and ``chromium-driver`` and ``pip install selenium``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import run_sim  # noqa: E402


def driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (browser and chromedriver):
        sys.exit("error: no headless browser: apt-get install chromium chromium-driver")
    opts = webdriver.ChromeOptions()
    opts.binary_location = browser
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        opts.add_argument(arg)
    opts.add_argument("--window-size=1300,900")
    return webdriver.Chrome(service=Service(chromedriver), options=opts)


def lab_shot(out: Path, port: int = 5799) -> None:
    """The lab, served for the picture and stopped, after its first run is drawn."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "run_sim.py", "lab", "--port", str(port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL)
    d = None
    try:
        time.sleep(8)
        d = driver()
        d.get(f"http://127.0.0.1:{port}/")
        time.sleep(15)
        d.save_screenshot(str(out))
    finally:
        if d is not None:
            d.quit()
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", nargs=2, type=Path, metavar=("RUN", "BASELINE"))
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    args = p.parse_args()
    work = Path(tempfile.mkdtemp(prefix="taxisim-shots-"))
    try:
        runs = args.runs
        if runs is None:
            runs = [work / "default", work / "no_subsidy"]
            for name, out in zip(("default", "no_subsidy"), runs, strict=True):
                scenario = ROOT / "scenarios" / f"{name}.yaml"
                if run_sim.main(["run", str(scenario), "--quiet", "--out", str(out)]):
                    return 1
        page = work / "report.html"
        if run_sim.main(["report", str(runs[0]), "--baseline", str(runs[1]), "--out", str(page)]):
            return 1
        args.out.mkdir(parents=True, exist_ok=True)
        d = driver()
        try:
            d.get(page.as_uri())
            time.sleep(2)
            d.save_screenshot(str(args.out / "report-headline.png"))
            for div, name in (("fig-adoption", "adoption"), ("fig-timeline", "timeline")):
                el = d.find_element("id", div)
                d.execute_script("arguments[0].scrollIntoView();", el)
                time.sleep(0.5)
                el.screenshot(str(args.out / f"report-{name}.png"))
            el = d.find_element("id", "fig-map-0")
            d.execute_script("arguments[0].scrollIntoView();", el)
            el.find_elements("css selector", ".updatemenu-button")[0].click()
            time.sleep(4)
            el.find_elements("css selector", ".updatemenu-button")[1].click()
            time.sleep(0.5)
            el.screenshot(str(args.out / "report-map.png"))
            el = d.find_element("css selector", 'table[data-name="bass_fits"]')
            d.execute_script("arguments[0].scrollIntoView({block: 'center'});", el)
            time.sleep(0.3)
            el.screenshot(str(args.out / "report-bass.png"))
        finally:
            d.quit()
        lab_shot(args.out / "lab.png")
        for png in sorted(args.out.glob("*.png")):
            print(f"outputs: {png}")
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
