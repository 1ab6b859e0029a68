"""The browser harness itself: it sees a request that leaves a page, the pages' policy blocks
one, and without Chromium the browser tests fail (never skip) saying how to fix it."""

from __future__ import annotations

import os
import subprocess
import sys

from reconciler.output.page import document
from tests.e2e.harness import ROOT

from .chromium import ENV

OUTSIDE = "http://127.0.0.1:9/picture.png"  # the discard port: nothing answers


def test_a_request_leaving_the_page_is_seen(browser, tmp_path):
    leaky = tmp_path / "leaky.html"
    leaky.write_text(f'<!DOCTYPE html><title>t</title><img src="{OUTSIDE}" alt="x"><p>hello</p>')
    page = browser.page(400, 300).goto(leaky.as_uri())
    assert page.requests() == [leaky.as_uri(), OUTSIDE]
    page.close()


def test_the_pages_policy_refuses_what_would_leave(browser, tmp_path):
    """The same picture inside our page shell: the browser refuses to send it, and says so.
    (It still reports the attempt: the tests' `requests() == [page]` checks are stricter.)"""
    guarded = tmp_path / "guarded.html"
    guarded.write_text(document("t", f'<img src="{OUTSIDE}" alt="x"><p>hello</p>'))
    page = browser.page(400, 300).goto(guarded.as_uri())
    assert page.blocked() == {OUTSIDE: "csp"}
    assert any("Content Security Policy" in p for p in page.problems()), page.problems()
    assert page.evaluate("document.querySelector('p').innerText") == "hello"
    page.close()


def test_without_chromium_the_browser_tests_fail_and_say_how_to_install_it(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env[ENV] = str(tmp_path / "no-such-chromium")
    test = "tests/browser/test_browser_harness.py::test_a_request_leaving_the_page_is_seen"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "did NOT run" in output and test in output
    assert "apt-get install chromium" in output and f"${ENV}" in output
    assert "1 error" in output and "skipped" not in output
