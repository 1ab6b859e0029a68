"""Properties of the whole tool against one real waldur-sim process (current dialect), over
two runs: a document applied, then an edited version of it (fields changed, objects added and
removed: creates, updates and deletes).

- What validate accepts is applied with no change failing and no request refused (no 400),
  both times.
- Planning the same inputs twice gives the same plan: `reconcile plan` and the plan `reconcile
  apply` then makes and carries out list the same changes.
- After each apply the plan is empty.

The documents are checked with `load_desired`, the function `reconcile validate` runs (one
CLI run fewer per document); the legacy module runs the `validate` command itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.property import simtools
from tests.property import strategies as gen
from tests.property.api import InputError, SimProcess, load_desired
from tests.property.budget import SLOW


@pytest.fixture(scope="module")
def server() -> Iterator[SimProcess]:
    with SimProcess("--dialect", "current") as sim:
        yield sim


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("sim-current")


#: Mostly (3 in 4) well-formed documents: a grey value validate refuses skips the example.
valid_or_gray = st.one_of(
    *[gen.small_documents.map(lambda doc: (doc, []))] * 3,
    gen.gray_documents(small=True),
)


@st.composite
def two_runs(draw):
    first, grey = draw(valid_or_gray)
    return first, draw(gen.drifted(first)), grey


def accepted(path) -> bool:
    try:
        load_desired([path])
    except InputError:
        return False
    return True


@settings(SLOW, max_examples=3)
@given(case=two_runs())
def test_an_edited_document_applies_cleanly_as_planned_and_replans_empty(server, folder, case):
    first, second, grey = case
    path_a = simtools.write(folder, gen.dump(first))
    path_b = simtools.write(folder, gen.dump(second))
    assume(accepted(path_a) and accepted(path_b))
    simtools.wipe(server)
    outcome = simtools.apply(server, path_a, "--api-dialect", "current")
    simtools.assert_applied_cleanly(outcome, ("first run", grey))
    assert simtools.plan(server, path_a)["changes"] == [], ("first run", grey)

    planned = simtools.plan(server, path_b)
    outcome = simtools.apply(server, path_b)
    simtools.assert_applied_cleanly(outcome, ("second run", grey))
    applied = outcome["doc"]
    assert (applied["summary"], simtools.comparable(applied["changes"])) == (
        planned["summary"],
        planned["changes"],
    ), ("the apply planned other changes than the plan", grey)
    again = simtools.plan(server, path_b)
    assert again["changes"] == [], ("second run", grey, again["changes"])


@pytest.mark.parametrize("group", sorted(gen.GREY_GROUPS))
def test_every_grey_value_validate_accepts_is_written_and_replanned_empty(server, folder, group):
    """Exhaustive: each grey-zone value in each place of its kind (see `check_grey_zone`)."""
    simtools.check_grey_zone(server, folder, gen.GREY_GROUPS[group], "--api-dialect", "current")
