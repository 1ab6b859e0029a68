"""Properties of the whole tool against one real waldur-sim process (legacy dialect).

- What `reconcile validate` accepts, `reconcile apply` writes with no change failing and no
  request refused by the server (no 400), and the plan right after is empty.
- What `reconcile validate` refuses (a hostile value) it refuses naming file, line and field,
  and `reconcile apply` of it exits 1 having sent nothing at all.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.property import simtools
from tests.property import strategies as gen
from tests.property.api import SimProcess
from tests.property.budget import SLOW


@pytest.fixture(scope="module")
def server() -> Iterator[SimProcess]:
    with SimProcess() as sim:
        yield sim


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("sim-legacy")


#: Half well-formed documents, half with grey-zone values (some of which validate refuses).
valid_or_gray = st.one_of(
    gen.small_documents.map(lambda doc: (doc, [])),
    gen.gray_documents(small=True),
)


@settings(SLOW, max_examples=6)
@given(case=valid_or_gray)
def test_what_validate_accepts_applies_cleanly_and_replans_empty(server, folder, case):
    doc, grey = case
    path = simtools.write(folder, gen.dump(doc))
    checked = simtools.validate(path)
    if checked.returncode != 0:
        assert checked.returncode == 1 and "in the desired state" in checked.stderr, checked
        return
    simtools.wipe(server)
    outcome = simtools.apply(server, path)
    simtools.assert_applied_cleanly(outcome, grey)
    again = simtools.plan(server, path)
    assert again["changes"] == [], (grey, again["changes"])


@settings(SLOW, max_examples=5)
@given(hostile=gen.hostile_documents())
def test_hostile_values_are_refused_by_validate_and_never_sent(server, folder, hostile):
    text = gen.dump(hostile.doc)
    path = simtools.write(folder, text)
    checked = simtools.validate(path)
    assert checked.returncode == 1, (hostile, checked.stdout)
    assert simtools.expected_problem(hostile, str(path), text).search(checked.stderr), (
        hostile,
        checked.stderr,
    )
    simtools.reset_stats(server)
    applied = simtools.cli(server, path, "apply")
    stats = simtools.sim_stats(server)
    assert (applied.returncode, stats["total"]) == (1, 0), (hostile, applied.stderr, stats)


@pytest.mark.parametrize("group", sorted(gen.GREY_GROUPS))
def test_every_grey_value_validate_accepts_is_written_and_replanned_empty(server, folder, group):
    """Exhaustive: each grey-zone value in each place of its kind (see `check_grey_zone`)."""
    simtools.check_grey_zone(server, folder, gen.GREY_GROUPS[group])
