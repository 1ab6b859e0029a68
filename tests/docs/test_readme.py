"""The README stays a few screens long, and every link in it (and in the docs) resolves."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from .sessions import DOCS, README, ROOT

LIMIT = 10_000  # characters: a few screens; the rest belongs in docs/
_LINK = re.compile(r"(?<!`)\[[^\]]*\]\(([^)\s]+)\)")


def _slug(heading: str) -> str:
    """The anchor MkDocs (and GitHub) give a heading."""
    text = re.sub(r"`|\*|\[|\]\([^)]*\)", "", heading).strip().lower()
    return re.sub(r"[\s]+", "-", re.sub(r"[^\w\s-]", "", text))


def anchors(page: Path) -> set[str]:
    found: set[str] = set()
    fenced = False
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.lstrip().startswith("```"):
            fenced = not fenced
        if fenced:
            continue
        m = re.match(r"^#{1,6} (.*?)(?: \{#([\w-]+)\})?$", line)
        if m:
            found.add(m.group(2) or _slug(m.group(1)))
    return found


def broken_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
    bad = []
    for target in _LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto: not fetched (no network in the tests)
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists():
            bad.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            bad.append(f"{target}: no heading #{anchor} in {file.name}")
    return bad


def test_readme_is_a_few_screens():
    size = len(README.read_text(encoding="utf-8"))
    assert size < LIMIT, f"README.md is {size} characters: move detail into docs/ (limit {LIMIT})"


def test_readme_starts_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    commands = [line.split("#")[0].strip() for line in lines[:5] if line.startswith("    make")]
    assert commands == ["make demo", "make test"]


@pytest.mark.parametrize(
    "page", [README, *sorted(DOCS.rglob("*.md"))], ids=lambda p: p.relative_to(ROOT).as_posix()
)
def test_links_resolve(page):
    assert not broken_links(page)


def test_the_link_checker_finds_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Title\n\n[ok](#title) [gone](nowhere.md) [bad](#no-such)\n")
    assert broken_links(page) == [
        "nowhere.md: no such file",
        "#no-such: no heading #no-such in page.md",
    ]
