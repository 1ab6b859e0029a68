"""Upstream's HTTP cases of the target filters, the CPU filters and the GPU filters.

Ported from waldur/waldur-mastermind `src/waldur_mastermind/marketplace/tests/
test_software_catalogs.py` at commit 0687593cbd467aa78891eec1dd7b6b1a3aa8467f
(classes SoftwareTargetExtraFiltersTest, SoftwareCpuTargetFilterTest,
SoftwarePackageGPUFilterTest, SoftwarePackageMixedGPUFilterTest). Targets are written by the
fixtures' writer (upstream's factory makes `cpu_architecture` targets, and so does
`Server.target`); the expected answers are upstream's. Upstream's repeated query parameters
(`{"cpu_family": [a, b]}`) are sent repeated.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.sim.upstream.server import Json, Server

GPUS = ["nvidia/cc70", "nvidia/cc80", "nvidia/cc90"]


class TestSoftwareTargetExtraFilters:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        version = server.version(server.package(catalog, name="TestPkg"), version="1.0.0")
        server.target(
            version, target_type="cpu_architecture", target_name="x86_64", target_subtype="zen2"
        )
        server.target(
            version, target_type="platform", target_name="linux", target_subtype="ubuntu22"
        )

    def column(self, query: str, name: str) -> list[Any]:
        return [t[name] for t in self.server.listed("target", query)]

    def test_filter_by_target_type(self) -> None:
        assert set(self.column("target_type=cpu_architecture", "target_name")) == {"x86_64"}

    def test_filter_by_target_name(self) -> None:
        assert set(self.column("target_name=linux", "target_type")) == {"platform"}

    def test_filter_by_target_subtype(self) -> None:
        assert set(self.column("target_subtype=zen2", "target_name")) == {"x86_64"}

    def test_filter_by_nonexistent_target_type(self) -> None:
        assert self.column("target_type=nonexistent", "uuid") == []

    def test_order_by_target_type(self) -> None:
        assert self.column("o=target_type", "target_type") == ["cpu_architecture", "platform"]

    def test_order_by_target_name(self) -> None:
        assert self.column("o=target_name", "target_name") == ["linux", "x86_64"]


class TestSoftwareCpuTargetFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2025.06")
        self.versions: dict[str, Json] = {}
        for name, family, subtype in (
            ("Zen3Pkg", "x86_64", "amd/zen3"),
            ("SapphirePkg", "x86_64", "intel/sapphirerapids"),
            ("NeoversePkg", "aarch64", "neoverse_n1"),
        ):
            version = server.version(server.package(catalog, name=name))
            server.target(version, target_name=family, target_subtype=subtype)
            self.versions[name] = version

    def package_names(self, params: dict[str, Any]) -> list[str]:
        response = self.server.get(self.server.url("package"), params)
        assert response.status_code == 200
        return sorted(row["name"] for row in response.json())

    def test_single_microarchitecture(self) -> None:
        assert self.package_names({"cpu_microarchitecture": "amd/zen3"}) == ["Zen3Pkg"]

    def test_several_microarchitectures_match_any(self) -> None:
        params = {"cpu_microarchitecture": ["amd/zen3", "intel/sapphirerapids"]}
        assert self.package_names(params) == ["SapphirePkg", "Zen3Pkg"]

    def test_several_families_match_any(self) -> None:
        params = {"cpu_family": ["x86_64", "aarch64"]}
        assert self.package_names(params) == ["NeoversePkg", "SapphirePkg", "Zen3Pkg"]

    def test_version_list_accepts_several_microarchitectures(self) -> None:
        params = {"cpu_microarchitecture": ["amd/zen3", "neoverse_n1"]}
        response = self.server.get(self.server.url("version"), params)
        assert response.status_code == 200
        assert sorted(row["uuid"] for row in response.json()) == sorted(
            self.versions[name]["uuid"] for name in ("NeoversePkg", "Zen3Pkg")
        )

    def test_target_list_matches_any_value_case_insensitively(self) -> None:
        params = {"cpu_microarchitecture": ["AMD/Zen3", "neoverse_n1"]}
        response = self.server.get(self.server.url("target"), params)
        assert response.status_code == 200
        subtypes = sorted(row["target_subtype"] for row in response.json())
        assert subtypes == ["amd/zen3", "neoverse_n1"]


class TestSoftwarePackageGPUFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        gpu_version = server.version(server.package(catalog, name="GROMACS"), version="2024.4")
        server.target(
            gpu_version,
            target_name="x86_64",
            target_subtype="generic",
            metadata={"full_arch": "x86_64/generic", "gpu_arch": {"x86_64/generic": GPUS}},
            gpu_architectures=GPUS,
        )
        cpu_version = server.version(server.package(catalog, name="OpenBLAS"), version="0.3.24")
        server.target(
            cpu_version,
            target_name="x86_64",
            target_subtype="generic",
            metadata={"full_arch": "x86_64/generic", "gpu_arch": {}},
            gpu_architectures=[],
        )

    def values(self, kind: str, query: str, name: str) -> set[Any]:
        return {row[name] for row in self.server.listed(kind, query)}

    def test_filter_packages_has_gpu_true(self) -> None:
        assert self.values("package", "has_gpu=true", "name") == {"GROMACS"}

    def test_filter_packages_has_gpu_false(self) -> None:
        assert self.values("package", "has_gpu=false", "name") == {"OpenBLAS"}

    def test_filter_packages_by_gpu_arch(self) -> None:
        assert self.values("package", "gpu_arch=nvidia/cc90", "name") == {"GROMACS"}

    def test_filter_packages_by_nonexistent_gpu_arch(self) -> None:
        assert self.values("package", "gpu_arch=amd/gfx900", "name") == set()

    def test_filter_versions_has_gpu_true(self) -> None:
        assert self.values("version", "has_gpu=true", "version") == {"2024.4"}

    def test_filter_versions_by_gpu_arch(self) -> None:
        assert self.values("version", "gpu_arch=nvidia/cc70", "version") == {"2024.4"}

    def test_filter_targets_has_gpu_true(self) -> None:
        assert len(self.server.listed("target", "has_gpu=true")) == 1

    def test_filter_targets_by_gpu_arch(self) -> None:
        assert len(self.server.listed("target", "gpu_arch=nvidia/cc80")) == 1


class TestSoftwarePackageMixedGPUFilter:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        catalog = server.catalog(name="EESSI", version="2023.06")
        self.package = server.package(catalog, name="GROMACS")
        for module_version, gpus in (
            ("2024.4-foss-2023b", []),
            ("2024.4-foss-2023b-CUDA-12.4.0", GPUS),
        ):
            version = server.version(self.package, version="2024.4", module_version=module_version)
            server.target(
                version, target_name="x86_64", target_subtype="generic", gpu_architectures=gpus
            )

    def test_filter_packages_has_gpu_true_includes_mixed_cpu_and_cuda_builds(self) -> None:
        assert "GROMACS" in {pkg["name"] for pkg in self.server.listed("package", "has_gpu=true")}

    def test_filter_versions_has_gpu_true_includes_only_cuda_build(self) -> None:
        query = f"package_uuid={self.package['uuid']}&has_gpu=true"
        module_versions = {v["module_version"] for v in self.server.listed("version", query)}
        assert module_versions == {"2024.4-foss-2023b-CUDA-12.4.0"}
