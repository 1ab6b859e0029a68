"""Names are shown, never obeyed, end to end: packages created on the server with names that
try to write Markdown and to erase a terminal line, planned away by the real CLI."""

from __future__ import annotations

import json
import re

import httpx
import yaml

from tests.e2e.harness import ROOT, reconcile
from tests.gitserver import GitRepo
from tests.hostile.proxy import Behaviour, Exchange
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


# Around the plan: the commit line (Git), the loaders' table (the server's discover answer),
# the environments' table and error lines (the server's error text).
INJECTION = "[x](https://evil.example.com/) `code` *em* | </details> " + ERASER
_LIVE_LINK = re.compile(r"(?<!\\)\[((?:[^\]\\]|\\.)*)\]\(")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def assert_inert_markdown(text: str, lines: list[str]) -> None:
    """`text` opens no heading, section or code block but its own; `lines`, where the hostile
    value is, hold it escaped: no link, code span, emphasis, HTML or control character."""
    outside, _ = split_code(text)
    assert headings(outside) == [line for line in outside if line.startswith("### ")]
    assert_sections_balanced(outside)
    assert "\x1b" not in text and "\r" not in text
    assert lines
    for line in lines:
        assert line in outside
        assert "</details>" not in line and _LIVE_LINK.findall(line) == [], line
        assert not re.search(r"(?<!\\)[`*]", line), line
        assert "\\[x\\](https://evil.example.com/) \\`code\\` \\*em\\*" in line, line


def test_a_hostile_commit_renders_inert_in_text_and_markdown(sim, tmp_path):
    server = sim()
    repo = GitRepo(tmp_path / "srv", tmp_path / "work")
    repo.write("catalogs/site.yaml", EXAMPLE.read_text())
    repo.git("add", "-A")
    author = f"Eve {ERASER} [x](https://evil.example.com/) `code` *em* <eve@example.org>"
    repo.git("commit", "-q", "--cleanup=verbatim", "--author", author, "-m", INJECTION)
    url = f"file://{repo.work}"
    cache = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    args = ("plan", "--git-url", url, "--git-ref", "main", "-f", "catalogs/")

    text = reconcile(server, *args, env=cache)
    assert text.returncode == 0, text.stderr
    head = text.stdout.splitlines()[0]
    assert not _CONTROL.search(text.stdout)
    assert '"[x](https://evil.example.com/) `code` *em* | </details> evil\\u001b[2K' in head
    assert "(Eve evil\\x1b[2K" in head  # the subject JSON-quoted, the author escaped
    markdown = reconcile(server, *args, "-o", "markdown", env=cache)
    assert markdown.returncode == 0, markdown.stderr
    head = markdown.stdout.splitlines()[0]
    assert head.startswith("_") and head.endswith(")_")  # one italic line, closed by us
    assert head.count("\\[x\\](https://evil.example.com/)") == 2  # subject and author
    assert_inert_markdown(markdown.stdout, [head])


def test_a_hostile_discover_value_renders_inert(sim):
    server = sim("--dialect", "current")
    auth = {"Authorization": f"Token {server.staff_token}"}
    version = "[x](http://e.co)`y`*z*|</details>\x1b[2K\rz"  # the server's limit: 50
    made = httpx.post(
        server.api_url + "marketplace-software-catalogs/",
        json={"name": "EESSI", "version": version, "catalog_type": "binary_runtime"},
        headers=auth,
    )
    assert made.status_code == 201, made.text
    text = reconcile(server, "discover")
    assert text.returncode == 0, text.stderr
    assert not _CONTROL.search(text.stdout)
    assert "[x](http://e.co)`y`*z*|</details>\\x1b[2K\\rz" in text.stdout
    markdown = reconcile(server, "discover", "-o", "markdown")
    assert markdown.returncode == 0, markdown.stderr
    outside, _ = split_code(markdown.stdout)
    assert headings(outside) == ["### Waldur's catalog loaders"]
    assert "\x1b" not in markdown.stdout and "\r" not in markdown.stdout
    assert _LIVE_LINK.findall(markdown.stdout) == []
    row = next(line for line in outside if line.startswith("| eessi"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 6, row  # five cells, whatever the value
    assert "\\[x\\](http://e.co)\\`y\\`\\*z\\*\\|&lt;/details&gt;\\\\x1b\\[2K\\\\rz" in row


class HostileError(Behaviour):
    """Every request answered 400 with `text` as the error's detail."""

    def __init__(self, text: str) -> None:
        self.text = text

    def before(self, exchange: Exchange) -> bool:
        exchange.status = 400
        exchange.answer_headers = [("Content-Type", "application/json")]
        exchange.answer = [json.dumps({"detail": self.text}).encode()]
        return True


def test_a_hostile_server_error_renders_inert_for_all_environments(sim, hostile, tmp_path):
    server = sim()
    proxy = hostile(server, HostileError(INJECTION))
    (tmp_path / "catalogs").mkdir()
    (tmp_path / "catalogs" / "site.yaml").write_text(EXAMPLE.read_text())
    project = {
        "files": ["catalogs/"],
        "environments": {"staging": {"api_url": proxy.api_url, "token_env": "STAGING_TOKEN"}},
    }
    (tmp_path / "reconcile.yaml").write_text(yaml.safe_dump(project))
    tokens = {"STAGING_TOKEN": server.staff_token}

    text = reconcile(None, "plan", "--all-envs", env=tokens, cwd=tmp_path)
    assert text.returncode == 1, text.stderr
    assert not _CONTROL.search(text.stdout)
    errors = [line for line in text.stdout.splitlines() if "error:" in line]
    assert len(errors) == 2 and all("evil\\x1b[2K" in line for line in errors), errors
    markdown = reconcile(None, "plan", "--all-envs", "-o", "markdown", env=tokens, cwd=tmp_path)
    assert markdown.returncode == 1, markdown.stderr
    row = next(line for line in markdown.stdout.splitlines() if line.startswith("| staging"))
    error = next(line for line in markdown.stdout.splitlines() if line.startswith("error:"))
    assert_inert_markdown(markdown.stdout, [row, error])
    assert len(re.findall(r"(?<!\\)\|", row)) == 5, row  # four cells, whatever the error
