"""The desired-state cache keeps every part of a validated state (a lost policy field would
make a cached run plan differently from a fresh one: a loader catalog read as one that
declares no packages, and every loaded package planned for deletion)."""

import dataclasses
import json

from reconciler.core.model import (
    CatalogPolicy,
    DesiredState,
    Expectations,
    Key,
    Kind,
    LoaderPolicy,
    Record,
)
from reconciler.desired import cachefile


def _every_field_set() -> CatalogPolicy:
    return CatalogPolicy(
        prune=False,
        absent=True,
        allow_empty=True,
        ignore_fields=frozenset({"description", "metadata"}),
        offerings=True,
        loader=LoaderPolicy(
            "eessi", Expectations(("GROMACS",), ("x86_64/amd/zen3",), 600), 7 * 86400.0
        ),
    )


def test_every_policy_field_survives_the_cache():
    policy = _every_field_set()
    defaults = CatalogPolicy()
    unset = [
        f.name
        for f in dataclasses.fields(CatalogPolicy)
        if getattr(policy, f.name) == getattr(defaults, f.name)
    ]
    assert unset == [], f"give these a non-default value in this test: {unset}"
    key = Key(Kind.CATALOG, ("EESSI", "2023.06", "binary_runtime"))
    state = DesiredState(
        records={key: Record(key, {"name": "EESSI"}, source="a.yaml:3")},
        policies={key: policy},
        sources=("a.yaml",),
    )
    back = cachefile._unpack(json.loads(json.dumps(cachefile._pack(state))))
    assert back is not None
    assert back.policies == {key: policy}
    assert back.records[key].fields == {"name": "EESSI"}
    assert back.sources == ("a.yaml",)


def test_a_loader_free_policy_survives_too():
    key = Key(Kind.CATALOG, ("Local", "1.0", "source_package"))
    state = DesiredState(policies={key: CatalogPolicy()})
    back = cachefile._unpack(json.loads(json.dumps(cachefile._pack(state))))
    assert back is not None and back.policies == {key: CatalogPolicy()}
