"""The observer's bookkeeping, against a scripted server: duplicates, shared keys, dialect."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.core.errors import ApiError
from reconciler.core.model import CatalogPolicy, DesiredState, Kind, Record, catalog_key
from reconciler.remote.client import ClientConfig, WaldurClient
from reconciler.remote.observe import observe

CAT = catalog_key("EESSI", "2023.06")
PKG = CAT.child("GROMACS")
VER = PKG.child("2024.4", "2024.4-foss-2023b")
TGT = VER.child("x86_64", "amd/zen3")


def hexid(name: str) -> str:
    """A uuid (32 hex digits) for a readable name: the observer accepts nothing else."""
    return name.encode().hex().rjust(32, "0")


def target(uuid: str) -> dict[str, Any]:
    return {
        "uuid": hexid(uuid),
        "cpu_family": "x86_64",
        "cpu_microarchitecture": "amd/zen3",
        "path": "/p",
    }


def version(uuid: str, *targets: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": hexid(uuid),
        "version": "2024.4",
        "module_version": "2024.4-foss-2023b",
        "release_date": None,
        "targets": list(targets),
    }


def server(packages: list[dict[str, Any]], count: int | None = None) -> WaldurClient:
    """One catalog with `packages` (one page), announcing `count` of them."""
    catalog = {
        "uuid": hexid("c1"),
        "url": "http://x/api/marketplace-software-catalogs/c1/",
        "name": "EESSI",
        "version": "2023.06",
        "catalog_type": "binary_runtime",
    }

    def handle(request: httpx.Request) -> httpx.Response:
        body = [catalog] if "catalogs" in request.url.path else packages
        total = len(body) if count is None or body is not packages else count
        return httpx.Response(200, json=body, headers={"X-Result-Count": str(total)})

    config = ClientConfig(api_url="http://127.0.0.1:9/api/")
    return WaldurClient(config, transport=httpx.MockTransport(handle))


def package(uuid: str, *versions: dict[str, Any]) -> dict[str, Any]:
    return {
        "uuid": hexid(uuid),
        "url": f"http://x/api/marketplace-software-packages/{uuid}/",
        "name": "GROMACS",
        "versions": list(versions),
    }


def desired() -> DesiredState:
    state = DesiredState(policies={CAT: CatalogPolicy()})
    for key in (CAT, PKG, VER, TGT):
        state.records[key] = Record(key)
    return state


def test_two_objects_under_one_key_are_reported_with_both_uuids():
    client = server([package("p1", version("v1", target("t1"), target("t2")))])
    observed = observe(client, desired())
    assert observed.complete
    assert observed.duplicates == [f"{TGT} (uuids {hexid('t1')}, {hexid('t2')})"]
    assert observed.records[TGT].uuid == hexid("t1")


def test_one_object_read_twice_is_no_duplicate_but_the_read_is_incomplete():
    # A listing that moved between two page reads returns a package on both pages.
    twice = package("p1", version("v1", target("t1")))
    client = server([twice, twice], count=2)
    observed = observe(client, desired())
    assert observed.duplicates == []
    assert not observed.complete and "distinct" in observed.incomplete_reason


def test_observed_keys_are_the_desired_keys_and_the_dialect_is_read_from_a_target():
    want = desired()
    client = server([package("p1", version("v1", target("t1")))])
    observed = observe(client, want)
    shared = {id(k) for k in want.records}
    assert {id(k) for k in observed.records} == shared  # one Key object per key, not two
    assert observed.dialect == "legacy"
    # built from the API URL and the uuid, never the server's "http://x/…" url fields
    assert observed.records[TGT].url == (
        f"http://127.0.0.1:9/api/marketplace-software-targets/{hexid('t1')}/"
    )
    assert observed.records[PKG].url.startswith("http://127.0.0.1:9/api/")
    assert [k.kind for k in observed.records] == [
        Kind.CATALOG,
        Kind.PACKAGE,
        Kind.VERSION,
        Kind.TARGET,
    ]


@pytest.mark.parametrize(
    "versions",
    [
        "not a list",
        [1, 2],
        [{"uuid": hexid("v1"), "version": "1", "targets": "not a list"}],
        [{"uuid": hexid("v1"), "version": "1", "targets": [5]}],
    ],
    ids=["versions-a-string", "versions-numbers", "targets-a-string", "targets-numbers"],
)
def test_a_tree_not_of_waldurs_shape_is_the_servers_error_not_an_internal_one(versions):
    client = server([{"uuid": hexid("p1"), "name": "GROMACS", "versions": versions}])
    with pytest.raises(ApiError) as caught:
        observe(client, desired())
    message = str(caught.value)
    assert "not of the shape Waldur sends" in message and "nothing was written" in message
    assert "EESSI 2023.06" in message  # which catalog's listing


@pytest.mark.parametrize("where", ["package", "version", "target"])
def test_a_uuid_that_would_add_a_path_or_a_query_to_a_write_ends_the_read(where):
    """Every object's URL is its collection's and its uuid, checked: a uuid that is not one
    would make the PATCH or DELETE that follows go to another path (an action, a query)."""
    hostile = "43dd8d49a89f4a35ad9481ffa4c12c34/update_catalog/?x=1"
    tgt = {**target("t1"), "uuid": hostile} if where == "target" else target("t1")
    ver = version("v1", tgt)
    if where == "version":
        ver["uuid"] = hostile
    pkg = package("p1", ver)
    if where == "package":
        pkg["uuid"] = hostile
    with pytest.raises(ApiError, match=f"the server gave a {where} the malformed uuid"):
        observe(server([pkg]), desired())
