"""The documentation as a person sees it: its screenshots, and the built site in Chromium.

`test_docs_screenshots` makes the report and status-page screenshots that the docs show
(docs/images/, via tests/browser/screenshots.py) and checks what they show; a screenshot is
replaced when what its page says changed. `test_site_pages` builds the site (mkdocs, offline)
and opens the home page, the first tutorial and a reference page from disk: each renders its
title, navigation and search, loads nothing from the network, and is saved as a screenshot in
tests/artifacts/ (site-*.png) to be looked at.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.harness import ROOT

from .screenshots import IMAGES, SHOTS, capture, publish


def test_docs_screenshots(browser, tmp_path):
    shots = capture(browser, tmp_path)
    report, status = shots["report.png"][1], shots["status.png"][1]
    assert "GROMACS" in report and "missing" in report and "hand-made" in report
    assert "amd/zen3" in report
    assert "ready" in status.lower() and status.count("success") >= 2, status
    publish(shots)
    for name, _ in SHOTS:
        png = IMAGES / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert (IMAGES / (name + ".txt")).exists()


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],  # not -q:
        # --quiet hides the warnings that --strict counts, and the build then passes
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(sys.executable).parent)},
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize(
    ("page", "title", "shot"),
    [
        ("index.html", "waldur-catalog-reconciler", "site-home.png"),
        ("tutorials/waldur-sim.html", "Your first catalog", "site-tutorial.png"),
        ("reference/cli.html", "Commands and flags", "site-reference-cli.png"),
    ],
)
def test_site_pages(browser, site, page, title, shot):
    tab = browser.page(1280, 900).goto((site / page).as_uri())
    assert tab.evaluate("document.querySelector('h1').innerText").startswith(title)
    nav = tab.evaluate("[...document.querySelectorAll('.md-nav__link')].map(a => a.innerText)")
    assert any("How-to guides" in n for n in nav) and any("Reference" in n for n in nav), nav
    assert tab.evaluate("!!document.querySelector('.md-search__input')")
    outside = [u for u in tab.requests() if not u.startswith(("file://", "data:", "blob:"))]
    assert not outside, f"the site loaded from the network: {outside}"
    assert not tab.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )
    tab.screenshot(shot)
