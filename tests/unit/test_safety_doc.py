"""docs/explanation/safety.md names, for each protection, the test that shows it: every test
it names exists (a renamed or removed test makes the page lie)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "explanation" / "safety.md"
#: `tests/….py`, `tests/….py::name`, or `::name` (the last file named before it).
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?")


def test_every_test_the_safety_page_names_exists():
    named = 0
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        if not line.startswith("|"):
            continue
        current: Path | None = None
        for found in REFERENCE.finditer(line):
            path, name = found.groups()
            if path:
                current = ROOT / path
                assert current.is_file(), f"{path} does not exist"
            if name:
                assert current is not None, line
                assert f"def {name}(" in current.read_text(encoding="utf-8"), (
                    f"{current.relative_to(ROOT)} has no test {name}"
                )
                named += 1
    assert named >= 20
