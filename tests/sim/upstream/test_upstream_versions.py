"""Upstream's HTTP cases of versions: the fields read from `metadata`, and the version filters.

Ported from waldur/waldur-mastermind `src/waldur_mastermind/marketplace/tests/
test_software_catalogs.py` at commit 0687593cbd467aa78891eec1dd7b6b1a3aa8467f
(classes SoftwareVersionNewFieldsTest, SoftwareVersionToolchainFamiliesFilterTest,
SoftwareVersionExtraFiltersTest). The versions' `metadata` upstream's loaders write is written
by the fixtures' writer (see `server.py`); the expected answers are upstream's.
"""

from __future__ import annotations

import pytest

from tests.sim.upstream.server import Json, Server

METADATA = {
    "module": {
        "full_module_name": "TestPackage/1.0.0-foss-2023b",
        "module_name": "TestPackage",
        "module_version": "1.0.0-foss-2023b",
    },
    "required_modules": [
        {
            "full_module_name": "EESSI/2023.06",
            "module_name": "EESSI",
            "module_version": "2023.06",
        },
        {
            "full_module_name": "GCCcore/13.2.0",
            "module_name": "GCCcore",
            "module_version": "13.2.0",
        },
    ],
    "extensions": [
        {"type": "python", "name": "numpy", "version": "1.26.0"},
        {"type": "python", "name": "scipy", "version": "1.11.0"},
    ],
    "toolchain": {"name": "foss", "version": "2023b"},
    "toolchain_families_compatibility": ["2023b_foss"],
}


class TestSoftwareVersionNewFields:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        self.package = server.package(
            catalog, name="TestPackage", description="Test package with EESSI metadata"
        )
        self.version = server.version(self.package, version="1.0.0", metadata=METADATA)

    def nested_version(self) -> Json:
        response = self.server.get(self.server.url("package", self.package["uuid"]))
        assert response.status_code == 200
        (version,) = response.json()["versions"]
        found: Json = version
        return found

    def detail(self, version: Json) -> Json:
        response = self.server.get(self.server.url("version", version["uuid"]))
        assert response.status_code == 200
        found: Json = response.json()
        return found

    def test_nested_version_includes_module_field(self) -> None:
        module = self.nested_version()["module"]
        assert module["full_module_name"] == "TestPackage/1.0.0-foss-2023b"
        assert module["module_name"] == "TestPackage"
        assert module["module_version"] == "1.0.0-foss-2023b"

    def test_nested_version_includes_required_modules_field(self) -> None:
        required = self.nested_version()["required_modules"]
        assert len(required) == 2
        eessi = next(rm for rm in required if rm.get("module_name") == "EESSI")
        assert eessi["full_module_name"] == "EESSI/2023.06"
        assert eessi["module_version"] == "2023.06"

    def test_nested_version_includes_extensions_field(self) -> None:
        extensions = self.nested_version()["extensions"]
        assert {ext.get("name") for ext in extensions} == {"numpy", "scipy"}

    def test_nested_version_includes_toolchain_field(self) -> None:
        assert self.nested_version()["toolchain"] == {"name": "foss", "version": "2023b"}

    def test_nested_version_includes_toolchain_families_compatibility(self) -> None:
        assert "2023b_foss" in self.nested_version()["toolchain_families_compatibility"]

    def test_version_detail_includes_new_fields(self) -> None:
        data = self.detail(self.version)
        for name in (
            "module",
            "required_modules",
            "extensions",
            "toolchain",
            "toolchain_families_compatibility",
        ):
            assert name in data
        assert data["module"]["module_name"] == "TestPackage"
        assert len(data["extensions"]) == 2

    def test_empty_extensions_field(self) -> None:
        metadata = {"module": {}, "extensions": [], "required_modules": []}
        version = self.server.version(self.package, version="2.0.0", metadata=metadata)
        assert self.detail(version)["extensions"] == []

    def test_missing_metadata_fields_return_empty(self) -> None:
        version = self.server.version(self.package, version="3.0.0", metadata={})
        data = self.detail(version)
        assert data["module"] == {}
        assert data["required_modules"] == []
        assert data["extensions"] == []
        assert data["toolchain"] == {}
        assert data["toolchain_families_compatibility"] == []


class TestSoftwareVersionToolchainFamiliesFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        package = server.package(catalog, name="TestPackage")
        for version, families in (
            ("1.0.0", ["foss_2022b"]),
            ("2.0.0", ["intel_2023a", "foss_2023a"]),
            ("3.0.0", []),
        ):
            metadata = {"toolchain_families_compatibility": families}
            server.version(package, version=version, metadata=metadata)

    def versions(self, query: str) -> set[str]:
        return {v["version"] for v in self.server.listed("version", query)}

    def test_filter_by_toolchain_family(self) -> None:
        assert self.versions("toolchain_families_compatibility=foss_2022b") == {"1.0.0"}

    def test_filter_by_toolchain_family_with_multiple_compat(self) -> None:
        assert self.versions("toolchain_families_compatibility=intel_2023a") == {"2.0.0"}

    def test_filter_by_nonexistent_toolchain_family(self) -> None:
        assert self.versions("toolchain_families_compatibility=nonexistent") == set()


class TestSoftwareVersionExtraFilters:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06", catalog_type="binary_runtime")
        source_catalog = server.catalog(
            name="Spack", version="0.21.0", catalog_type="source_package"
        )
        package = server.package(catalog, name="TestPkg")
        source_package = server.package(source_catalog, name="SourcePkg")
        server.version(
            package,
            version="1.0.0",
            release_date="2023-06-01",
            metadata={"toolchain": {"name": "foss", "version": "2023b"}},
        )
        server.version(
            package,
            version="1.0.0-beta",
            release_date="2024-01-15",
            metadata={"toolchain": {"name": "gfbf", "version": "2022b"}},
        )
        server.version(source_package, version="2.0.0", release_date="2024-06-01", metadata={})

    def versions(self, query: str) -> set[str]:
        return {v["version"] for v in self.server.listed("version", query)}

    def test_filter_by_version_exact(self) -> None:
        assert self.versions("version_exact=1.0.0") == {"1.0.0"}

    def test_filter_by_version_icontains(self) -> None:
        assert self.versions("version=1.0.0") == {"1.0.0", "1.0.0-beta"}

    def test_filter_by_toolchain_name(self) -> None:
        assert self.versions("toolchain_name=foss") == {"1.0.0"}

    def test_filter_by_toolchain_version(self) -> None:
        assert self.versions("toolchain_version=2022b") == {"1.0.0-beta"}

    def test_filter_by_release_date_range(self) -> None:
        query = "release_date_after=2024-01-01&release_date_before=2024-02-01"
        assert self.versions(query) == {"1.0.0-beta"}

    def test_filter_by_release_date_after_only(self) -> None:
        assert self.versions("release_date_after=2024-01-01") == {"1.0.0-beta", "2.0.0"}

    def test_filter_by_catalog_type(self) -> None:
        assert self.versions("catalog_type=source_package") == {"2.0.0"}
