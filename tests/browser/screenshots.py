"""Make the documentation's screenshots: docs/images/report.png and docs/images/status.png.

    .venv/bin/python -m tests.browser.screenshots

The same set-up as the browser tests: waldur-sim with examples/targets.yaml applied, then
changed behind the reconciler's back (a target deleted, a package added, a description
edited); the report compares with the example, and a daemon repairs the server. Each page is
captured in headless Chromium, then made small with pngquant and optipng when they are
installed (`apt-get install pngquant optipng`); without them the PNGs are just larger.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from tests.e2e.daemon_harness import DaemonProcess
from tests.e2e.harness import ROOT, reconcile
from waldur_sim.launcher import SimProcess

from .chromium import ARTIFACTS, Browser, find_chromium
from .drift import add_package, delete_target

EXAMPLE = ROOT / "examples" / "targets.yaml"
DOCS = ROOT / "docs"


def drift(sim: SimProcess) -> None:
    delete_target(sim.api_url, sim.staff_token, "GROMACS", "2024.4", "amd/zen3")
    add_package(sim.api_url, sim.staff_token, "EESSI", "hand-made")
    with httpx.Client(headers={"Authorization": f"Token {sim.staff_token}"}) as http:
        pkg = http.get(
            sim.api_url + "marketplace-software-packages/", params={"name_exact": "GROMACS"}
        ).json()[0]
        assert http.patch(pkg["url"], json={"description": "edited"}).status_code == 200


def optimise(path: Path) -> None:
    if shutil.which("pngquant"):
        subprocess.run(
            [
                "pngquant",
                "--force",
                "--skip-if-larger",
                "--quality",
                "70-95",
                "--output",
                str(path),
                str(path),
            ],
            check=False,
        )
    if shutil.which("optipng"):
        subprocess.run(["optipng", "-quiet", "-o2", str(path)], check=False)


IMAGES = DOCS / "images"
#: The documentation's screenshots: (file in docs/images/, artifact name).
SHOTS = (("report.png", "docs-report.png"), ("status.png", "docs-status.png"))


_REPLACE_TEXT = """
const names = %s;
const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
for (let node = walk.nextNode(); node; node = walk.nextNode()) {
  for (const [from, to] of Object.entries(names)) node.data = node.data.split(from).join(to);
}
"""


def capture(browser: Browser, work: Path) -> dict[str, tuple[Path, str]]:
    """The report and the status page as the docs show them: {name: (PNG, visible text)}."""
    shots: dict[str, tuple[Path, str]] = {}
    with SimProcess() as sim:
        desired = work / "targets.yaml"
        desired.write_text(EXAMPLE.read_text())
        # A daemon loads the example; then the server is changed behind its back, the report
        # shows it, and the daemon's next run repairs it.
        daemon = DaemonProcess(sim.api_url, sim.staff_token, [desired], "--interval", "10m")
        try:
            daemon.wait_runs(1)
            drift(sim)
            report = work / "report.html"
            done = reconcile(sim, "report", "-f", str(desired), "--out", str(report))
            assert done.returncode == 0, done.stderr
            html = report.read_text().replace(str(desired), "catalogs/targets.yaml")
            report.write_text(html.replace(sim.api_url, "https://waldur.example.org/api/"))
            assert httpx.post(daemon.url + "sync").status_code == 202
            daemon.wait_runs(2)
            page = browser.page(1100, 800).goto(report.as_uri())
            page.evaluate("document.querySelector('tbody[data-name=\"gromacs\"] summary').click()")
            text = page.evaluate("document.body.innerText")
            shots["report.png"] = (page.screenshot("docs-report.png", full_page=True), text)
            status = browser.page(1100, 800).goto(daemon.url)
            # As in the report: the reader's names, not this run's temporary ones.
            status.evaluate(
                _REPLACE_TEXT
                % json.dumps(
                    {
                        str(desired): "catalogs/targets.yaml",
                        sim.api_url: "https://waldur.example.org/api/",
                    }
                )
            )
            text = status.evaluate("document.body.innerText")
            shots["status.png"] = (status.screenshot("docs-status.png", full_page=True), text)
        finally:
            daemon.kill()
    return shots


def _words(text: str) -> str:
    """What a page says, without its numbers (times, durations, counts change every run)."""
    words = re.sub(r"\d+", "#", re.sub(r"[0-9a-f]{12,}", "#", text))
    return re.sub(r" ?\((now|# \w+ ago|in # \w+)\)", "", words).strip() + "\n"


def publish(shots: dict[str, tuple[Path, str]], *, force: bool = False) -> list[Path]:
    """Copy each screenshot into docs/images/ when what its page says changed (or when forced).

    docs/images/NAME.txt keeps the page's words; a run whose page says the same leaves the
    committed PNG alone, so the browser tests do not dirty the tree on every run.
    """
    IMAGES.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (shot, text) in shots.items():
        target, words = IMAGES / name, IMAGES / (name + ".txt")
        if not force and target.exists() and words.exists() and words.read_text() == _words(text):
            continue
        shutil.copyfile(shot, target)
        optimise(target)
        words.write_text(_words(text))
        written.append(target)
    return written


def main() -> int:
    executable = find_chromium()
    if executable is None:
        sys.stderr.write("chromium not found: apt-get install chromium\n")
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        browser = Browser(executable, Path(tmp) / "chromium")
        try:
            shots = capture(browser, Path(tmp))
        finally:
            browser.close()
    for target in publish(shots, force=True):
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1024:.0f} KiB")
    print(f"(the originals are in {ARTIFACTS.relative_to(ROOT)}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
