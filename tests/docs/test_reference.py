"""The generated reference pages are what the code gives today (`make docs-reference`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from reconciler.core.errors import ExitCode
from reconciler.daemon.status import StatusBook
from reconciler.desired.loader import desired_json_schema

from .reference import EXAMPLES, PAGES
from .sessions import DOCS


@pytest.mark.parametrize("name", list(PAGES))
def test_reference_page_is_generated_from_the_code(name):
    path = DOCS / name
    assert path.exists(), f"docs/{name} is missing: run `make docs-reference`"
    assert path.read_text(encoding="utf-8") == PAGES[name](), (
        f"docs/{name} differs from what the code gives: run `make docs-reference` and commit it"
    )


def test_every_field_example_is_that_field_in_valid_yaml():
    schema = desired_json_schema()
    titles = {d.get("title", n): d for n, d in schema["$defs"].items()} | {"Root": schema}
    for key, example in EXAMPLES.items():
        title, field = key.split(".")
        assert field in titles[title]["properties"], f"EXAMPLES[{key!r}]: no such field"
        assert list(yaml.safe_load(example)) == [field], f"EXAMPLES[{key!r}] is not {field}:"


def _table_keys(page: str, header: str) -> set[str]:
    """The `names` in the first column of the table under `header` in a docs page."""
    text = (DOCS / page).read_text(encoding="utf-8")
    rows = text[text.index(header) :].split("\n\n", 1)[0].splitlines()[2:]
    return {key for row in rows for key in re.findall(r"`([\w/]+)`", row.split("|")[1])}


def test_the_exit_code_table_is_the_code_s():
    text = (DOCS / "reference/exit-codes.md").read_text(encoding="utf-8")
    documented = {int(code) for code in re.findall(r"^\| (\d) \|", text, flags=re.M)}
    assert documented == {int(code) for code in ExitCode}


def test_every_status_json_field_is_documented():
    book = StatusBook([Path("catalog")], dry_run=False, api_url="http://x/api/", schedule={})
    answer = book.snapshot(healthy=True, ready=(True, "ok"), running=False, next_run=None)
    documented = _table_keys("reference/daemon.md", "| field | meaning |")
    assert set(answer) - {"format_version"} == documented, (
        "docs/reference/daemon.md's /status.json table is not the daemon's answer"
    )


def test_every_field_of_a_json_plan_and_apply_is_documented(sim, tmp_path):
    from tests.e2e.harness import reconcile

    server = sim()
    example = Path(__file__).resolve().parents[2] / "examples" / "targets.yaml"
    assert reconcile(server, "apply", "-f", str(example)).returncode == 0
    edited = tmp_path / "targets.yaml"
    edited.write_text(example.read_text().replace("www.gromacs.org", "gromacs.org"))
    seen: set[str] = set()
    for command in ("plan", "apply"):
        done = reconcile(server, command, "-f", str(edited), "-o", "json")
        assert done.returncode == 0, done.stderr
        seen |= set(json.loads(done.stdout))
    documented = _table_keys("reference/output.md", "| field | meaning |")
    assert seen == documented, "docs/reference/output.md's JSON table is not what -o json prints"
