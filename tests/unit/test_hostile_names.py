"""Names are shown, never obeyed: a plan whose every string is hostile renders inert as text
(no control character reaches the terminal) and as Markdown (no heading, no fence, no
section opened or closed by a name)."""

from __future__ import annotations

import io
import json
import re
from argparse import Namespace
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.cli.context import with_context
from reconciler.cli.files import render_discover
from reconciler.core.model import Key, Kind
from reconciler.core.plan import Action, Change, FieldChange, Plan
from reconciler.engine.apply import ApplyResult, ChangeResult, Status
from reconciler.output import markdown
from reconciler.output.ci import GitHubStep
from reconciler.output.markdown import render_markdown
from reconciler.output.render import render_text
from reconciler.settings import Settings
from reconciler.source.git import Checkout, Commit
from reconciler.source.workspace import Workspace
from reconciler.tools.discover import Offer
from tests.markdown_structure import assert_sections_balanced, headings, split_code

HOSTILE = "x```\n</details>\n## ✅ No deletes in this plan"
ERASER = "evil\x1b[2K\rfine"
CATALOG = ("Cat|`" + HOSTILE, "1\x1b]0;title\x07", "binary_runtime")
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def hostile_plan(copies: int = 1) -> tuple[Plan, ApplyResult]:
    cat = Key(Kind.CATALOG, CATALOG)
    changes = [Change(Action.UPDATE, cat, fields=(FieldChange("description", ERASER, HOSTILE),))]
    for n in range(copies):
        for name in (HOSTILE, ERASER):
            package = cat.child(f"{name}{n or ''}")
            version = package.child(ERASER, HOSTILE)
            changes += [
                Change(Action.DELETE, package, cascade=2),
                Change(Action.CREATE, version, after={"version": ERASER}),
                Change(Action.CREATE, version.child("x86_64", HOSTILE), after={"path": ERASER}),
            ]
    plan = Plan(tuple(changes), dialect_reason=HOSTILE, notes=(HOSTILE, ERASER))
    results = [ChangeResult(c, Status.FAILED, f"HTTP 400: {HOSTILE} {ERASER}") for c in changes]
    return plan, ApplyResult(results, refused={"create version": HOSTILE})


@pytest.mark.parametrize("colour", [False, True])
def test_text_shows_control_characters_escaped(colour):
    plan, result = hostile_plan()
    text = render_text(plan, result, colour=colour)
    assert "\r" not in text and "\x07" not in text
    assert "\x1b" not in _SGR.sub("", text)  # only our own colours
    assert "evil\\x1b[2K\\rfine" in text
    assert "1\\x1b]0;title\\x07" in text


@pytest.mark.parametrize("copies", [1, markdown.LARGE])  # detailed, then summarised
def test_markdown_is_inert_whatever_the_names_hold(copies):
    plan, result = hostile_plan(copies)
    text = render_markdown(plan, result)
    outside, inside = split_code(text)
    assert headings(outside) == [text.splitlines()[0]]  # the plan's own heading only
    assert_sections_balanced(outside)
    assert "\x1b" not in text and "\r" not in text
    if copies == 1:  # one line per change in the diff blocks, whatever the name holds
        wanted = "package x```\\n</details>\\n## ✅ No deletes in this plan  (and 2 objects"
        assert any(line.startswith("-") and wanted in line for line in inside)


def test_the_step_summary_is_inert_too():
    plan, result = hostile_plan()
    step = GitHubStep("apply", {})
    step.show(plan, result)
    outside, _ = split_code(step._summary(1, f"error: ```\n# {HOSTILE}\r"))
    assert headings(outside) == [
        outside[0],
        "### reconcile apply: exit 1",
    ]


# Text from Git, the server and the project file around the plan: the commit line, the
# loaders' table of `reconcile discover`, the environments' table of `plan --all-envs`.
LINK = "[x](https://evil.example.com/)"
INJECTION = f"{LINK} `code` *em* | </details>\n## heading {ERASER}"
#: ``[text](``: a link, its brackets not escaped (escaped ones may be inside).
_LIVE_LINK = re.compile(r"(?<!\\)\[((?:[^\]\\]|\\.)*)\]\(")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def assert_inert_markdown(text: str, links: list[str], columns: int = 0) -> None:
    """No heading, section, code span, emphasis or link but `links` (our own); no control
    character; every table row of `columns` cells."""
    outside, inside = split_code(text)
    assert inside == []
    assert headings(outside) == [line for line in outside if line.startswith("### ")]
    assert not any(line.startswith("## ") for line in outside)
    assert_sections_balanced(outside)
    assert "</details>" not in text and "\x1b" not in text and "\r" not in text
    assert _LIVE_LINK.findall(text) == links
    assert not re.search(r"(?<!\\)[`*]", text)
    for line in outside:
        if line.startswith("|"):
            assert len(re.findall(r"(?<!\\)\|", line)) == columns + 1, line


def assert_inert_text(text: str, shown: str = "evil\\x1b[2K\\rfine") -> None:
    assert not _CONTROL.search(text)
    assert shown in text


def hostile_workspace(link: str | None) -> Workspace:
    commit = Commit("1a2b3c4d5e6f7a8b9c0d", INJECTION, f"Eve {INJECTION} <eve@e.org>", 0, link)
    settings = replace(Settings(), api_url="https://waldur.example.org/api/")
    checkout = Checkout(commit, Path("."), "https://github.com/example/c.git", "main")
    return Workspace(settings, (), environment="staging", checkout=checkout)


@pytest.mark.parametrize("link", [None, "https://github.com/example/c/commit/1a2b3c4d5e6f7a8b"])
def test_the_commit_line_is_inert_in_text_and_markdown(link):
    ws = hostile_workspace(link)
    text = with_context("Plan: 0 to create, 0 to update, 0 to delete.\n", "text", ws)
    assert_inert_text(text)
    assert text.splitlines()[1] == "Plan: 0 to create, 0 to update, 0 to delete."
    markdown = with_context("### Plan\n", "markdown", ws)
    assert_inert_markdown(markdown, ["1a2b3c4d5e6f"] if link else [])
    assert markdown.startswith("_Environment staging (https://waldur.example.org/api/) · ")
    assert "\\[x\\](https://evil.example.com/)" in markdown
    assert markdown.count("\n") == 3  # the line, a blank line, the plan's heading
    assert json.loads(with_context("{}", "json", ws))["source"]["subject"] == INJECTION


def hostile_offers() -> list[Offer]:
    return [
        Offer(INJECTION, INJECTION, "", INJECTION, True, INJECTION, True),
        Offer("Spack", "source_package", "spack", None, True, INJECTION, False),
    ]


def test_discover_values_are_inert_in_text_and_markdown():
    text = render_discover(hostile_offers(), "text")
    assert_inert_text(text)
    assert len(text.splitlines()) == 5  # head, two rows, a blank line, the summary
    markdown = render_discover(hostile_offers(), "markdown")
    assert_inert_markdown(markdown, [], columns=5)
    assert markdown.splitlines()[0] == "### Waldur's catalog loaders"
    assert json.loads(render_discover(hostile_offers(), "json"))["loaders"][0]["name"] == INJECTION


@pytest.mark.parametrize("output", ["text", "markdown"])
def test_an_environments_error_is_inert_in_the_table(monkeypatch, output):
    from reconciler.cli import envs
    from reconciler.core.errors import ApiError

    def refuse(*_args: object, **_kwargs: object) -> Workspace:
        raise ApiError(f"GET /api/: HTTP 400: {INJECTION.replace(chr(10), ' ')}")

    monkeypatch.setattr(envs, "environments", lambda *_: ("staging", "production"))
    monkeypatch.setattr(envs, "workspace", refuse)
    out = io.StringIO()
    assert envs.plan_all(Namespace(files=None), replace(Settings(), output=output), out) == 1
    shown = out.getvalue()
    if output == "text":
        assert_inert_text(shown, "evil\\x1b[2K\n")  # the first line of the message
        assert shown.count("error: GET /api/: HTTP 400: [x](https://evil") == 4
    else:
        assert_inert_markdown(shown, [], columns=4)
        assert shown.count("error: GET /api/: HTTP 400: \\[x\\](https://evil") == 4
