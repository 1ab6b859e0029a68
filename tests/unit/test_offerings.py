"""Offering links: the file's references resolved against one listing of the offerings, and
the live links observed from the same listing (plain data: no server)."""

from __future__ import annotations

import pytest

from reconciler.core.errors import InputError
from reconciler.core.model import (
    CatalogPolicy,
    DesiredState,
    Kind,
    ObservedState,
    Record,
    catalog_key,
)
from reconciler.core.plan import Action, make_plan
from reconciler.remote.offerings import Offerings, as_uuid, observe_links, resolve

CAT = catalog_key("EESSI", "2025.06")
OTHER = catalog_key("Spack", "2025.01", "source_package")
A, B, TWIN1, TWIN2 = (f"{n:032x}" for n in (0xA, 0xB, 0xC1, 0xC2))


def offering(uuid: str, name: str, *links: dict, org: str = "Provider") -> dict:
    return {
        "uuid": uuid,
        "url": f"https://waldur.example/api/marketplace-provider-offerings/{uuid}/",
        "name": name,
        "customer_name": org,
        "software_catalogs": list(links),
    }


def link(uuid: str, catalog_uuid: str, families=(), micros=()) -> dict:
    return {
        "uuid": uuid,
        "catalog": {"uuid": catalog_uuid, "name": "EESSI", "version": "2025.06"},
        "enabled_cpu_family": list(families),
        "enabled_cpu_microarchitectures": list(micros),
        "package_count": 0,
        "partition": None,
    }


LISTING = Offerings(
    [
        offering(A, "HPC cluster A", link("l1", "cat-uuid", ["x86_64"], ["generic"])),
        offering(B, "HPC cluster B", link("l2", "cat-uuid", ["aarch64"]), link("l3", "spack")),
        offering(TWIN1, "Twin", org="Org one"),
        offering(TWIN2, "Twin", org="Org two"),
    ]
)


def desired(*refs: str, source: str = "f.yaml:9") -> DesiredState:
    state = DesiredState(policies={CAT: CatalogPolicy(offerings=True)})
    state.records[CAT] = Record(CAT, {})
    for ref in refs:
        key = CAT.link(ref)
        fields = {"enabled_cpu_family": ["x86_64"], "enabled_cpu_microarchitectures": []}
        state.records[key] = Record(key, fields, source=source)
    return state


def test_names_and_every_spelling_of_a_uuid_resolve_to_the_offerings_uuid():
    hyphenated = f"{B[:8]}-{B[8:12]}-{B[12:16]}-{B[16:20]}-{B[20:]}".upper()
    resolved = resolve(desired("HPC cluster A", hyphenated), LISTING)
    links = sorted(k.parts[3] for k in resolved.records if k.kind is Kind.OFFERING_LINK)
    assert links == sorted([A, B])
    assert as_uuid("HPC cluster A") is None and as_uuid(hyphenated) == B


@pytest.mark.parametrize(
    ("ref", "says"),
    [
        ("HPC cluster C", "no offering named 'HPC cluster C' is visible to this token"),
        ("hpc cluster a", "names that differ only in case: HPC cluster A"),
        ("Twin", f"2 offerings are named 'Twin': give the uuid of one: {TWIN1} (Org one)"),
        (f"{0xDEAD:032x}", "is not visible to this token"),
    ],
)
def test_a_reference_that_is_not_one_visible_offering_names_file_and_line(ref, says):
    with pytest.raises(InputError) as info:
        resolve(desired(ref), LISTING)
    (problem,) = info.value.problems
    assert problem.startswith("f.yaml:9: offerings: ") and says in problem
    assert "nothing was written" in str(info.value)


def test_the_same_offering_by_name_and_by_uuid_is_declared_twice():
    with pytest.raises(InputError, match="which the catalog lists already"):
        resolve(desired("HPC cluster A", A), LISTING)


def observed_catalogs() -> ObservedState:
    state = ObservedState()
    state.records[CAT] = Record(CAT, {}, uuid="cat-uuid", url="https://w/c/cat-uuid/")
    state.records[OTHER] = Record(OTHER, {}, uuid="spack", url="https://w/c/spack/")
    return state


def test_live_links_of_managed_catalogs_only_with_the_offering_they_were_read_from():
    policies = {CAT: CatalogPolicy(offerings=True), OTHER: CatalogPolicy()}
    seen = observe_links(observed_catalogs(), DesiredState(policies=policies), LISTING)
    links = {k: r for k, r in seen.records.items() if k.kind is Kind.OFFERING_LINK}
    assert set(links) == {CAT.link(A), CAT.link(B)}  # Spack's link: not managed, not read
    assert links[CAT.link(A)].uuid == "l1"
    assert links[CAT.link(A)].url == f"marketplace-provider-offerings/{A}/"
    assert links[CAT.link(B)].fields == {
        "enabled_cpu_family": ["aarch64"],
        "enabled_cpu_microarchitectures": [],
    }
    assert seen.offering_names[A] == "HPC cluster A"


def test_the_plan_creates_updates_and_prunes_links():
    want = resolve(desired("HPC cluster A"), LISTING)
    want.records[CAT.link(A)] = Record(
        CAT.link(A),
        {
            "enabled_cpu_family": ["x86_64"],
            "enabled_cpu_microarchitectures": ["amd/zen4", "generic"],
        },
    )
    have = observe_links(observed_catalogs(), want, LISTING)
    plan = make_plan(want, have)
    actions = {(c.action, c.key.parts[3]) for c in plan.changes}
    assert actions == {(Action.UPDATE, A), (Action.DELETE, B)}
    (update,) = [c for c in plan.changes if c.action is Action.UPDATE]
    assert [f.name for f in update.fields] == ["enabled_cpu_microarchitectures"]
    (delete,) = [c for c in plan.changes if c.action is Action.DELETE]
    assert delete.uuid == "l2" and delete.url.endswith(f"/{B}/")  # through its own offering


def test_order_of_the_lists_does_not_matter_and_no_prune_leaves_other_links():
    want = resolve(desired("HPC cluster A"), LISTING)
    want.records[CAT.link(A)] = Record(
        CAT.link(A),
        {"enabled_cpu_family": ["x86_64"], "enabled_cpu_microarchitectures": ["generic"]},
    )
    want.policies[CAT] = CatalogPolicy(offerings=True, prune=False)
    have = observe_links(observed_catalogs(), want, LISTING)
    assert make_plan(want, have).empty


def test_an_incomplete_listing_of_offerings_withholds_link_removals():
    want = resolve(desired("HPC cluster A"), LISTING)
    partial = Offerings(LISTING.items, complete=False, reason="page 2 failed")
    have = observe_links(observed_catalogs(), want, partial)
    plan = make_plan(want, have)
    assert not any(c.action is Action.DELETE for c in plan.changes)
    assert plan.withheld_deletes == 1 and "offerings: page 2 failed" in plan.notes[0]


def test_a_catalog_deleted_whole_counts_its_links_in_the_cascade():
    gone = DesiredState(policies={CAT: CatalogPolicy(absent=True)})
    gone.records[CAT] = Record(CAT, {})
    have = observe_links(observed_catalogs(), gone, LISTING)
    (delete,) = make_plan(gone, have).changes
    assert delete.key == CAT and delete.cascade == 2  # two offerings link it
