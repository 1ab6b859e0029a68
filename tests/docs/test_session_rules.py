"""The rules the documentation's sessions are read and checked by (docs/contributing.md)."""

from __future__ import annotations

import pytest

from .sessions import missing, parse

PAGE = """# A page
<!-- docs-test: sim --dialect current -->

```yaml title="catalog/a.yaml"
catalogs: []
```

<!-- docs-test: setup reconcile apply -f examples/targets.yaml -->
```console
$ reconcile plan -f catalog/ \\
    --detailed-exitcode
Plan: 1 to create
$ echo $?
2
$ reconcile validate -f catalog/
```

<!-- docs-test: skip needs kubectl -->
```console
$ kubectl apply -k deploy/
```

```text
$ reconcile plan --env staging
```
"""


def test_a_page_is_read_into_its_steps(tmp_path):
    path = tmp_path / "page.md"
    path.write_text(PAGE)
    page = parse(path)
    assert page.sim_args == ["--dialect", "current"]
    kinds = [b.kind for b in page.blocks]
    assert kinds == ["file", "setup", "session", "skip", "unmarked"]
    file, _, session, skip, unmarked = page.blocks
    assert (file.path, file.content) == ("catalog/a.yaml", "catalogs: []\n")
    first, echo, last = session.commands
    assert first.text == "reconcile plan -f catalog/ \n    --detailed-exitcode"
    assert first.expected == ["Plan: 1 to create"] and first.may_fail
    assert echo.expected == ["2"] and not echo.may_fail and not last.may_fail
    assert skip.content == "needs kubectl" and page.count("skip") == 1
    assert page.count("commands") == 3
    assert unmarked.lang == "text"


def test_a_directive_must_be_known_and_complete(tmp_path):
    path = tmp_path / "page.md"
    path.write_text("<!-- docs-test: skip -->\n```console\n$ true\n```\n")
    with pytest.raises(ValueError, match="skip needs"):
        parse(path)
    path.write_text("<!-- docs-test: maybe x -->\n")
    with pytest.raises(ValueError, match="unknown directive"):
        parse(path)


@pytest.mark.parametrize(
    ("shown", "lost"),
    [
        (["a", "c"], None),  # in order, lines between allowed
        (["  c  "], None),  # spaces at the ends do not count
        (["b …d"], None),  # … is any text within a line
        (["...", "c"], None),  # a line of ... matches nothing
        (["c", "a"], "a"),  # out of order
        (["x"], "x"),
        (["b …x"], "b …x"),
    ],
)
def test_shown_lines_must_appear_in_order(shown, lost):
    assert missing(shown, "a\nb c d\nc\n") == lost
