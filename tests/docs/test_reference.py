"""The generated reference pages are what the code gives today (`make docs-reference`)."""

from __future__ import annotations

import pytest
import yaml

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
