"""Names are shown, never obeyed: a plan whose every string is hostile renders inert as text
(no control character reaches the terminal) and as Markdown (no heading, no fence, no
section opened or closed by a name)."""

from __future__ import annotations

import re

import pytest

from reconciler.core.model import Key, Kind
from reconciler.core.plan import Action, Change, FieldChange, Plan
from reconciler.engine.apply import ApplyResult, ChangeResult, Status
from reconciler.output import markdown
from reconciler.output.ci import GitHubStep
from reconciler.output.markdown import render_markdown
from reconciler.output.render import render_text
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
