"""The `current` dialect (Waldur >= 7.9.2): new target fields, old names kept as filters only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.helpers import REQUIRED, Api

CURRENT_TARGET_KEYS = {
    "url",
    "uuid",
    "created",
    "modified",
    "target_type",
    "target_name",
    "target_subtype",
    "location",
    "metadata",
    "gpu_architectures",
}


def new_target(api: Api, version: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"target_type": "cpu_architecture", "target_name": "x86_64", **fields}
    return api.create("target", version=version["url"], **body)


@pytest.fixture(scope="module")
def tree(current_api: Api) -> dict[str, dict[str, Any]]:
    api = current_api
    catalog = api.catalog()
    package = api.package(catalog)
    version = api.version(package)
    return {
        "catalog": catalog,
        "package": package,
        "version": version,
        "zen3": new_target(
            api, version, target_subtype="amd/zen3", location="/cvmfs/x86_64/amd/zen3"
        ),
        "generic": new_target(
            api, version, target_subtype="generic", location="/cvmfs/x86_64/generic"
        ),
        "plain": api.create(
            "target", version=version["url"], target_name="x86_64", target_subtype="generic"
        ),
        "gpu": new_target(
            api,
            version,
            target_name="aarch64",
            target_subtype="nvidia/grace",
            metadata={"source": "eessi"},
            gpu_architectures=["nvidia/cc90"],
        ),
    }


def test_targets_carry_the_new_fields_only(tree: dict[str, dict[str, Any]]) -> None:
    gpu = tree["gpu"]
    assert set(gpu) == CURRENT_TARGET_KEYS
    assert {k: gpu[k] for k in CURRENT_TARGET_KEYS - {"url", "uuid", "created", "modified"}} == {
        "target_type": "cpu_architecture",
        "target_name": "aarch64",
        "target_subtype": "nvidia/grace",
        "location": "",
        "metadata": {"source": "eessi"},
        "gpu_architectures": ["nvidia/cc90"],
    }


def test_new_field_defaults(current_api: Api, tree: dict[str, dict[str, Any]]) -> None:
    version = current_api.version(tree["package"], version="other")
    target = current_api.create("target", version=version["url"], target_name="riscv64")
    assert (target["target_type"], target["target_subtype"], target["location"]) == (
        "architecture",
        "",
        "",
    )
    assert (target["metadata"], target["gpu_architectures"]) == ({}, [])


def test_legacy_field_names_in_a_body_are_ignored(
    current_api: Api, tree: dict[str, dict[str, Any]]
) -> None:
    body = {
        "version": tree["version"]["url"],
        "cpu_family": "x86_64",
        "cpu_microarchitecture": "generic",
        "path": "/p",
    }
    response = current_api.post("target", body)
    assert (response.status_code, response.json()) == (400, {"target_name": [REQUIRED]})


def test_embedded_targets_use_the_new_names(
    current_api: Api, tree: dict[str, dict[str, Any]]
) -> None:
    versions = current_api.get(tree["package"]["url"])["versions"]
    embedded = {t["uuid"]: t for v in versions for t in v["targets"]}
    zen3 = tree["zen3"]
    assert embedded[zen3["uuid"]] == {
        k: v for k, v in zen3.items() if k not in ("url", "created", "modified")
    }


def test_the_key_includes_target_type(current_api: Api, tree: dict[str, dict[str, Any]]) -> None:
    response = current_api.post(
        "target",
        {
            "version": tree["version"]["url"],
            "target_type": "cpu_architecture",
            "target_name": "x86_64",
            "target_subtype": "amd/zen3",
        },
    )
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "The fields version, target_type, target_name, target_subtype must make a unique set."
        ]
    }


@pytest.mark.parametrize(
    ("value", "errors"),
    [
        ("nvidia/cc90", ['Expected a list of items but got type "str".']),
        ({"a": 1}, ['Expected a list of items but got type "dict".']),
        (["nvidia/cc90", 7, {"x": 1}], {"2": ["Not a valid string."]}),
    ],
)
def test_gpu_architectures_is_a_list_of_strings(
    current_api: Api, tree: dict[str, dict[str, Any]], value: Any, errors: Any
) -> None:
    before = current_api.count("target")
    body = {"version": tree["version"]["url"], "target_name": "x", "gpu_architectures": value}
    response = current_api.post("target", body)
    assert (response.status_code, response.json()) == (400, {"gpu_architectures": errors})
    assert current_api.count("target") == before


def labels(api: Api, tree: dict[str, dict[str, Any]], kind: str, **params: Any) -> set[str]:
    by_uuid = {obj["uuid"]: label for label, obj in tree.items()}
    return {by_uuid.get(item["uuid"], "?") for item in api.items(kind, **params)}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"cpu_family": "X86_64"}, {"zen3", "generic"}),  # only target_type cpu_architecture
        ({"cpu_microarchitecture": "GENERIC"}, {"generic"}),
        ({"cpu_microarchitecture": ["amd/zen3", "nvidia/grace"]}, {"zen3", "gpu"}),
        ({"path": "AMD"}, {"zen3"}),  # searches location
        ({"target_type": "ARCHITECTURE"}, {"plain"}),
        ({"target_name": "arch"}, {"gpu"}),
        ({"target_subtype": "zen"}, {"zen3"}),
    ],
)
def test_target_filters_with_old_and_new_names(
    current_api: Api, tree: dict[str, dict[str, Any]], params: dict[str, Any], expected: set[str]
) -> None:
    assert (
        labels(current_api, tree, "target", version_uuid=tree["version"]["uuid"], **params)
        == expected
    )


def test_package_cpu_filters_only_see_cpu_architecture_targets(
    current_api: Api, tree: dict[str, dict[str, Any]]
) -> None:
    api = current_api
    other = api.version(api.package(tree["catalog"]))
    api.create(
        "target",
        version=other["url"],
        target_type="architecture",
        target_name="ppc64le",
        target_subtype="power9",
    )
    scope = {"catalog_uuid": tree["catalog"]["uuid"]}
    assert labels(api, tree, "package", cpu_family="x86_64", **scope) == {"package"}
    assert labels(api, tree, "package", cpu_family="ppc64le", **scope) == set()
    assert labels(api, tree, "version", cpu_microarchitecture="power9", **scope) == set()


def test_ordering_by_the_new_names(current_api: Api, tree: dict[str, dict[str, Any]]) -> None:
    items = current_api.items(
        "target", version_uuid=tree["version"]["uuid"], o="-target_type,target_name"
    )
    pairs = [(t["target_type"], t["target_name"]) for t in items]
    by_name = sorted(pairs, key=lambda pair: pair[1])
    assert pairs == sorted(by_name, key=lambda pair: pair[0], reverse=True)  # stable sorts
    assert pairs[0][0] == "cpu_architecture"
