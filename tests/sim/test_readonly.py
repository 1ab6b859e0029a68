"""`--read-only-kinds version,target`: how current upstream Waldur treats versions and targets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.sim.helpers import Api
from waldur_sim.launcher import SimProcess

Tree = dict[str, dict[str, Any]]


@pytest.fixture(scope="module")
def readonly(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Tree]]:
    """A tree written by a normal server, then served with versions and targets read-only."""
    db = tmp_path_factory.mktemp("readonly") / "sim.sqlite3"
    with SimProcess(db=db) as writer:
        api = Api(writer)
        catalog = api.catalog()
        package = api.package(catalog)
        version = api.version(package, version="1.0", module_version="1.0-foss")
        tree = {
            "catalog": catalog,
            "package": package,
            "version": version,
            "target": api.target(version, path="/cvmfs/a"),
            "doomed": api.target(version, cpu_microarchitecture="amd/zen3"),
        }
        api.close()
    with SimProcess("--read-only-kinds", "version,target", db=db) as process:
        api = Api(process)
        kinds = {"doomed": "target"}  # the other labels are kind names
        yield (
            api,
            {
                label: api.get(api.detail(kinds.get(label, label), obj["uuid"]))
                for label, obj in tree.items()
            },
        )
        api.close()


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("version", lambda t: {"package": t["package"]["url"], "version": "2.0"}),
        (
            "target",
            lambda t: {
                "version": t["version"]["url"],
                "cpu_family": "aarch64",
                "cpu_microarchitecture": "generic",
            },
        ),
    ],
)
def test_post_is_a_500_with_a_non_json_body(
    readonly: tuple[Api, Tree], kind: str, body: Any
) -> None:
    api, tree = readonly
    before = api.count(kind)
    response = api.post(kind, body(tree))
    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()
    assert api.count(kind) == before


def test_post_still_parses_the_body_first(readonly: tuple[Api, Tree]) -> None:
    api, _ = readonly
    response = api.send("POST", api.collection("version"), b"{oops")
    assert response.status_code == 400
    assert api.post("target", []).json() == {
        "non_field_errors": ["Invalid data. Expected a dictionary, but got list."]
    }


@pytest.mark.parametrize(
    ("kind", "method", "body"),
    [
        ("version", "PATCH", {"version": "9.9", "release_date": "2020-01-01"}),
        ("version", "PUT", {"package": None, "version": "9.9", "module_version": "x"}),
        ("target", "PATCH", {"path": "/elsewhere", "cpu_family": "riscv64"}),
        ("target", "PUT", {}),
    ],
)
def test_put_and_patch_answer_200_and_change_only_modified(
    readonly: tuple[Api, Tree], kind: str, method: str, body: dict[str, Any]
) -> None:
    api, tree = readonly
    before = api.get(tree[kind]["url"])
    response = api.request(method, tree[kind]["url"], json=body)
    assert response.status_code == 200
    after = response.json()
    assert after["modified"] > before["modified"]
    assert after == before | {"modified": after["modified"]}
    assert api.get(tree[kind]["url"]) == after


def test_delete_works(readonly: tuple[Api, Tree]) -> None:
    api, tree = readonly
    response = api.request("DELETE", tree["doomed"]["url"])
    assert response.status_code == 204
    assert api.request("GET", tree["doomed"]["url"], None).status_code == 404


def test_catalogs_and_packages_stay_writable(readonly: tuple[Api, Tree]) -> None:
    api, tree = readonly
    response = api.request("PATCH", tree["package"]["url"], json={"description": "still writable"})
    assert (response.status_code, response.json()["description"]) == (200, "still writable")
    api.package(tree["catalog"])


def test_permissions_still_come_first(readonly: tuple[Api, Tree]) -> None:
    api, _ = readonly
    assert api.post("version", {}, who=None).status_code == 401
    assert api.post("version", {}, who="user").status_code == 403
