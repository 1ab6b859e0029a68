"""docs/reference/waldur-sim.md documents every flag of `waldur-sim` and nothing it lacks, and
every filter the sim declares."""

from __future__ import annotations

import re
from pathlib import Path

from waldur_sim.filter_table import filters
from waldur_sim.serializers import CURRENT
from waldur_sim.server import parser

PAGE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "waldur-sim.md"


def test_the_flag_table_is_the_argument_parser() -> None:
    text = PAGE.read_text()
    documented = set(re.findall(r"^\| `(--[a-z-]+)", text, re.MULTILINE))
    declared = {
        option
        for action in parser()._actions
        for option in action.option_strings
        if option.startswith("--") and option != "--help"
    }
    assert documented == declared


def test_every_current_filter_is_documented() -> None:
    text = PAGE.read_text()
    section = text[text.index("## Filters") : text.index("## OPTIONS")]
    for kind, specs in filters(CURRENT).items():
        for spec in specs:
            assert f"`{spec.param}`" in section, (kind, spec.param)
