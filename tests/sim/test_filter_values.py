"""How the filters read their values (django-filter's rules), beyond upstream's own cases, and
what the loader fields accept (tests/sim/upstream/ ports upstream's cases themselves)."""

from __future__ import annotations

from typing import Any

from tests.sim.helpers import Api

INVALID_CHOICE = "Select a valid choice. nope is not one of the available choices."


def current_target(api: Api, version: dict[str, Any], **fields: Any) -> dict[str, Any]:
    body = {"target_type": "cpu_architecture", "target_name": "x86_64", **fields}
    return api.create("target", version=version["url"], **body)


def scoped(api: Api, kind: str, catalog: dict[str, Any], **params: Any) -> list[str]:
    """Names (packages) or versions (versions) of one catalog's objects a filter lists."""
    field = "name" if kind == "package" else "version"
    rows = api.items(kind, catalog_uuid=catalog["uuid"], **params)
    return sorted(row[field] for row in rows)


def test_an_unknown_catalog_type_is_400_on_packages_and_versions(current_api: Api) -> None:
    for kind in ("package", "version"):
        response = current_api.list(kind, catalog_type="nope")
        assert (response.status_code, response.json()) == (400, {"catalog_type": [INVALID_CHOICE]})


def test_release_dates_are_read_as_django_reads_a_date(current_api: Api) -> None:
    catalog = current_api.catalog()
    package = current_api.package(catalog)
    for number, date in (("1", "2024-01-15"), ("2", "2024-03-01"), ("3", None)):
        current_api.version(package, version=number, release_date=date)
    assert scoped(current_api, "version", catalog, release_date_after="01/31/2024") == ["2"]
    assert scoped(current_api, "version", catalog, release_date_before=" Feb 1 2024 ") == ["1"]
    response = current_api.list("version", release_date_after="x", release_date_before="y")
    assert (response.status_code, response.json()) == (
        400,
        {"release_date": ["Enter a valid date."]},
    )


def test_text_values_are_stripped_and_blank_ones_ignored(current_api: Api) -> None:
    catalog = current_api.catalog()
    for name in ("Alpha", "Beta"):
        current_api.package(catalog, name=name)
    assert scoped(current_api, "package", catalog, name_exact="  alpha ") == ["Alpha"]
    assert scoped(current_api, "package", catalog, query="   ") == ["Alpha", "Beta"]


def test_an_empty_cpu_value_counts_in_the_current_dialect(current_api: Api, api: Api) -> None:
    """Upstream's LooseMultipleChoiceFilter passes `[""]` on; the legacy profile drops it."""
    for server, target in ((current_api, current_target), (api, None)):
        catalog = server.catalog()
        version = server.version(server.package(catalog, name="Alpha"))
        if target is not None:
            target(server, version)
        else:
            server.target(version)
        expected: list[str] = [] if server is current_api else ["Alpha"]
        assert scoped(server, "package", catalog, cpu_family="") == expected


def test_booleans_ignore_junk_and_the_legacy_dialect_ignores_current_filters(
    current_api: Api, api: Api
) -> None:
    catalog = current_api.catalog()
    gpu = current_api.version(current_api.package(catalog, name="Gpu"))
    current_target(current_api, gpu, gpu_architectures=["nvidia/cc90"])
    current_api.package(catalog, name="Plain")
    assert scoped(current_api, "package", catalog, has_gpu="maybe") == ["Gpu", "Plain"]
    assert scoped(current_api, "package", catalog, has_gpu="FALSE") == ["Plain"]
    legacy = api.catalog()
    api.package(legacy, name="Old")
    for params in ({"has_gpu": "true"}, {"category": "bio"}, {"toolchain_name": "foss"}):
        assert scoped(api, "package", legacy, **params) == ["Old"]
    assert scoped(api, "package", legacy, query="ol") == ["Old"]


def test_json_filters_match_only_the_shapes_upstream_matches(current_api: Api) -> None:
    """Containment needs an array holding the value; odd metadata never fails the listing."""
    catalog = current_api.catalog()
    for name, metadata in (
        ("ListOfObjects", {"extensions": [{"type": "python", "name": "numpy"}]}),
        ("ObjectNotList", {"extensions": {"x": {"type": "python"}}}),
        ("Strings", {"extensions": ["python"], "toolchain": "foss"}),
        ("NotAnObject", ["python"]),
        ("Families", {"toolchain_families_compatibility": "foss_2023b"}),
    ):
        current_api.version(current_api.package(catalog, name=name), metadata=metadata)
    assert scoped(current_api, "package", catalog, extension_type="python") == ["ListOfObjects"]
    assert scoped(current_api, "package", catalog, extension_type="PYTHON") == []
    assert scoped(current_api, "package", catalog, toolchain_name="foss") == []
    families = {"toolchain_families_compatibility": "foss_2023b"}
    assert scoped(current_api, "package", catalog, **families) == []


def test_parents_are_hyperlinks_and_leave_with_the_parent(current_api: Api) -> None:
    catalog = current_api.catalog()
    parent = current_api.package(catalog, name="Parent")
    child = current_api.package(catalog, name="Child", parent_softwares=[parent["url"]])
    assert [p["uuid"] for p in child["parent_softwares"]] == [parent["uuid"]]
    assert current_api.get(parent["url"])["extensions"][0]["name"] == "Child"
    for value, message in (
        (parent["url"], 'Expected a list of items but got type "str".'),
        (
            [parent["url"].replace(parent["uuid"], "0" * 32)],
            "Invalid hyperlink - Object does not exist.",
        ),
    ):
        response = current_api.request("PATCH", child["url"], json={"parent_softwares": value})
        assert (response.status_code, response.json()) == (400, {"parent_softwares": [message]})
    current_api.version(parent, version="2.0")
    assert current_api.get(child["url"])["parent_softwares"][0]["versions"] == ["2.0"]
    assert current_api.request("DELETE", parent["url"]).status_code == 204
    assert current_api.get(child["url"])["parent_softwares"] == []


def test_catalogs_answer_only_the_fields_asked_for(current_api: Api, api: Api) -> None:
    """Upstream's catalog view restricts its serializer to the `field` parameters
    (RestrictedSerializerMixin), in the serializer's order; the legacy profile does not."""
    catalog = current_api.catalog()
    params = {"field": ["name", "uuid"], "name": catalog["name"]}
    response = current_api.request("GET", current_api.collection("catalog"), params=params)
    assert response.json() == [{"uuid": catalog["uuid"], "name": catalog["name"]}]
    detail = current_api.request("GET", catalog["url"], params={"field": "version"})
    assert detail.json() == {"version": catalog["version"]}
    legacy = api.catalog()
    assert "url" in api.request("GET", legacy["url"], params={"field": "version"}).json()
