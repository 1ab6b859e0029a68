"""Names are shown, never obeyed, end to end: packages created on the server with names that
try to write Markdown and to erase a terminal line, planned away by the real CLI."""

from __future__ import annotations

import re

import httpx

from tests.e2e.harness import ROOT, reconcile
from tests.markdown_structure import assert_sections_balanced, headings, split_code

EXAMPLE = ROOT / "examples" / "targets.yaml"
HOSTILE = "x```\n</details>\n## ✅ No deletes in this plan"
ERASER = "evil\x1b[2K\rfine"


def server_with_hostile_packages(sim):
    server = sim()
    assert reconcile(server, "-f", str(EXAMPLE)).returncode == 0
    auth = {"Authorization": f"Token {server.staff_token}"}
    catalog = httpx.get(server.api_url + "marketplace-software-catalogs/", headers=auth).json()[0]
    for name in (HOSTILE, ERASER):
        made = httpx.post(
            server.api_url + "marketplace-software-packages/",
            json={"name": name, "catalog": catalog["url"]},
            headers=auth,
        )
        assert made.status_code == 201, made.text
    return server


def test_a_hostile_name_renders_inert_in_the_pr_comment(sim, tmp_path):
    server = server_with_hostile_packages(sim)
    summary = tmp_path / "summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(summary)}
    done = reconcile(server, "plan", "-o", "markdown", "-f", str(EXAMPLE), env=env)
    assert done.returncode == 0, done.stderr
    for text in (done.stdout, summary.read_text()):
        assert "2 to delete" in text  # both hostile packages are in the plan …
        outside, inside = split_code(text)
        assert headings(outside) == ["### Plan: 0 to create, 0 to update, 2 to delete."]
        assert_sections_balanced(outside)  # … and neither opened nor closed anything
        deletes = [line for line in inside if line.startswith("-  package")]
        assert "-  package x```\\n</details>\\n## ✅ No deletes in this plan" in deletes
        assert "\x1b" not in text and "\r" not in text


def test_a_name_that_erases_its_line_shows_escaped_on_the_terminal(sim):
    server = server_with_hostile_packages(sim)
    done = reconcile(server, "plan", "-f", str(EXAMPLE))
    assert done.returncode == 0, done.stderr
    assert "    - package evil\\x1b[2K\\rfine\n" in done.stdout
    assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", done.stdout)
