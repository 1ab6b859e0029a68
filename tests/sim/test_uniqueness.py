"""Natural keys are unique, case-sensitively, also under concurrent writes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx

from tests.sim.helpers import Api, unique


def assert_duplicate(response: httpx.Response, fields: str) -> None:
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [f"The fields {fields} must make a unique set."]}


def test_catalog_key_is_name_version_and_type(api: Api) -> None:
    name = unique("EESSI")
    api.catalog(name=name, version="2023.06")
    response = api.post("catalog", {"name": name, "version": "2023.06", "description": "again"})
    assert_duplicate(response, "name, version, catalog_type")
    assert api.count("catalog", name=name) == 1
    api.catalog(name=name, version="2023.06", catalog_type="source_package")
    api.catalog(name=name, version="2025.06")
    assert api.count("catalog", name=name) == 3


def test_package_name_is_unique_per_catalog_and_case_sensitive(api: Api) -> None:
    catalog, other = api.catalog(), api.catalog()
    api.package(catalog, name="GROMACS")
    assert_duplicate(
        api.post("package", {"catalog": catalog["url"], "name": "GROMACS"}), "catalog, name"
    )
    api.package(catalog, name="gromacs")
    api.package(other, name="GROMACS")
    assert api.count("package", catalog_uuid=catalog["uuid"]) == 2


def test_version_key_includes_module_version(api: Api) -> None:
    package = api.package(api.catalog())
    api.version(package, version="2024.4", module_version="2024.4-foss-2023b")
    body = {"package": package["url"], "version": "2024.4", "module_version": "2024.4-foss-2023b"}
    assert_duplicate(api.post("version", body), "package, version, module_version")
    api.version(package, version="2024.4", module_version="2024.4-foss-2024a")
    api.version(package, version="2024.4")  # module_version ""
    assert_duplicate(
        api.post("version", {"package": package["url"], "version": "2024.4"}),
        "package, version, module_version",
    )


def test_target_key_is_version_family_and_microarchitecture(api: Api) -> None:
    version = api.version(api.package(api.catalog()))
    api.target(version, cpu_family="x86_64", cpu_microarchitecture="amd/zen3", path="/a")
    body = {
        "version": version["url"],
        "cpu_family": "x86_64",
        "cpu_microarchitecture": "amd/zen3",
        "path": "/b",
    }
    assert_duplicate(api.post("target", body), "version, cpu_family, cpu_microarchitecture")
    api.target(version, cpu_family="aarch64", cpu_microarchitecture="amd/zen3")


def test_patch_onto_an_existing_key_is_refused_and_changes_nothing(api: Api) -> None:
    catalog = api.catalog()
    api.package(catalog, name="A")
    b = api.package(catalog, name="B")
    response = api.request("PATCH", b["url"], json={"name": "A", "description": "changed"})
    assert_duplicate(response, "catalog, name")
    assert api.get(b["url"]) == b


def test_patch_keeping_the_own_key_is_fine(api: Api) -> None:
    package = api.package(api.catalog(), name="A")
    response = api.request("PATCH", package["url"], json={"name": "A", "description": "x"})
    assert response.status_code == 200
    assert response.json()["description"] == "x"


def test_concurrent_creates_of_one_key_give_exactly_one_201(api: Api) -> None:
    body = {"name": unique("race"), "version": "1"}
    clients = 16
    barrier = threading.Barrier(clients)

    def create(_: int) -> httpx.Response:
        with httpx.Client(timeout=30) as client:
            barrier.wait()
            return client.post(api.collection("catalog"), json=body, headers=api.auth("staff"))

    with ThreadPoolExecutor(clients) as pool:
        responses = list(pool.map(create, range(clients)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [400] * (clients - 1)
    for response in responses:
        if response.status_code == 400:
            assert_duplicate(response, "name, version, catalog_type")
    assert api.count("catalog", name=body["name"]) == 1


def test_concurrent_distinct_creates_are_neither_lost_nor_doubled(api: Api) -> None:
    version = api.version(api.package(api.catalog()))
    clients, each = 8, 15

    def create(worker: int) -> list[int]:
        with httpx.Client(timeout=30) as client:
            return [
                client.post(
                    api.collection("target"),
                    json={
                        "version": version["url"],
                        "cpu_family": "x86_64",
                        "cpu_microarchitecture": f"m{worker}-{i}",
                    },
                    headers=api.auth("staff"),
                ).status_code
                for i in range(each)
            ]

    with ThreadPoolExecutor(clients) as pool:
        statuses = [s for batch in pool.map(create, range(clients)) for s in batch]
    assert statuses == [201] * (clients * each)
    listed = api.items("target", version_uuid=version["uuid"])
    assert len({t["cpu_microarchitecture"] for t in listed}) == len(listed) == clients * each
