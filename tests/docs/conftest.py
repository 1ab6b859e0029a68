"""The documentation tests' tally: how many commands of the pages ran, how many blocks skip."""

from __future__ import annotations

from collections import Counter

import pytest

_COUNTS: Counter[str] = Counter()


@pytest.fixture
def docs_counts() -> Counter[str]:
    return _COUNTS


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _COUNTS["pages"]:
        terminalreporter.write_line(
            f"docs: {_COUNTS['commands']} commands run on {_COUNTS['pages']} pages; "
            f"{_COUNTS['skipped blocks']} blocks marked skip (each with its reason)"
        )
