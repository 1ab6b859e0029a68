"""Objects: create / retrieve / PUT / PATCH / DELETE, response shapes, defaults, cascade, URLs."""

from __future__ import annotations

import uuid

import pytest

from tests.sim.helpers import MODELS, REQUIRED, SEGMENTS, TIMESTAMP_RE, UUID_RE, Api, unique

CATALOG_KEYS = {
    "url",
    "uuid",
    "created",
    "modified",
    "name",
    "version",
    "catalog_type",
    "catalog_type_display",
    "source_url",
    "description",
    "metadata",
    "auto_update_enabled",
    "package_count",
    "version_count",
    "target_count",
}
PACKAGE_KEYS = {
    "url",
    "uuid",
    "created",
    "modified",
    "catalog",
    "catalog_name",
    "catalog_version",
    "name",
    "description",
    "homepage",
    "is_extension",
    "version_count",
    "versions",
}
VERSION_KEYS = {
    "url",
    "uuid",
    "created",
    "modified",
    "version",
    "module_version",
    "release_date",
    "package_name",
}
TARGET_KEYS = {"url", "uuid", "created", "modified", "cpu_family", "cpu_microarchitecture", "path"}


def test_catalog_create_answers_201_with_location_and_defaults(api: Api) -> None:
    name = unique("EESSI")
    response = api.post("catalog", {"name": name, "version": "2023.06"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == CATALOG_KEYS
    assert response.headers["Location"] == body["url"]
    assert body["url"] == api.detail("catalog", body["uuid"])
    assert UUID_RE.match(body["uuid"])
    assert TIMESTAMP_RE.match(body["created"]) and TIMESTAMP_RE.match(body["modified"])
    assert body | {"url": None, "uuid": None, "created": None, "modified": None} == {
        "url": None,
        "uuid": None,
        "created": None,
        "modified": None,
        "name": name,
        "version": "2023.06",
        "catalog_type": "binary_runtime",
        "catalog_type_display": "Binary Runtime (EESSI)",
        "source_url": "",
        "description": "",
        "metadata": {},
        "auto_update_enabled": True,
        "package_count": 0,
        "version_count": 0,
        "target_count": 0,
    }


def test_every_writable_catalog_field_is_stored(api: Api) -> None:
    fields = {
        "name": unique("Spack"),
        "version": "v1.0",
        "catalog_type": "source_package",
        "source_url": "https://github.com/spack/spack-packages",
        "description": "Spack's built-in packages",
        "metadata": {"commit": "1e8cf05", "tags": ["a", "b"], "nested": {"n": 1}},
        "auto_update_enabled": False,
    }
    created = api.create("catalog", **fields)
    assert {key: created[key] for key in fields} == fields
    assert created["catalog_type_display"] == "Source Package (Spack)"
    assert api.get(created["url"]) == created


def test_package_version_and_target_shapes_and_defaults(api: Api) -> None:
    catalog = api.catalog(version="2023.06")
    package = api.package(catalog, name="GROMACS")
    assert set(package) == PACKAGE_KEYS
    assert package["catalog"] == catalog["url"]
    assert (package["catalog_name"], package["catalog_version"]) == (catalog["name"], "2023.06")
    assert (package["description"], package["homepage"], package["is_extension"]) == (
        "",
        None,
        False,
    )
    assert (package["version_count"], package["versions"]) == (0, [])

    version = api.version(package, version="2024.4")
    assert set(version) == VERSION_KEYS  # no parent link
    assert (version["module_version"], version["release_date"]) == ("", None)
    assert version["package_name"] == "GROMACS"

    target = api.target(version, cpu_family="x86_64", cpu_microarchitecture="amd/zen3")
    assert set(target) == TARGET_KEYS  # no parent link either
    assert (target["cpu_family"], target["cpu_microarchitecture"], target["path"]) == (
        "x86_64",
        "amd/zen3",
        "",
    )


def test_packages_embed_versions_and_targets_in_detail_and_list(api: Api) -> None:
    catalog = api.catalog()
    package = api.package(catalog, homepage="https://www.gromacs.org", is_extension=True)
    new = api.version(
        package, version="2024.4", module_version="2024.4-foss-2023b", release_date="2024-05-02"
    )
    old = api.version(package, version="2023.3", module_version="2023.3-foss-2023a")
    zen3 = api.target(new, cpu_microarchitecture="amd/zen3", path="/cvmfs/x86_64/amd/zen3")
    neo = api.target(new, cpu_family="aarch64", cpu_microarchitecture="neoverse_v1")
    expected = [  # versions in natural-key order too, whatever the creation order
        {
            "uuid": old["uuid"],
            "version": "2023.3",
            "module_version": "2023.3-foss-2023a",
            "release_date": None,
            "targets": [],
        },
        {
            "uuid": new["uuid"],
            "version": "2024.4",
            "module_version": "2024.4-foss-2023b",
            "release_date": "2024-05-02",
            "targets": [  # in natural-key order: aarch64 before x86_64
                {
                    "uuid": neo["uuid"],
                    "cpu_family": "aarch64",
                    "cpu_microarchitecture": "neoverse_v1",
                    "path": "",
                },
                {
                    "uuid": zen3["uuid"],
                    "cpu_family": "x86_64",
                    "cpu_microarchitecture": "amd/zen3",
                    "path": "/cvmfs/x86_64/amd/zen3",
                },
            ],
        },
    ]
    detail = api.get(package["url"])
    assert detail["versions"] == expected
    assert detail["version_count"] == 2
    (listed,) = api.items("package", catalog_uuid=catalog["uuid"])
    assert listed == detail


def test_catalog_counts_its_whole_tree(api: Api) -> None:
    catalog = api.catalog()
    for name in ("A", "B"):
        package = api.package(catalog, name=name)
        version = api.version(package)
        for micro in ("generic", "amd/zen2", "amd/zen3"):
            api.target(version, cpu_microarchitecture=micro)
    body = api.get(catalog["url"])
    assert (body["package_count"], body["version_count"], body["target_count"]) == (2, 2, 6)


@pytest.mark.parametrize("kind", list(SEGMENTS))
def test_unknown_uuid_is_404_naming_the_model(api: Api, kind: str) -> None:
    response = api.request("GET", api.detail(kind, uuid.uuid4().hex), None)
    assert response.status_code == 404
    assert response.json() == {"detail": f"No {MODELS[kind]} matches the given query."}


def test_malformed_uuid_in_a_detail_url_is_404(api: Api) -> None:
    response = api.request("GET", api.detail("catalog", "not-a-uuid"), None)
    assert (response.status_code, response.json()) == (404, {"detail": "Not found."})


def test_hyphenated_uuid_is_accepted_in_urls(api: Api) -> None:
    catalog = api.catalog()
    hyphenated = str(uuid.UUID(hex=catalog["uuid"]))
    assert api.get(api.detail("catalog", hyphenated)) == api.get(catalog["url"])


def test_post_on_a_detail_url_is_405(api: Api) -> None:
    catalog = api.catalog()
    response = api.request("POST", catalog["url"], json={"name": "x"})
    assert response.status_code == 405
    assert response.json() == {"detail": 'Method "POST" not allowed.'}
    assert response.headers["Allow"] == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_collection_rejects_detail_methods_with_405(api: Api, method: str) -> None:
    response = api.request(method, api.collection("catalog"), json={})
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method}" not allowed.'}
    assert response.headers["Allow"] == "GET, POST, HEAD, OPTIONS"


def test_put_requires_required_fields_and_keeps_fields_not_given(api: Api) -> None:
    catalog = api.catalog(description="old", metadata={"keep": True})
    response = api.request("PUT", catalog["url"], json={"description": "new"})
    assert response.status_code == 400
    assert response.json() == {"name": [REQUIRED], "version": [REQUIRED]}
    assert api.get(catalog["url"]) == catalog

    body = {"name": catalog["name"], "version": "2.0", "description": "new"}
    response = api.request("PUT", catalog["url"], json=body)
    assert response.status_code == 200
    updated = response.json()
    assert (updated["version"], updated["description"]) == ("2.0", "new")
    assert updated["metadata"] == {"keep": True}
    assert updated["created"] == catalog["created"]
    assert updated["modified"] > catalog["modified"]


def test_patch_changes_only_the_fields_given(api: Api) -> None:
    catalog = api.catalog(description="old", auto_update_enabled=True)
    response = api.request("PATCH", catalog["url"], json={"auto_update_enabled": False})
    assert response.status_code == 200
    updated = response.json()
    changed = {"auto_update_enabled": False, "modified": updated["modified"]}
    assert updated == catalog | changed
    assert updated["modified"] > catalog["modified"]
    assert api.get(catalog["url"]) == updated


def test_patch_can_move_a_package_to_another_catalog(api: Api) -> None:
    first, second = api.catalog(), api.catalog()
    package = api.package(first)
    response = api.request("PATCH", package["url"], json={"catalog": second["url"]})
    assert response.status_code == 200
    assert response.json()["catalog"] == second["url"]
    assert api.count("package", catalog_uuid=first["uuid"]) == 0
    assert api.count("package", catalog_uuid=second["uuid"]) == 1


def test_delete_answers_204_without_a_body(api: Api) -> None:
    catalog = api.catalog()
    response = api.request("DELETE", catalog["url"])
    assert (response.status_code, response.content) == (204, b"")
    assert "Content-Type" not in response.headers
    assert api.request("GET", catalog["url"], None).status_code == 404


def test_deleting_a_catalog_deletes_its_whole_subtree(api: Api) -> None:
    catalog = api.catalog()
    package = api.package(catalog)
    version = api.version(package)
    target = api.target(version)
    other = api.package(api.catalog())
    assert api.request("DELETE", catalog["url"]).status_code == 204
    for obj in (package, version, target):
        assert api.request("GET", obj["url"], None).status_code == 404
    assert api.count("target", catalog_uuid=catalog["uuid"]) == 0
    assert api.request("GET", other["url"], None).status_code == 200


def test_deleting_a_version_deletes_its_targets_only(api: Api) -> None:
    package = api.package(api.catalog())
    version, kept = api.version(package, version="1"), api.version(package, version="2")
    target, kept_target = api.target(version), api.target(kept)
    assert api.request("DELETE", version["url"]).status_code == 204
    assert api.request("GET", target["url"], None).status_code == 404
    assert api.get(kept_target["url"]) == kept_target
    assert [v["uuid"] for v in api.get(package["url"])["versions"]] == [kept["uuid"]]


def test_unknown_and_read_only_body_fields_are_ignored(api: Api) -> None:
    name = unique()
    response = api.post(
        "catalog",
        {"name": name, "version": "1", "foo": 1, "uuid": "0" * 32, "package_count": 99},
    )
    assert response.status_code == 201
    body = response.json()
    assert "foo" not in body
    assert body["uuid"] != "0" * 32
    assert body["package_count"] == 0


def test_strings_are_trimmed_and_numbers_taken_as_strings(api: Api) -> None:
    name = unique()
    body = api.create("catalog", name=f"  {name}  ", version=2023)
    assert (body["name"], body["version"]) == (name, "2023")


@pytest.mark.parametrize(
    ("given", "stored"),
    [("2024-05-02", "2024-05-02"), ("2024-5-2", "2024-05-02"), ("20240502", "2024-05-02")],
)
def test_release_date_accepts_iso_8601_forms(api: Api, given: str, stored: str) -> None:
    version = api.version(api.package(api.catalog()), release_date=given)
    assert version["release_date"] == stored


def test_hyperlinks_resolve_by_path_whatever_the_host(api: Api) -> None:
    catalog = api.catalog()
    path = f"/api/{SEGMENTS['catalog']}/{catalog['uuid']}/"
    for link in (path, f"https://elsewhere.example:9443{path}"):
        package = api.create("package", catalog=link, name=unique())
        assert package["catalog"] == catalog["url"]


def test_urls_are_built_from_the_host_header(api: Api) -> None:
    catalog = api.catalog()
    headers = {"Host": "waldur.example.org:8443"}
    response = api.request(
        "POST",
        api.collection("package"),
        json={"catalog": catalog["url"], "name": "X"},
        headers=headers,
    )
    assert response.status_code == 201
    base = "http://waldur.example.org:8443/api/"
    body = response.json()
    assert body["url"].startswith(base + SEGMENTS["package"])
    assert response.headers["Location"] == body["url"]
    assert body["catalog"] == f"{base}{SEGMENTS['catalog']}/{catalog['uuid']}/"
    listing = api.request("GET", api.collection("package"), None, headers=headers)
    assert listing.headers["Link"].startswith(f"<{base}{SEGMENTS['package']}/>")


def test_a_malformed_host_header_is_a_400(api: Api) -> None:
    response = api.request("GET", api.collection("catalog"), None, headers={"Host": "bad host!"})
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("text/html")


def test_api_root_lists_the_collections(api: Api) -> None:
    body = api.get(api.sim.api_url)
    assert body == {segment: f"{api.sim.api_url}{segment}/" for segment in SEGMENTS.values()}


def test_unknown_paths_are_django_404_pages(api: Api) -> None:
    response = api.request("GET", f"{api.sim.api_url}no-such-thing/", None)
    assert response.status_code == 404
    assert response.headers["Content-Type"].startswith("text/html")
    assert "Not Found" in response.text


def test_a_missing_trailing_slash_is_redirected(api: Api) -> None:
    url = api.collection("catalog").rstrip("/")
    response = api.request("GET", url, None, params={"page_size": 1})
    assert response.status_code == 301
    assert response.headers["Location"] == f"/api/{SEGMENTS['catalog']}/?page_size=1"


def test_options_describes_the_view(api: Api) -> None:
    response = api.request("OPTIONS", api.collection("package"), "user")  # see test_options.py
    assert response.status_code == 200
    assert response.json()["name"] == "Software Package List"
