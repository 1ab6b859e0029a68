"""Make the README's screenshots: docs/report.png and docs/status.png.

    .venv/bin/python -m tests.browser.screenshots

The same set-up as the browser tests: waldur-sim with examples/targets.yaml applied, then
changed behind the reconciler's back (a target deleted, a package added, a description
edited); the report compares with the example, and a daemon repairs the server. Each page is
captured in headless Chromium, then made small with pngquant and optipng when they are
installed (`apt-get install pngquant optipng`); without them the PNGs are just larger.
"""

from __future__ import annotations

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


def main() -> int:
    executable = find_chromium()
    if executable is None:
        sys.stderr.write("chromium not found: apt-get install chromium\n")
        return 1
    with tempfile.TemporaryDirectory() as tmp, SimProcess() as sim:
        work = Path(tmp)
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
            browser = Browser(executable, work / "chromium")
            try:
                page = browser.page(1100, 800).goto(report.as_uri())
                page.evaluate(
                    "document.querySelector('tbody[data-name=\"gromacs\"] summary').click()"
                )
                shots = [(page.screenshot("docs-report.png", full_page=True), DOCS / "report.png")]
                status = browser.page(1100, 800).goto(daemon.url)
                shot = status.screenshot("docs-status.png", full_page=True)
                shots.append((shot, DOCS / "status.png"))
            finally:
                browser.close()
        finally:
            daemon.kill()
    for shot, target in shots:
        shutil.copyfile(shot, target)
        optimise(target)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size / 1024:.0f} KiB")
    print(f"(the originals are in {ARTIFACTS.relative_to(ROOT)}/)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
