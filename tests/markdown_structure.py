"""What a Markdown document does, for tests of hostile names: its lines outside code blocks
(where a name could open a heading or close a section) and inside them."""

from __future__ import annotations

import re

_FENCE = re.compile(r"(`{3,})[a-z]*")


def split_code(text: str) -> tuple[list[str], list[str]]:
    """The lines outside code blocks and the lines inside; fails on a block never closed."""
    outside: list[str] = []
    inside: list[str] = []
    closing: str | None = None
    for line in text.splitlines():
        if closing is None:
            opened = _FENCE.fullmatch(line)
            if opened:
                closing = opened.group(1)
            else:
                outside.append(line)
        elif line == closing:
            closing = None
        else:
            inside.append(line)
    assert closing is None, "a code block is never closed"
    return outside, inside


def headings(lines: list[str]) -> list[str]:
    return [line for line in lines if line.lstrip().startswith("#")]


def assert_sections_balanced(outside: list[str]) -> None:
    """Every `<details>` closed by a line of its own; every summary on one line."""
    opened = sum(line.count("<details>") for line in outside)
    assert opened == sum(line.count("</details>") for line in outside)
    assert all(line == "</details>" for line in outside if "</details>" in line)
    for line in outside:
        if line.startswith("<details><summary>"):
            assert line.endswith("</summary>") and line.count("<") == line.count(">")
