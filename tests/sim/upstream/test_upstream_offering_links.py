"""Upstream's HTTP cases of an offering's software catalogs and a catalog's CPU targets.

Ported from waldur/waldur-mastermind `src/waldur_mastermind/marketplace/tests/
test_software_catalogs.py` at commit 0687593cbd467aa78891eec1dd7b6b1a3aa8467f
(classes OfferingSoftwareCatalogActionsTest, SoftwareCatalogCpuTargetsTest). The expected
answers are upstream's newest (another offering's link 404, an already linked catalog 400);
the build the recorded samples came from answered otherwise (`--upstream-build 004c5322`,
tested in `tests/sim/test_offering_links.py`).

The sim's offerings have no partitions, so "a partition of another offering" is a partition
uuid the offering does not have; upstream's cases with the offering's own partition are not
ported (see docs/reference/waldur-sim.md).
"""

from __future__ import annotations

import uuid

import pytest

from tests.sim.upstream.server import FOREIGN_OFFERING, Json, Server


class TestOfferingSoftwareCatalogActions:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        self.offering = server.offering()
        self.catalog = server.catalog(name="EESSI", version="2023.06")
        server.package(self.catalog, name="Python")
        server.package(self.catalog, name="Java")

    def action(self, name: str) -> str:
        return self.server.url("offering", self.offering["uuid"], name)

    def links(self, offering: Json | None = None) -> list[Json]:
        offering = offering or self.offering
        detail = self.server.get(self.server.url("offering", offering["uuid"])).json()
        found: list[Json] = detail["software_catalogs"]
        return found

    @pytest.mark.parametrize("user", ["staff", "owner"])
    def test_authorized_user_can_add_software_catalog(self, user: str) -> None:
        payload = {
            "catalog": str(uuid.UUID(self.catalog["uuid"])),
            "enabled_cpu_family": ["x86_64", "aarch64"],
            "enabled_cpu_microarchitectures": ["generic", "a64fx"],
        }
        response = self.server.send("POST", self.action("add_software_catalog"), payload, user)
        assert response.status_code == 201, response.text
        assert "uuid" in response.json()
        assert [link["catalog"]["uuid"] for link in self.links()] == [self.catalog["uuid"]]

    @pytest.mark.parametrize("user", ["user", "admin", "manager"])
    def test_unauthorized_project_user_cannot_add_software_catalog(self, user: str) -> None:
        payload = {"catalog": self.catalog["uuid"], "enabled_cpu_family": ["x86_64"]}
        response = self.server.send("POST", self.action("add_software_catalog"), payload, user)
        assert response.status_code == 404

    def test_update_software_catalog_configuration(self) -> None:
        link = self.server.link(
            self.offering,
            self.catalog,
            enabled_cpu_family=["x86_64"],
            enabled_cpu_microarchitectures=["generic"],
        )
        payload = {
            "enabled_cpu_family": ["x86_64", "aarch64", "arm64"],
            "enabled_cpu_microarchitectures": ["generic", "a64fx", "neoverse_n1"],
            "offering_catalog_uuid": link["uuid"],
        }
        response = self.server.send("PATCH", self.action("update_software_catalog"), payload)
        assert response.status_code == 200, response.text
        assert response.json()["enabled_cpu_family"] == ["x86_64", "aarch64", "arm64"]
        assert response.json()["enabled_cpu_microarchitectures"] == [
            "generic",
            "a64fx",
            "neoverse_n1",
        ]
        (stored,) = self.links()
        assert stored["enabled_cpu_family"] == ["x86_64", "aarch64", "arm64"]
        assert stored["enabled_cpu_microarchitectures"] == ["generic", "a64fx", "neoverse_n1"]

    def test_remove_software_catalog(self) -> None:
        link = self.server.link(self.offering, self.catalog)
        payload = {"offering_catalog_uuid": link["uuid"]}
        response = self.server.send("POST", self.action("remove_software_catalog"), payload)
        assert response.status_code == 204, response.text
        assert self.links() == []

    def test_remove_software_catalog_of_another_offering_is_not_found(self) -> None:
        foreign = self.server.offering(FOREIGN_OFFERING)
        foreign_link = self.server.link(foreign, self.catalog)
        payload = {"offering_catalog_uuid": foreign_link["uuid"]}
        response = self.server.send(
            "POST", self.action("remove_software_catalog"), payload, "owner"
        )
        assert response.status_code == 404
        assert [link["uuid"] for link in self.links(foreign)] == [foreign_link["uuid"]]

    def test_add_software_catalog_with_partition_of_another_offering_is_rejected(self) -> None:
        foreign_partition = uuid.uuid4().hex
        payload = {"catalog": self.catalog["uuid"], "partition": foreign_partition}
        response = self.server.send("POST", self.action("add_software_catalog"), payload, "owner")
        assert response.status_code == 400
        assert "partition" in response.json()
        assert self.links() == []

    def test_update_software_catalog_with_partition_of_another_offering_is_rejected(
        self,
    ) -> None:
        link = self.server.link(self.offering, self.catalog)
        payload = {"offering_catalog_uuid": link["uuid"], "partition": uuid.uuid4().hex}
        response = self.server.send(
            "PATCH", self.action("update_software_catalog"), payload, "owner"
        )
        assert response.status_code == 400
        assert "partition" in response.json()
        (stored,) = self.links()
        assert stored["partition"] is None

    def test_update_software_catalog_to_already_linked_catalog_is_rejected(self) -> None:
        link = self.server.link(self.offering, self.catalog)
        other_catalog = self.server.catalog()
        self.server.link(self.offering, other_catalog)
        payload = {"offering_catalog_uuid": link["uuid"], "catalog": other_catalog["uuid"]}
        response = self.server.send(
            "PATCH", self.action("update_software_catalog"), payload, "owner"
        )
        assert response.status_code == 400
        assert "catalog" in response.json()
        by_uuid = {stored["uuid"]: stored["catalog"]["uuid"] for stored in self.links()}
        assert by_uuid[link["uuid"]] == self.catalog["uuid"]

    def test_update_software_catalog_keeping_its_catalog(self) -> None:
        link = self.server.link(self.offering, self.catalog)
        payload = {
            "offering_catalog_uuid": link["uuid"],
            "catalog": self.catalog["uuid"],
            "enabled_cpu_family": ["aarch64"],
        }
        response = self.server.send(
            "PATCH", self.action("update_software_catalog"), payload, "owner"
        )
        assert response.status_code == 200, response.text
        (stored,) = self.links()
        assert stored["enabled_cpu_family"] == ["aarch64"]

    def test_offering_detail_includes_software_catalogs(self) -> None:
        self.server.link(
            self.offering,
            self.catalog,
            enabled_cpu_family=["x86_64"],
            enabled_cpu_microarchitectures=["generic"],
        )
        catalog2 = self.server.catalog(
            name="Spack", version="2026.09.30", catalog_type="source_package"
        )
        self.server.link(
            self.offering,
            catalog2,
            enabled_cpu_family=["aarch64"],
            enabled_cpu_microarchitectures=["a64fx"],
        )
        response = self.server.get(self.server.url("offering", self.offering["uuid"]))
        assert response.status_code == 200
        links = response.json()["software_catalogs"]
        assert len(links) == 2
        nested_by_name = {row["catalog"]["name"]: row["catalog"] for row in links}
        assert nested_by_name["EESSI"]["supports_cpu_target_restrictions"] is True
        assert nested_by_name["Spack"]["supports_cpu_target_restrictions"] is False
        assert {"uuid", "catalog", "enabled_cpu_family", "enabled_cpu_microarchitectures"} <= set(
            links[0]
        )
        assert {"uuid", "name", "version", "description"} <= set(links[0]["catalog"])


ARCHITECTURES_MAP = {
    "2023.06": {"x86_64/intel/haswell": "x86_64/intel/haswell"},
    "2025.06": {
        "x86_64/generic": "x86_64/generic",
        "x86_64/amd/zen3": "x86_64/amd/zen3",
        "x86_64/intel/sapphirerapids": "x86_64/intel/sapphirerapids",
        "x86_64/intel/icelake": "x86_64/intel/icelake",
        "aarch64/neoverse_n1": "aarch64/neoverse_n1",
        "x86_64/intel/graniterapids": "x86_64/intel/skylake_avx512",
    },
}


class TestSoftwareCatalogCpuTargets:
    @pytest.fixture(autouse=True)
    def set_up(self, server: Server) -> None:
        self.server = server
        self.catalog = server.catalog(
            name="EESSI",
            version="2025.06",
            catalog_type="binary_runtime",
            metadata={"architectures_map": ARCHITECTURES_MAP},
        )
        self.url = server.url("catalog", self.catalog["uuid"], "cpu_targets")

    def test_spack_http_returns_empty_list(self) -> None:
        spack = self.server.catalog(
            name="Spack",
            version="2026.09.30",
            catalog_type="source_package",
            metadata={"format": "repology.json"},
        )
        url = self.server.url("catalog", spack["uuid"], "cpu_targets")
        response = self.server.get(url, who="owner")
        assert (response.status_code, response.json()) == (200, [])

    def test_authenticated_user_can_list_cpu_targets(self) -> None:
        """(Upstream also counts the SQL queries; that part is not HTTP.)"""
        response = self.server.get(self.url, who="owner")
        assert response.status_code == 200
        sapphire = next(
            row for row in response.json() if row["full_arch"] == "x86_64/intel/sapphirerapids"
        )
        assert sapphire["cpu_family"] == "x86_64"
        assert sapphire["cpu_microarchitecture"] == "intel/sapphirerapids"
        assert "x86_64/intel/haswell" not in [row["full_arch"] for row in response.json()]

    def test_anonymous_can_list_cpu_targets_when_offerings_are_public(self) -> None:
        assert self.server.get(self.url, who=None).status_code == 200
