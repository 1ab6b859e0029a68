"""Upstream Waldur's own HTTP tests of the catalog actions, ported as contract tests of the sim.

Source: `src/waldur_mastermind/marketplace/tests/test_software_catalogs.py` in
`waldur/waldur-mastermind`, commit 0687593cbd467aa78891eec1dd7b6b1a3aa8467f, classes
`SoftwareCatalogDiscoverTest`, `SoftwareCatalogImportTest` and `SoftwareCatalogUpdateTest`
(every case, 14, named as upstream names them). The expected answers are upstream's. What the
port changes, because the sim is reached over HTTP only:

- upstream mocks `detect_eessi_version` / `detect_spack_version` and the tasks' `delay`; the
  sim's sources give the versions (EESSI 2025.06, Spack 2026.07.01: data/README.md), a failing
  detection is an unreachable source (`/api/_sim/loaders/`), and "the task was queued (or not)"
  is observed as a catalog row made (or not) by the worker;
- upstream's roles `owner`, `user`, `customer_support`, `admin`, `manager` are the sim's two
  non-staff users: the owner of the offerings' organisation and a user without a role;
- upstream posts form data; the sim parses JSON only, so bodies are JSON.

Run against both current profiles: today's upstream (`--read-only-kinds version,target`) and
the writable one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sim.helpers import auth
from tests.waiting import wait_until
from waldur_sim.launcher import SimProcess

PROFILES = {
    "read-only": ("--read-only-kinds", "version,target"),
    "writable": (),
}
NON_STAFF = ("owner", "user")


class Client:
    def __init__(self, sim: SimProcess) -> None:
        self.sim = sim
        self.url = f"{sim.api_url}marketplace-software-catalogs/"

    def get(self, path: str, who: str | None = "staff") -> httpx.Response:
        return httpx.get(self.url + path, headers=auth(self.sim, who))

    def post(self, path: str, who: str | None = "staff", **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, headers=auth(self.sim, who), **kwargs)

    def catalog(self, name: str, version: str, catalog_type: str) -> dict[str, Any]:
        body = {"name": name, "version": version, "catalog_type": catalog_type}
        response = self.post("", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def rows(self, name: str) -> list[dict[str, Any]]:
        return [row for row in self.get(f"?name={name}").json() if row["name"] == name]

    def reset(self) -> None:
        """A fresh start on a shared server: no catalogs, the sources as started."""
        for row in self.get("?page_size=300").json():
            assert httpx.delete(row["url"], headers=auth(self.sim, "staff")).status_code == 204
        reset = {"fail": [], "drop": {}, "hold": False}
        assert httpx.patch(f"{self.sim.api_url}_sim/loaders/", json=reset).status_code == 200


@pytest.fixture(scope="module", params=sorted(PROFILES))
def server(request: pytest.FixtureRequest) -> Iterator[SimProcess]:
    args = ("--dialect", "current", "--load-seconds", "0", *PROFILES[request.param])
    with SimProcess(*args) as sim:
        yield sim


@pytest.fixture
def client(server: SimProcess) -> Client:
    shared = Client(server)
    shared.reset()
    return shared


def by_name(data: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(entry for entry in data if entry["name"] == name)


# -- SoftwareCatalogDiscoverTest ---------------------------------------------------------------


def test_staff_can_discover_versions(client: Client) -> None:
    response = client.get("discover/")
    assert response.status_code == 200
    assert len(response.json()) == 2
    eessi, spack = by_name(response.json(), "EESSI"), by_name(response.json(), "Spack")
    assert eessi["latest_version"] == "2025.06"
    assert eessi["existing"] is False
    assert eessi["existing_version"] is None
    assert eessi["update_available"] is False
    assert spack["latest_version"] == "2026.07.01"
    assert spack["existing"] is False


def test_discover_shows_existing_catalog_info(client: Client) -> None:
    client.catalog("EESSI", "2024.01", "binary_runtime")
    response = client.get("discover/")
    assert response.status_code == 200
    eessi = by_name(response.json(), "EESSI")
    assert eessi["existing"] is True
    assert eessi["existing_version"] == "2024.01"
    assert eessi["update_available"] is True


@pytest.mark.parametrize("who", NON_STAFF)
def test_non_staff_cannot_discover(client: Client, who: str) -> None:
    assert client.get("discover/", who).status_code == 403


def test_anonymous_cannot_discover(client: Client) -> None:
    assert client.get("discover/", None).status_code == 401


def test_discover_handles_detection_failure_gracefully(client: Client) -> None:
    changed = httpx.patch(f"{client.sim.api_url}_sim/loaders/", json={"fail": ["EESSI"]})
    assert changed.status_code == 200
    response = client.get("discover/")
    assert response.status_code == 200
    assert len(response.json()) == 2
    eessi = by_name(response.json(), "EESSI")
    assert eessi["latest_version"] is None
    assert eessi["update_available"] is False
    assert by_name(response.json(), "Spack")["latest_version"] == "2026.07.01"


# -- SoftwareCatalogImportTest -----------------------------------------------------------------


def test_staff_can_import_catalog(client: Client) -> None:
    response = client.post("import_catalog/", json={"name": "EESSI"})
    assert response.status_code == 202
    assert response.json()["status"] == "importing"
    assert response.json()["name"] == "EESSI"
    (row,) = wait_until(lambda: client.rows("EESSI"), "the imported catalog")  # the task ran
    assert row["catalog_type"] == "binary_runtime"


def test_import_duplicate_catalog_fails(client: Client) -> None:
    client.catalog("EESSI", "2023.06", "binary_runtime")
    response = client.post("import_catalog/", json={"name": "EESSI"})
    assert response.status_code == 400
    assert len(client.rows("EESSI")) == 1  # no task ran


def test_import_unknown_catalog_fails(client: Client) -> None:
    assert client.post("import_catalog/", json={"name": "Unknown"}).status_code == 400


@pytest.mark.parametrize("who", NON_STAFF)
def test_non_staff_cannot_import(client: Client, who: str) -> None:
    assert client.post("import_catalog/", who, json={"name": "EESSI"}).status_code == 403


def test_anonymous_cannot_import(client: Client) -> None:
    assert client.post("import_catalog/", None, json={"name": "EESSI"}).status_code == 401


# -- SoftwareCatalogUpdateTest -----------------------------------------------------------------


def test_staff_can_update_catalog(client: Client) -> None:
    catalog = client.catalog("EESSI", "2023.06", "binary_runtime")
    response = client.post(f"{catalog['uuid']}/update_catalog/")
    assert response.status_code == 202
    assert response.json()["status"] == "updating"
    assert response.json()["catalog_uuid"] == catalog["uuid"]
    (row,) = client.rows("EESSI")
    assert row["last_update_attempt"] is not None  # the task ran for this catalog


def test_update_unknown_loader_fails(client: Client) -> None:
    catalog = client.catalog("CustomCatalog", "1.0", "binary_runtime")
    response = client.post(f"{catalog['uuid']}/update_catalog/")
    assert response.status_code == 400
    (row,) = client.rows("CustomCatalog")
    assert row["last_update_attempt"] is None  # no task ran


@pytest.mark.parametrize("who", NON_STAFF)
def test_non_staff_cannot_update(client: Client, who: str) -> None:
    catalog = client.catalog("EESSI", "2023.06", "binary_runtime")
    assert client.post(f"{catalog['uuid']}/update_catalog/", who).status_code == 403


def test_anonymous_cannot_update(client: Client) -> None:
    catalog = client.catalog("EESSI", "2023.06", "binary_runtime")
    assert client.post(f"{catalog['uuid']}/update_catalog/", None).status_code == 401
