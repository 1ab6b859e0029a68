"""Upstream's HTTP cases of the package filters that read what its loaders store.

Ported from waldur/waldur-mastermind `src/waldur_mastermind/marketplace/tests/
test_software_catalogs.py` at commit 0687593cbd467aa78891eec1dd7b6b1a3aa8467f
(classes SoftwarePackageExtensionFilterTest, SoftwarePackageIsExtensionFilterTest,
SoftwarePackageToolchainFamiliesFilterTest, SoftwarePackageCategoryFilterTest,
SoftwarePackageParentFilterTest, SoftwarePackageToolchainNameFilterTest,
SoftwarePackageMultipleParentsTest). Categories, licenses, parents and version metadata are
written by the fixtures' writer (see `server.py`); the expected answers are upstream's.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.upstream.server import Server


def names(server: Server, query: str = "") -> set[str]:
    return {pkg["name"] for pkg in server.listed("package", query)}


def package_with_version(
    server: Server, catalog: dict[str, Any], name: str, **version: Any
) -> None:
    server.version(server.package(catalog, name=name), **version)


class TestSoftwarePackageExtensionFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        python = [
            {"type": "python", "name": "numpy", "version": "1.26.0"},
            {"type": "python", "name": "scipy", "version": "1.11.0"},
        ]
        component = [{"type": "component", "name": "cuda-bindings", "version": "12.0"}]
        for name, version, extensions in (
            ("PackageWithPython", "1.0.0", python),
            ("PackageWithComponent", "2.0.0", component),
            ("PackageNoExtensions", "1.0.0", []),
        ):
            metadata = {"extensions": extensions}
            package_with_version(server, catalog, name, version=version, metadata=metadata)

    def test_filter_by_extension_type_python(self) -> None:
        assert names(self.server, "extension_type=python") == {"PackageWithPython"}

    def test_filter_by_extension_type_component(self) -> None:
        assert names(self.server, "extension_type=component") == {"PackageWithComponent"}

    def test_filter_by_extension_name(self) -> None:
        assert names(self.server, "extension_name=numpy") == {"PackageWithPython"}

    def test_filter_by_extension_name_cuda(self) -> None:
        assert names(self.server, "extension_name=cuda-bindings") == {"PackageWithComponent"}

    def test_filter_by_nonexistent_extension_type(self) -> None:
        assert names(self.server, "extension_type=nonexistent") == set()

    def test_filter_by_nonexistent_extension_name(self) -> None:
        assert names(self.server, "extension_name=nonexistent") == set()


class TestSoftwarePackageIsExtensionFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        parent = server.package(catalog, name="ParentPackage", is_extension=False)
        server.package(catalog, name="ExtensionPackage", is_extension=True, parents=[parent])

    def test_filter_extensions_only(self) -> None:
        assert names(self.server, "is_extension=true") == {"ExtensionPackage"}

    def test_filter_non_extensions_only(self) -> None:
        assert names(self.server, "is_extension=false") == {"ParentPackage"}

    def test_no_filter_returns_all(self) -> None:
        assert names(self.server) == {"ParentPackage", "ExtensionPackage"}


class TestSoftwarePackageToolchainFamiliesFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        for name, version, families in (
            ("PackageFoss", "1.0.0", ["foss_2022b"]),
            ("PackageIntel", "2.0.0", ["intel_2023a", "foss_2023a"]),
            ("PackageNoToolchain", "1.0.0", []),
        ):
            metadata = {"toolchain_families_compatibility": families}
            package_with_version(server, catalog, name, version=version, metadata=metadata)

    def test_filter_by_toolchain_family(self) -> None:
        query = "toolchain_families_compatibility=foss_2022b"
        assert names(self.server, query) == {"PackageFoss"}

    def test_filter_by_toolchain_family_multiple_matches(self) -> None:
        query = "toolchain_families_compatibility=foss_2023a"
        assert names(self.server, query) == {"PackageIntel"}

    def test_filter_by_nonexistent_toolchain_family(self) -> None:
        assert names(self.server, "toolchain_families_compatibility=nonexistent") == set()


class TestSoftwarePackageCategoryFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06", catalog_type="binary_runtime")
        for name, categories, licenses in (
            ("GROMACS", ["bio", "chemistry"], ["GPL-3.0"]),
            ("OpenMPI", ["hpc", "mpi"], ["BSD-3-Clause"]),
            ("GenericTool", [], []),
        ):
            server.package(catalog, name=name, categories=categories, licenses=licenses)

    def test_filter_by_category(self) -> None:
        assert names(self.server, "category=bio") == {"GROMACS"}

    def test_filter_by_category_shared(self) -> None:
        assert names(self.server, "category=hpc") == {"OpenMPI"}

    def test_filter_by_nonexistent_category(self) -> None:
        assert names(self.server, "category=nonexistent") == set()

    def test_filter_by_license(self) -> None:
        assert names(self.server, "license=GPL-3.0") == {"GROMACS"}

    def test_filter_by_license_bsd(self) -> None:
        assert names(self.server, "license=BSD-3-Clause") == {"OpenMPI"}

    def test_filter_by_nonexistent_license(self) -> None:
        assert names(self.server, "license=nonexistent") == set()


class TestSoftwarePackageParentFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06", catalog_type="binary_runtime")
        source_catalog = server.catalog(
            name="Spack", version="0.21.0", catalog_type="source_package"
        )
        self.parent = server.package(catalog, name="Python", is_extension=False)
        for name in ("numpy", "scipy"):
            server.package(catalog, name=name, is_extension=True, parents=[self.parent])
        server.package(source_catalog, name="cmake", is_extension=False)

    def test_filter_by_parent_software_uuid(self) -> None:
        query = f"parent_software_uuid={self.parent['uuid']}"
        assert names(self.server, query) == {"numpy", "scipy"}

    def test_filter_by_catalog_type(self) -> None:
        assert names(self.server, "catalog_type=source_package") == {"cmake"}


class TestSoftwarePackageToolchainNameFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        for name, version, metadata in (
            ("FossPackage", "1.0.0", {"toolchain": {"name": "foss", "version": "2023b"}}),
            ("GfbfPackage", "2.0.0", {"toolchain": {"name": "gfbf", "version": "2022b"}}),
            ("NoToolchainPackage", "1.0.0", {}),
        ):
            package_with_version(server, catalog, name, version=version, metadata=metadata)

    def test_filter_by_toolchain_name(self) -> None:
        assert names(self.server, "toolchain_name=foss") == {"FossPackage"}

    def test_filter_by_toolchain_name_gfbf(self) -> None:
        assert names(self.server, "toolchain_name=gfbf") == {"GfbfPackage"}

    def test_filter_by_nonexistent_toolchain_name(self) -> None:
        assert names(self.server, "toolchain_name=nonexistent") == set()


class TestSoftwarePackageMultipleParents:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        self.gtk3 = server.package(catalog, name="GTK3", is_extension=False)
        self.gtk4 = server.package(catalog, name="GTK4", is_extension=False)
        self.extension = server.package(
            catalog, name="adwaita-icon-theme", is_extension=True, parents=[self.gtk3, self.gtk4]
        )

    def test_filter_by_either_parent_returns_extension(self) -> None:
        for parent in (self.gtk3, self.gtk4):
            query = f"parent_software_uuid={parent['uuid']}"
            assert "adwaita-icon-theme" in names(self.server, query)

    def test_api_response_contains_parent_list(self) -> None:
        response = self.server.get(self.server.url("package", self.extension["uuid"]))
        assert response.status_code == 200
        parents = response.json()["parent_softwares"]
        assert len(parents) == 2
        assert {p["name"] for p in parents} == {"GTK3", "GTK4"}

    def test_both_parents_show_extension_count(self) -> None:
        for parent in (self.gtk3, self.gtk4):
            response = self.server.get(self.server.url("package", parent["uuid"]))
            assert response.json()["extension_count"] == 1
