"""Upstream's HTTP cases of catalogs and packages, ported as contract tests of waldur-sim.

Ported from waldur/waldur-mastermind `src/waldur_mastermind/marketplace/tests/
test_software_catalogs.py` at commit 0687593cbd467aa78891eec1dd7b6b1a3aa8467f
(classes SoftwareCatalogViewSetTest, SoftwarePackageViewSetTest, SoftwareCatalogFilterTest).
Each class and test is named after upstream's; the expected answers are upstream's. Fixtures
are built through the API (see `server.py`); upstream's form-encoded bodies are sent as JSON.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.upstream.server import Json, Server

AUTHENTICATED = ("staff", "owner", "user")  # upstream's six users, as the sim has them
NOT_STAFF = ("owner", "user")


class TestSoftwareCatalogViewSet:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        self.catalog = server.catalog(name="EESSI", version="2023.06")
        self.url = server.url("catalog")

    @pytest.mark.parametrize("user", AUTHENTICATED)
    def test_catalog_list_visible_to_all_authenticated_users(self, user: str) -> None:
        response = self.server.get(self.url, who=user)
        assert response.status_code == 200
        assert len(response.json()) == 1

    def test_anonymous_user_can_see_catalog_list(self) -> None:
        response = self.server.get(self.url, who=None)
        assert response.status_code == 200
        assert len(response.json()) == 1

    def test_catalog_detail_includes_package_count(self) -> None:
        for _ in range(3):
            self.server.package(self.catalog)
        response = self.server.get(self.server.url("catalog", self.catalog["uuid"]))
        assert response.status_code == 200
        assert response.json()["package_count"] == 3
        assert response.json()["supports_cpu_target_restrictions"] is True

    def test_list_reports_cpu_target_restriction_support(self) -> None:
        self.server.catalog(name="Spack", version="2026.09.30", catalog_type="source_package")
        response = self.server.get(self.url)
        assert response.status_code == 200
        by_name = {row["name"]: row for row in response.json()}
        assert by_name["EESSI"]["supports_cpu_target_restrictions"] is True
        assert by_name["Spack"]["supports_cpu_target_restrictions"] is False

    def test_filter_by_name(self) -> None:
        self.server.catalog(name="Other", version="1.0")
        rows = self.server.listed("catalog", "name=EESSI")
        assert [row["name"] for row in rows] == ["EESSI"]

    def test_filter_by_version(self) -> None:
        self.server.catalog(name="EESSI", version="2024.01")
        rows = self.server.listed("catalog", "version=2023.06")
        assert [row["version"] for row in rows] == ["2023.06"]

    @pytest.mark.parametrize("user", ["staff"])
    def test_authorized_user_can_create_catalog(self, user: str) -> None:
        payload = {
            "name": "New Catalog",
            "version": "1.0",
            "source_url": "https://example.com",
            "description": "Test catalog",
        }
        response = self.server.send("POST", self.url, payload, who=user)
        assert response.status_code == 201
        assert self.server.listed("catalog", "name=New Catalog")

    @pytest.mark.parametrize("user", NOT_STAFF)
    def test_unauthorized_user_cannot_create_catalog(self, user: str) -> None:
        payload = {"name": "New Catalog", "version": "1.0"}
        response = self.server.send("POST", self.url, payload, who=user)
        assert response.status_code == 403


class TestSoftwarePackageViewSet:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        self.catalog = server.catalog(version="0.5")
        self.package = server.package(
            self.catalog, name="Python", description="Python programming language"
        )
        self.url = server.url("package")

    def names(self, query: str) -> list[str]:
        return [row["name"] for row in self.server.listed("package", query)]

    @pytest.mark.parametrize("user", AUTHENTICATED)
    def test_package_list_visible_to_all_authenticated_users(self, user: str) -> None:
        response = self.server.get(self.url, who=user)
        assert response.status_code == 200
        assert len(response.json()) == 1

    def test_package_detail_includes_version_count(self) -> None:
        self.server.version(self.package)
        self.server.version(self.package)
        response = self.server.get(self.server.url("package", self.package["uuid"]))
        assert response.status_code == 200
        assert response.json()["version_count"] == 2

    def test_filter_by_catalog(self) -> None:
        other = self.server.catalog()
        self.server.package(other, name="Other Package")
        assert self.names(f"catalog_uuid={self.catalog['uuid']}") == ["Python"]

    def test_search_by_name(self) -> None:
        self.server.package(self.catalog, name="Java")
        assert self.names("name=Python") == ["Python"]

    def test_filter_by_exact_name(self) -> None:
        for name in ("R", "Ruby", "Rust"):
            self.server.package(self.catalog, name=name)
        assert self.names("name_exact=R") == ["R"]

    def test_filter_by_offering_uuid(self) -> None:
        offering = self.server.offering()
        self.server.link(offering, self.catalog)
        assert len(self.names(f"offering_uuid={offering['uuid']}")) == 1

    @pytest.mark.parametrize("user", ["staff"])
    def test_authorized_user_can_create_package(self, user: str) -> None:
        payload = {
            "catalog": self.server.url("catalog", self.catalog["uuid"]),
            "name": "New Package",
            "description": "Test package",
            "homepage": "https://example.com",
        }
        response = self.server.send("POST", self.url, payload, who=user)
        assert response.status_code == 201

    @pytest.mark.parametrize("user", NOT_STAFF)
    def test_unauthorized_user_cannot_create_package(self, user: str) -> None:
        payload = {
            "catalog": self.server.url("catalog", self.catalog["uuid"]),
            "name": "New Package",
        }
        response = self.server.send("POST", self.url, payload, who=user)
        assert response.status_code == 403

    def test_query_filter_by_name(self) -> None:
        self.server.package(self.catalog, name="Java")
        self.server.package(self.catalog, name="Ruby")
        assert self.names("query=Python") == ["Python"]

    def test_query_filter_by_description(self) -> None:
        self.server.package(
            self.catalog, name="Java", description="Object-oriented programming language"
        )
        assert set(self.names("query=programming")) == {"Python", "Java"}

    def test_query_filter_by_version(self) -> None:
        java = self.server.package(self.catalog, name="Java")
        self.server.version(self.package, version="3.9.0")
        self.server.version(self.package, version="3.10.0")
        self.server.version(java, version="17.0.2")
        assert self.names("query=3.9") == ["Python"]

    def test_nested_versions_in_package_detail(self) -> None:
        version1 = self.server.version(self.package, version="3.9.0", release_date="2020-10-05")
        version2 = self.server.version(self.package, version="3.10.0", release_date="2021-10-04")
        self.server.target(version1, target_name="x86_64", target_subtype="generic")
        self.server.target(version1, target_name="aarch64", target_subtype="generic")
        self.server.target(version2, target_name="x86_64", target_subtype="generic")
        response = self.server.get(self.server.url("package", self.package["uuid"]))
        assert response.status_code == 200
        versions = response.json()["versions"]
        assert len(versions) == 2
        version_data = versions[0]
        assert {"uuid", "version", "release_date", "targets"} <= set(version_data)
        version1_data = next(v for v in versions if v["version"] == "3.9.0")
        assert len(version1_data["targets"]) == 2
        target_data = version_data["targets"][0]
        assert {"uuid", "target_name", "target_subtype", "location"} <= set(target_data)

    def test_filter_by_catalog_version(self) -> None:
        catalog2 = self.server.catalog(name="EESSI", version="2024.01")
        self.server.package(catalog2, name="NewPackage")
        assert self.names("catalog_version=2024") == ["NewPackage"]

    def test_ordering_by_catalog_version(self) -> None:
        catalogs = [self.server.catalog(name=f"Cat{n}", version=f"{n}.0") for n in (1, 2, 3)]
        self.server.package(catalogs[1], name="Pkg2")
        self.server.package(catalogs[0], name="Pkg1")
        self.server.package(catalogs[2], name="Pkg3")
        assert self.names("o=catalog_version")[1:] == ["Pkg1", "Pkg2", "Pkg3"]
        assert self.names("o=-catalog_version")[:3] == ["Pkg3", "Pkg2", "Pkg1"]


class TestSoftwareCatalogFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        server.catalog(
            name="EESSI",
            version="2023.06",
            catalog_type="binary_runtime",
            description="Binary runtime catalog",
            auto_update_enabled=True,
        )
        server.catalog(
            name="Spack",
            version="0.21.0",
            catalog_type="source_package",
            description="Source package manager",
            auto_update_enabled=False,
        )

    def rows(self, query: str) -> list[Json]:
        return self.server.listed("catalog", query)

    def test_filter_by_catalog_type(self) -> None:
        assert {c["name"] for c in self.rows("catalog_type=binary_runtime")} == {"EESSI"}

    def test_filter_by_description(self) -> None:
        assert {c["name"] for c in self.rows("description=source")} == {"Spack"}

    def test_filter_by_auto_update_enabled(self) -> None:
        assert {c["name"] for c in self.rows("auto_update_enabled=true")} == {"EESSI"}

    def test_order_by_catalog_type(self) -> None:
        types: list[Any] = [c["catalog_type"] for c in self.rows("o=catalog_type")]
        assert types == ["binary_runtime", "source_package"]
