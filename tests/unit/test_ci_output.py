"""GitHub workflow commands, step outputs and forge comments as plain data: escaping as the
Actions toolkit escapes, problem lines parsed into file, line and field, bodies that fit."""

from __future__ import annotations

from pathlib import Path

from reconciler.core.errors import GuardRefused, InputError
from reconciler.output import ci
from reconciler.tools import forge
from tests.ci_files import outputs

ENV = {"GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": "/ci/repo"}


def test_data_and_properties_are_escaped_as_the_toolkit_does():
    assert ci.escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert ci.escape_data("a: b, c") == "a: b, c"  # `:` and `,` only in properties
    assert ci.escape_property("a: b, c%\n") == "a%3A b%2C c%25%0A"
    assert (
        ci.workflow_command("error", "two\nlines", file="x,y.yaml", line=3, title="")
        == "::error file=x%2Cy.yaml,line=3::two%0Alines"
    )


def test_a_problem_names_file_line_and_field():
    problem = "/ci/repo/catalog/a.yaml:12: catalogs[0].packages[3].homepage: not a URL: x"
    assert ci.problem_annotation(problem, ENV) == (
        "::error file=catalog/a.yaml,line=12,"
        "title=Waldur catalog%3A catalogs[0].packages[3].homepage::not a URL: x"
    )
    # a path outside the workspace stays as given; a problem about the whole file has no field
    whole = "/elsewhere/b.yml:1: the file is empty"
    assert ci.problem_annotation(whole, ENV) == (
        "::error file=/elsewhere/b.yml,line=1,title=Waldur catalog::the file is empty"
    )
    # the server's field rules: `FILE:LINE: kind KEY: field: …` keeps its file and line
    server = "catalog/a.yaml:7: package EESSI 2023.06 / X: name: is 300 characters long"
    assert ci.problem_annotation(server, ENV).startswith(
        "::error file=catalog/a.yaml,line=7,title=Waldur catalog::package EESSI"
    )
    # no file and line: an annotation without a place
    more = "… and 3 more"
    assert ci.problem_annotation(more, ENV) == f"::error title=Waldur catalog::{more}"


def test_errors_become_one_annotation_per_problem_or_one_in_all():
    exc = InputError(["a.yaml:1: catalogs: required field is missing", "b.yaml:2: x: bad"])
    lines = ci.error_annotations(exc, str(exc), ENV)
    assert [line.split("::")[1] for line in lines] == [
        "error file=a.yaml,line=1,title=Waldur catalog%3A catalogs",
        "error file=b.yaml,line=2,title=Waldur catalog%3A x",
    ]
    refused = GuardRefused("the saved plan no longer holds:\n  - desired file changed")
    (line,) = ci.error_annotations(refused, str(refused), ENV)
    assert line == (
        "::error title=Waldur catalog::the saved plan no longer holds:%0A  - desired file changed"
    )


def test_outputs_are_appended_and_read_back_as_the_runner_reads_them(tmp_path: Path):
    path = tmp_path / "out"
    ci.write_outputs(str(path), {"has_changes": "true", "create": "3"})
    ci.write_outputs(str(path), {"note": "two\nlines", "create": "4"})
    assert outputs(path) == {"has_changes": "true", "create": "4", "note": "two\nlines"}


def test_a_github_step_does_nothing_outside_github_actions():
    assert ci.GitHubStep.from_environ("plan", {"GITHUB_ACTIONS": "false"}) is None
    assert ci.GitHubStep.from_environ("plan", {}) is None
    assert ci.GitHubStep.from_environ("plan", {"GITHUB_ACTIONS": "true"}) is not None


def test_a_comment_carries_the_marker_and_fits_the_forges_limit():
    body = forge.compose("x" * 200_000, "Plan", "commit `abc`")
    assert body.startswith(forge.MARKER + "\n### Plan\n")
    assert len(body) <= forge.MAX_BODY and body.endswith("commit `abc`\n")
    assert "cut to fit" in body
    short = forge.compose("### No changes.\n", "Plan", "")
    assert short == f"{forge.MARKER}\n### Plan\n\n### No changes.\n"
