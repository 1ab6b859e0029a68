"""waldur-sim's loaders behind the catalog actions: loads run in the background, follow upstream's
semantics (import: detected or configured version, no sync; update: the row's own version, sync
deletes what the source dropped, existing rows are never updated, stale targets stay), appear in
one transaction, and fail as upstream's do. Completion is observed the way a client observes it:
by polling the catalog row (`tests/waiting.py`), never by sleeping.

Counts come from the sources the repository carries (data/README.md): EESSI 2023.06 is the full
2026-02-21 snapshot (654 packages, 1,200 versions, 16,751 targets); EESSI 2025.06 and the API
sample's 2023.06 are the recorded build's (3 / 7 / 98 and 5 / 11 / 152, samples 131 and 143).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest
from waldur_api_client import AuthenticatedClient
from waldur_api_client.api.marketplace_software_catalogs import (
    marketplace_software_catalogs_discover_list as discover_list,
)
from waldur_api_client.api.marketplace_software_catalogs import (
    marketplace_software_catalogs_import_catalog as import_catalog,
)
from waldur_api_client.api.marketplace_software_catalogs import (
    marketplace_software_catalogs_retrieve as catalogs_retrieve,
)
from waldur_api_client.api.marketplace_software_catalogs import (
    marketplace_software_catalogs_update_catalog as update_catalog,
)
from waldur_api_client.models import NameEnum, SoftwareCatalog, SoftwareCatalogImportRequest

from tests.sim.catalog_actions_replay import EESSI_SAMPLE
from tests.sim.test_upstream_client import assert_fully_known
from tests.waiting import wait_until
from waldur_sim.launcher import SimProcess

FULL_2023 = (654, 1200, 16751)
SAMPLE_2025 = (3, 7, 98)
SAMPLE_2023 = (5, 11, 152)
EESSI_UNREACHABLE = (
    "Catalog update failed: Catalog loading failed: Failed to fetch EESSI data: "
    "HTTPSConnectionPool(host='www.eessi.io', port=443): Max retries exceeded with url: "
    "/api_data/data/eessi_api_metadata_software.json (Caused by NewConnectionError("
)


class Sim:
    """A waldur-sim with the catalog actions, as staff."""

    def __init__(self, process: SimProcess) -> None:
        self.process = process
        self.http = httpx.Client(
            base_url=f"{process.api_url}marketplace-software-catalogs/",
            headers={"Authorization": f"Token {process.staff_token}"},
            timeout=30,
        )

    def control(self, **changes: Any) -> dict[str, Any]:
        response = httpx.patch(f"{self.process.api_url}_sim/loaders/", json=changes)
        assert response.status_code == 200, response.text
        return response.json()

    def loads(self) -> dict[str, Any]:
        return httpx.get(f"{self.process.api_url}_sim/loaders/").json()

    def pin(self, version: str = "2023.06") -> dict[str, Any]:
        body = {"name": "EESSI", "version": version, "catalog_type": "binary_runtime"}
        response = self.http.post("", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def update(self, catalog: dict[str, Any]) -> None:
        response = self.http.post(f"{catalog['uuid']}/update_catalog/")
        assert response.status_code == 202, response.text
        assert response.json() == {"status": "updating", "catalog_uuid": catalog["uuid"]}

    def row(self, catalog: dict[str, Any]) -> dict[str, Any]:
        response = self.http.get(f"{catalog['uuid']}/")
        assert response.status_code == 200, response.text
        return response.json()

    def find(self, name: str, catalog_type: str) -> list[dict[str, Any]]:
        rows = self.http.get("", params={"name": name, "catalog_type": catalog_type}).json()
        return [row for row in rows if row["name"] == name]

    def finished(self, catalog: dict[str, Any], after: str | None = None) -> dict[str, Any]:
        """Poll the row until a load that started after `after` has ended (success or not)."""

        def ended() -> dict[str, Any] | None:
            idle = self.loads()["loads"]["running"] == 0  # asked first: the row read is newer
            row = self.row(catalog)
            attempt, success = row["last_update_attempt"], row["last_successful_update"]
            if attempt is None or (after is not None and attempt <= after):
                return None
            if success is not None and success >= attempt and row["update_errors"] == "":
                return row
            return row if row["update_errors"] != "" and idle else None

        return wait_until(ended, f"the load of {catalog['uuid']} to end")

    def packages(self, catalog: dict[str, Any]) -> dict[str, dict[str, Any]]:
        url = f"{self.process.api_url}marketplace-software-packages/"
        params = {"catalog_uuid": catalog["uuid"], "page_size": 1000}
        return {p["name"]: p for p in httpx.get(url, params=params).json()}


def counts(row: dict[str, Any]) -> tuple[int, int, int]:
    return row["package_count"], row["version_count"], row["target_count"]


@pytest.fixture
def sim(request: pytest.FixtureRequest) -> Iterator[Sim]:
    args = getattr(request, "param", ())
    with SimProcess("--dialect", "current", "--load-seconds", "0", *args) as process:
        client = Sim(process)
        yield client
        client.http.close()


def test_an_import_runs_in_the_background_and_its_packages_appear_at_once(sim: Sim) -> None:
    sim.control(hold=True)
    response = sim.http.post("import_catalog/", json={"name": "EESSI"})
    assert response.status_code == 202
    assert response.json() == {"status": "importing", "name": "EESSI"}
    (row,) = wait_until(lambda: sim.find("EESSI", "binary_runtime"), "the imported row")
    assert row["version"] == "2025.06"  # the latest version in the source
    assert row["last_update_attempt"] is not None
    assert (row["last_successful_update"], row["update_errors"]) == (None, "")
    assert counts(row) == (0, 0, 0)
    assert sim.loads()["loads"]["running"] == 1
    sim.control(hold=False)
    seen = set()

    def done() -> dict[str, Any] | None:
        current = sim.row(row)
        seen.add(counts(current))
        return current if current["last_successful_update"] else None

    loaded = wait_until(done, "the import to finish")
    assert loaded["last_successful_update"] >= loaded["last_update_attempt"]
    assert counts(loaded) == SAMPLE_2025
    assert seen <= {(0, 0, 0), SAMPLE_2025}  # never a part of the load
    assert loaded["source_url"] == "https://www.eessi.io/api_data/data"
    assert set(loaded["metadata"]["architectures_map"]) == {"2023.06", "2025.06"}


def test_update_loads_the_rows_own_version_and_a_sync_deletes_what_the_source_dropped(
    sim: Sim,
) -> None:
    catalog = sim.pin("2023.06")
    sim.update(catalog)
    first = sim.finished(catalog)
    assert (first["version"], counts(first)) == ("2023.06", FULL_2023)
    before = sim.packages(catalog)
    gromacs, kept = before["GROMACS"], before["Abseil"]
    # a row the loader made is never updated by a later load: change one through the API
    url = f"{sim.process.api_url}marketplace-software-packages/{kept['uuid']}/"
    assert sim.http.patch(url, json={"description": "edited"}).status_code == 200
    sim.control(drop={"EESSI": ["GROMACS"]})
    sim.update(catalog)
    second = sim.finished(catalog, after=first["last_update_attempt"])
    gromacs_targets = sum(len(v["targets"]) for v in gromacs["versions"])
    assert counts(second) == (
        FULL_2023[0] - 1,
        FULL_2023[1] - gromacs["version_count"],
        FULL_2023[2] - gromacs_targets,
    )
    after = sim.packages(catalog)
    assert "GROMACS" not in after
    assert after["Abseil"]["uuid"] == kept["uuid"]
    assert after["Abseil"]["description"] == "edited"


def test_a_sync_deletes_dropped_versions_but_keeps_stale_targets_of_kept_ones(sim: Sim) -> None:
    catalog = sim.pin("2023.06")
    sim.update(catalog)
    first = sim.finished(catalog)
    sim.control(eessi_source=str(EESSI_SAMPLE))  # the API sample: 5 packages at 2023.06
    sim.update(catalog)
    second = sim.finished(catalog, after=first["last_update_attempt"])
    packages, versions, targets = counts(second)
    assert (packages, versions) == SAMPLE_2023[:2]
    # the snapshot's versions that the sample keeps keep their targets, and gain the sample's
    assert targets >= SAMPLE_2023[2]
    fresh = sim.pin("2023.06-fresh")  # not an EESSI version of the source: nothing to load
    sim.update(fresh)
    assert counts(sim.finished(fresh)) == (0, 0, 0)


@pytest.mark.parametrize("sim", [("--load-fail", "eessi")], indirect=True)
def test_a_failed_update_says_why_and_keeps_its_text_until_a_retry_succeeds(sim: Sim) -> None:
    catalog = sim.pin("2023.06")
    sim.update(catalog)
    failed = sim.finished(catalog)
    assert failed["update_errors"].startswith(EESSI_UNREACHABLE), failed["update_errors"]
    assert failed["last_successful_update"] is None
    assert counts(failed) == (0, 0, 0)
    discovered = {entry["name"]: entry for entry in sim.http.get("discover/").json()}
    assert discovered["EESSI"]["latest_version"] is None
    assert discovered["Spack"]["latest_version"] == "2026.07.01"
    sim.control(fail=[], hold=True)
    sim.update(catalog)
    retrying = wait_until(
        lambda: (
            (row := sim.row(catalog))["last_update_attempt"] > failed["last_update_attempt"] and row
        ),
        "the retry to start",
    )
    assert retrying["update_errors"] == failed["update_errors"]  # the old text stays meanwhile
    sim.control(hold=False)
    done = sim.finished(catalog, after=failed["last_update_attempt"])
    assert (done["update_errors"], counts(done)) == ("", FULL_2023)


@pytest.mark.parametrize("sim", [("--load-fail", "spack")], indirect=True)
def test_a_failed_import_leaves_an_empty_row_that_refuses_the_next_import(sim: Sim) -> None:
    assert sim.http.post("import_catalog/", json={"name": "Spack"}).status_code == 202
    (row,) = sim.find("Spack", "source_package")
    assert row["version"] == "latest"  # upstream's version when detection fails
    assert row["update_errors"].startswith(
        "Catalog import failed: Catalog loading failed: Failed to fetch Spack data: "
        "HTTPSConnectionPool(host='raw.githubusercontent.com', port=443)"
    )
    assert (row["last_successful_update"], counts(row)) == (None, (0, 0, 0))
    again = sim.http.post("import_catalog/", json={"name": "Spack"})
    assert again.status_code == 400
    assert again.json() == ["A catalog with name=Spack and type=source_package already exists."]


@pytest.mark.parametrize("sim", [("--eessi-version", "2023.06")], indirect=True)
def test_an_import_takes_the_configured_version(sim: Sim) -> None:
    assert sim.http.post("import_catalog/", json={"name": "EESSI"}).status_code == 202
    (row,) = sim.find("EESSI", "binary_runtime")
    assert (row["version"], counts(row)) == ("2023.06", FULL_2023)


def test_a_catalog_deleted_during_its_load_ends_the_load_quietly(sim: Sim) -> None:
    catalog = sim.pin("2023.06")
    sim.control(hold=True)
    sim.update(catalog)
    wait_until(lambda: sim.row(catalog)["last_update_attempt"], "the load to start")
    assert sim.http.delete(f"{catalog['uuid']}/").status_code == 204
    sim.control(hold=False)
    history = wait_until(
        lambda: [h for h in sim.loads()["history"] if h.get("status") == "abandoned"],
        "the load to be abandoned",
    )
    assert history[0]["catalog_uuid"] == catalog["uuid"]
    assert sim.http.get("discover/").status_code == 200


def test_a_load_slower_than_its_time_is_seen_loading(sim: Sim) -> None:
    """`load_seconds` (`--load-seconds`) is the time a load takes: while it runs, the row says
    attempted, not yet successful. (A 60 s load, released at once by the test.)"""
    sim.control(load_seconds=60)
    catalog = sim.pin("2023.06")
    sim.update(catalog)
    row = wait_until(lambda: (r := sim.row(catalog))["last_update_attempt"] and r, "the start")
    assert (row["last_successful_update"], counts(row)) == (None, (0, 0, 0))
    sim.control(load_seconds=0)  # wakes the load: it commits now
    assert counts(sim.finished(catalog)) == FULL_2023


@pytest.mark.parametrize(
    "body",
    [
        {"fail": ["eessi"]},
        {"eessi_source": "/nonexistent/eessi"},
        {"drop": ["GROMACS"]},
        {"load_seconds": -1},
        {"hold": "yes"},
        {"unknown": 1},
    ],
)
def test_the_control_endpoint_refuses_bad_input(sim: Sim, body: dict[str, Any]) -> None:
    response = httpx.patch(f"{sim.process.api_url}_sim/loaders/", json=body)
    assert response.status_code == 400, response.text
    assert sim.loads()["fail"] == []  # nothing changed


def test_help_names_every_loader_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "waldur_sim", "--help"], capture_output=True, text=True, check=True
    )
    for option in (
        "--no-catalog-actions",
        "--load-seconds",
        "--load-fail",
        "--eessi-source",
        "--spack-source",
        "--eessi-url",
        "--spack-url",
        "--eessi-version",
        "--spack-version",
    ):
        assert option in result.stdout, option


def test_waldur_api_client_parses_the_answers(sim: Sim) -> None:
    """Waldur's generated client (the API the recorded build serves) drives the actions: its
    models parse `discover` fully, and the 202s and the loaded catalog row."""
    client = AuthenticatedClient(
        base_url=sim.process.base_url, token=sim.process.staff_token, prefix="Token"
    )
    with client:
        found = discover_list.sync(client=client)
        assert found is not None
        assert [(d.name, d.latest_version) for d in found] == [
            ("EESSI", "2025.06"),
            ("Spack", "2026.07.01"),
        ]
        for entry in found:
            assert_fully_known(entry, "discover")
        imported = import_catalog.sync_detailed(
            client=client, body=SoftwareCatalogImportRequest(name=NameEnum.SPACK)
        )
        assert imported.status_code == 202
        catalog = sim.pin("2023.06")
        updated = update_catalog.sync_detailed(uuid=UUID(catalog["uuid"]), client=client)
        assert updated.status_code == 202
        loaded = catalogs_retrieve.sync(uuid=UUID(catalog["uuid"]), client=client)
        assert isinstance(loaded, SoftwareCatalog)
        assert_fully_known(loaded, "catalog")
        assert loaded.last_successful_update is not None
        assert loaded.last_update_attempt is not None
        assert loaded.last_successful_update >= loaded.last_update_attempt


def test_a_missing_source_file_stops_the_start_with_its_name() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "waldur_sim", "--eessi-source", "/nonexistent/eessi"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "--eessi-source: /nonexistent/eessi: no such file or directory" in result.stderr
    assert "Traceback" not in result.stderr


def test_extension_files_add_extensions_with_their_parents(tmp_path: Path) -> None:
    """An `eessi_api_metadata_ext-<type>.json` beside the main file adds extension packages
    (`is_extension`, parents from `parent_software`), as upstream's loader does; entries of
    another EESSI version are left out, and a dropped extension goes with the next sync."""
    shutil.copy(EESSI_SAMPLE, tmp_path / "eessi_api_metadata_software.json.xz")
    modules = [{"module_name": "EESSI", "module_version": "2023.06"}]
    entry = {"version": "1.0", "required_modules": modules, "cpu_arch": ["x86_64/generic"]}
    extensions = {
        "software": {
            "espresso-tools": {
                "description": "tools of ESPResSo",
                "versions": [entry | {"parent_software": {"name": "ESPResSo"}}],
            },
            "later-tool": {
                "versions": [
                    entry
                    | {"required_modules": [{"module_name": "EESSI", "module_version": "2025.06"}]}
                ]
            },
        }
    }
    (tmp_path / "eessi_api_metadata_ext-python.json").write_text(json.dumps(extensions))
    with SimProcess(
        "--dialect", "current", "--load-seconds", "0", "--eessi-source", str(tmp_path)
    ) as process:
        sim = Sim(process)
        catalog = sim.pin("2023.06")
        sim.update(catalog)
        loaded = sim.finished(catalog)
        packages = sim.packages(catalog)
        assert counts(loaded)[0] == SAMPLE_2023[0] + 1
        assert "later-tool" not in packages
        tools = packages["espresso-tools"]
        assert tools["is_extension"] is True
        assert [parent["name"] for parent in tools["parent_softwares"]] == ["ESPResSo"]
        assert packages["ESPResSo"]["extension_count"] == 1
        sim.control(drop={"EESSI": ["espresso-tools"]})
        sim.update(catalog)
        synced = sim.finished(catalog, after=loaded["last_update_attempt"])
        assert counts(synced)[0] == SAMPLE_2023[0]
        sim.http.close()
