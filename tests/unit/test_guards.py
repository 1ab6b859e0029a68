"""Safety guards on plain plans."""

import pytest

from reconciler.core import guards
from reconciler.core.errors import ExitCode, GuardRefused
from reconciler.core.model import CatalogPolicy, DesiredState, ObservedState, Record, catalog_key
from reconciler.core.plan import make_plan

CAT = catalog_key("EESSI", "2023.06")


def live(key):
    return Record(key, {}, uuid="u", url=f"http://x/{'/'.join(key.parts)}/")


def scenario(n_live: int, n_kept: int, policy=None, complete=True):
    pkgs = [CAT.child(f"pkg{i:03}") for i in range(n_live)]
    desired = DesiredState(policies={CAT: policy or CatalogPolicy()})
    desired.records[CAT] = Record(CAT)
    for key in pkgs[:n_kept]:
        desired.records[key] = Record(key)
    observed = ObservedState(
        records={k: live(k) for k in [CAT, *pkgs]},
        complete=complete,
        incomplete_reason="a page failed",
    )
    return make_plan(desired, observed), desired


def test_small_deletes_pass():
    plan, desired = scenario(20, 10)  # 10 deletes = the absolute floor
    guards.check(plan, desired)


def test_mass_delete_refused_with_what_and_how():
    plan, desired = scenario(50, 30)  # 20 deletes > max(10, 10% of 51)
    with pytest.raises(GuardRefused) as info:
        guards.check(plan, desired)
    text = str(info.value)
    assert "deletes 20 objects" in text and "--max-delete" in text and "pkg030" in text
    assert info.value.exit_code == ExitCode.REFUSED
    guards.check(plan, desired, max_delete=20)  # allowed when raised


def test_percentage_scales_with_catalog_size():
    plan, desired = scenario(300, 270)  # 30 deletes <= 10% of 301
    guards.check(plan, desired)
    with pytest.raises(GuardRefused):
        guards.check(plan, desired, max_delete_percent=5)


def test_cascaded_children_count():
    pkg = CAT.child("Big")
    versions = [pkg.child(str(i), "") for i in range(12)]
    desired = DesiredState(policies={CAT: CatalogPolicy()}, records={CAT: Record(CAT)})
    desired.records[CAT.child("Keep")] = Record(CAT.child("Keep"))
    observed = ObservedState(records={k: live(k) for k in [CAT, CAT.child("Keep"), pkg, *versions]})
    plan = make_plan(desired, observed)
    assert len(plan.changes) == 1  # one DELETE of the package
    with pytest.raises(GuardRefused, match="deletes 13 objects"):
        guards.check(plan, desired)


def test_emptying_a_catalog_needs_allow_empty():
    plan, desired = scenario(3, 0)
    with pytest.raises(GuardRefused, match="allow_empty"):
        guards.check(plan, desired)
    plan, desired = scenario(3, 0, policy=CatalogPolicy(allow_empty=True))
    guards.check(plan, desired)


def test_incomplete_observation_refuses_when_deletes_were_needed():
    plan, desired = scenario(5, 3, complete=False)
    assert plan.withheld_deletes == 2
    with pytest.raises(GuardRefused, match="complete picture"):
        guards.check(plan, desired)
    plan, desired = scenario(5, 5, complete=False)  # nothing to delete: no refusal
    guards.check(plan, desired)
