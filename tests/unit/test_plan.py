"""The pure planning stage on plain data."""

import pytest

from reconciler.core.model import (
    CatalogPolicy,
    DesiredState,
    Key,
    Kind,
    ObservedState,
    Record,
    catalog_key,
)
from reconciler.core.plan import Action, make_plan, normalise

CAT = catalog_key("EESSI", "2023.06")
PKG = CAT.child("GROMACS")
VER = PKG.child("2024.4", "2024.4-foss-2023b")
TGT = VER.child("x86_64", "amd/zen3")


def desired(*records: Record, policy: CatalogPolicy | None = None) -> DesiredState:
    state = DesiredState(policies={CAT: policy or CatalogPolicy()})
    for r in records:
        state.records[r.key] = r
    return state


def observed(*records: Record, complete: bool = True, sizes=None) -> ObservedState:
    return ObservedState(
        records={r.key: r for r in records},
        complete=complete,
        incomplete_reason="page 2 failed" if not complete else "",
        catalog_sizes=sizes or {},
    )


def live(key: Key, **fields) -> Record:
    return Record(key, fields, uuid=f"u{len(key.parts)}", url=f"http://x/{len(key.parts)}/")


def test_create_from_empty_orders_top_down_and_carries_key_fields():
    want = desired(
        Record(CAT, {"description": "d"}), Record(PKG), Record(VER), Record(TGT, {"path": "/p"})
    )
    plan = make_plan(want, observed())
    assert [c.kind for c in plan.changes] == [Kind.CATALOG, Kind.PACKAGE, Kind.VERSION, Kind.TARGET]
    assert all(c.action is Action.CREATE for c in plan.changes)
    assert plan.changes[0].after == {
        "name": "EESSI",
        "version": "2023.06",
        "catalog_type": "binary_runtime",
        "description": "d",
    }
    assert plan.changes[3].after == {
        "cpu_family": "x86_64",
        "cpu_microarchitecture": "amd/zen3",
        "path": "/p",
    }
    assert plan.summary() == {"create": 4, "update": 0, "delete": 0, "not_applicable": 0}


def test_create_under_live_parent_knows_the_parent_url():
    plan = make_plan(desired(Record(CAT), Record(PKG)), observed(live(CAT)))
    (change,) = plan.changes
    assert change.key == PKG and change.parent_url == "http://x/3/"


def test_update_only_managed_fields_and_reports_old_and_new():
    want = desired(Record(CAT), Record(PKG, {"description": "new"}))
    have = observed(live(CAT), live(PKG, description="old", homepage="https://elsewhere"))
    (change,) = make_plan(want, have).changes
    assert change.action is Action.UPDATE
    assert [(f.name, f.old, f.new) for f in change.fields] == [("description", "old", "new")]
    assert change.url == "http://x/4/"


def test_unmanaged_fields_never_diff():
    want = desired(Record(CAT), Record(PKG))  # no description, no homepage declared
    have = observed(live(CAT, description="x"), live(PKG, description="y", homepage=None))
    assert make_plan(want, have).empty


def test_normalisation_makes_server_forms_equal():
    want = desired(
        Record(CAT, {"source_url": "https://www.eessi.io"}),
        Record(PKG, {"homepage": "", "description": " text "}),
    )
    have = observed(
        live(CAT, source_url="https://www.eessi.io/"), live(PKG, homepage=None, description="text")
    )
    assert make_plan(want, have).empty
    assert normalise("homepage", None) == ""
    assert normalise("is_extension", None) is None


def test_nested_metadata_diff_has_detail():
    want = desired(Record(CAT, {"metadata": {"a": 1, "b": 2}}))
    have = observed(live(CAT, metadata={"a": 1, "b": 3}))
    (change,) = make_plan(want, have).changes
    assert "b" in change.fields[0].detail and "3" in change.fields[0].detail


def test_prune_deletes_only_topmost_undeclared_and_counts_cascade():
    other = VER.child("aarch64", "neoverse_v1")
    old_pkg = CAT.child("OldThing")
    old_ver = old_pkg.child("1.0", "")
    old_tgt = old_ver.child("x86_64", "generic")
    want = desired(Record(CAT), Record(PKG), Record(VER), Record(TGT))
    have = observed(
        live(CAT),
        live(PKG),
        live(VER),
        live(TGT),
        live(other),
        live(old_pkg),
        live(old_ver),
        live(old_tgt),
    )
    plan = make_plan(want, have)
    deletes = [c for c in plan.changes if c.action is Action.DELETE]
    assert [c.key for c in deletes] == [other, old_pkg]  # bottom-up: target before package
    assert deletes[1].cascade == 2 and deletes[0].cascade == 0


def test_prune_false_leaves_undeclared_alone():
    extra = CAT.child("Extra")
    want = desired(Record(CAT), policy=CatalogPolicy(prune=False))
    assert make_plan(want, observed(live(CAT), live(extra))).empty


def test_absent_catalog_is_one_delete_with_its_subtree_counted():
    want = desired(Record(CAT), policy=CatalogPolicy(absent=True))
    plan = make_plan(want, observed(live(CAT), sizes={CAT: 42}))
    (change,) = plan.changes
    assert change.action is Action.DELETE and change.cascade == 42
    assert make_plan(want, observed()).empty  # already gone: nothing to do


def test_incomplete_observation_withholds_deletes_but_keeps_creates():
    want = desired(Record(CAT), Record(PKG))
    have = observed(live(CAT), live(CAT.child("Stale")), complete=False)
    plan = make_plan(want, have)
    assert [c.action for c in plan.changes] == [Action.CREATE]
    assert plan.withheld_deletes == 1 and "page 2 failed" in plan.notes[0]


def _subtree(catalog: Key) -> list[Record]:
    """A live package with a version and a target under `catalog`, none of them declared."""
    package = catalog.child("Stray")
    version = package.child("1.0", "")
    target = version.child("x86_64", "generic")
    return [
        Record(key, {"path": "/p"} if key is target else {}, uuid=str(key), url=f"http://x/{key}/")
        for key in (package, version, target)
    ]


@pytest.mark.parametrize("declared", [False, True], ids=["undeclared", "declared-with-prune"])
def test_undeclared_catalogs_are_never_touched(declared: bool) -> None:
    """Everything under a catalog the desired state does not declare is left alone, even when
    it is in the observed state (the observer never reads one, but the plan must not rely on
    that); the same records under a declared catalog with prune are deleted."""
    other = catalog_key("Other", "1")
    want = desired(Record(CAT))
    if declared:
        want.policies[other] = CatalogPolicy(prune=True)
        want.records[other] = Record(other)
    stray = _subtree(other)
    have = observed(live(CAT), Record(other, uuid="u-other", url="http://x/other/"), *stray)

    plan = make_plan(want, have)

    if declared:  # the records are really there and prunable: this test can fail
        (change,) = plan.changes
        assert (change.action, change.key, change.cascade) == (Action.DELETE, stray[0].key, 2)
    else:
        assert plan.empty


def test_plan_is_linear_for_many_targets():
    versions = [PKG.child(f"{i}", "") for i in range(200)]
    targets = [v.child("x86_64", f"m{j}") for v in versions for j in range(50)]
    want = desired(
        Record(CAT),
        Record(PKG),
        *(Record(v) for v in versions),
        *(Record(t, {"path": "/p"}) for t in targets),
    )
    have = observed(
        live(CAT),
        live(PKG),
        *(live(v) for v in versions),
        *(live(t, path="/p") for t in targets[:-10]),
    )
    plan = make_plan(want, have)
    assert plan.summary() == {"create": 10, "update": 0, "delete": 0, "not_applicable": 0}
    assert {c.key for c in plan.changes} == set(targets[-10:])


def test_a_catalog_with_a_loaders_hand_is_warned_about():
    """Waldur's loaders pick catalogs by name and type whatever auto_update_enabled says."""
    have = observed(live(CAT))
    have.loader_signs[CAT] = "last_successful_update 2026-11-30T02:00:00Z"
    plan = make_plan(desired(Record(CAT)), have)
    (note,) = plan.notes
    assert note.startswith("warning: catalog EESSI 2023.06 shows the hand of a Waldur loader")
    assert "last_successful_update 2026-11-30T02:00:00Z" in note
    assert "whatever auto_update_enabled says" in note
    assert make_plan(desired(Record(CAT)), observed(live(CAT))).notes == ()


def test_loader_signs_are_read_from_the_catalogs_own_fields():
    from reconciler.remote.observe import loader_sign

    assert loader_sign({"last_update_attempt": None, "last_successful_update": None}) == ""
    assert loader_sign({"auto_update_enabled": False, "last_update_attempt": None}) == ""
    assert loader_sign({"last_update_attempt": "2026-11-30T02:00:00Z"}).startswith(
        "last_update_attempt"
    )
    assert loader_sign({"auto_update_enabled": True}) == "auto_update_enabled true"
