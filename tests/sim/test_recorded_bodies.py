"""The current profile answers with every field the recorded upstream server returns.

The setup of the recording is replayed against a fresh `waldur-sim --dialect current`: the same
catalogs and package (samples 01 to 06), the version and targets upstream's ORM wrote (through
the sim's writable API instead), the catalog left by an earlier session, the metadata PATCH
(63). Then every recorded answer is compared with the sim's: status, body (host, uuids and
timestamps made comparable; keys in the same order) and headers. The version's `metadata`
{"module": …} upstream's ORM wrote is written too, and shown as `module` as upstream shows it.

Differences kept on purpose:
- the samples filtered by `offering_uuid` (74, 80) are asked by `catalog_uuid` (no offerings);
- key order inside `metadata` (Postgres jsonb re-orders keys; the sim keeps the client's).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.sim.helpers import Api
from tests.sim.recording import LOADER_METADATA
from tests.sim.samples import (
    RECORDED_BASE,
    Sample,
    compared_headers,
    key_order,
    load,
    normalize,
    replay,
)
from waldur_sim.launcher import SimProcess

CATALOG_SAMPLES = (1, 3, 4, 5, 6)
TARGETS = (  # as upstream's ORM wrote them for the recording (see sample 07)
    ("aarch64", "neoverse_v1"),
    ("x86_64", "amd/zen3"),
    ("x86_64", "generic"),
)


@dataclass
class Replayed:
    sim: SimProcess
    catalog_uuid: str = ""
    answers: dict[int, httpx.Response] = field(default_factory=dict)

    def get(self, path: str) -> httpx.Response:
        headers = {"Authorization": f"Token {self.sim.staff_token}"}
        return httpx.get(f"{self.sim.base_url}{path}", headers=headers)


@pytest.fixture(scope="module")
def replayed() -> Iterator[Replayed]:
    with SimProcess("--dialect", "current") as sim:
        state = Replayed(sim)
        for number in CATALOG_SAMPLES:
            state.answers[number] = replay(sim, load(number))
        catalog = state.answers[1].json()
        state.catalog_uuid = catalog["uuid"]
        body = json.loads(load(2).request_body) | {"catalog": catalog["url"]}
        state.answers[2] = replay(sim, load(2), body=body)
        api = Api(sim)
        version = api.version(
            state.answers[2].json(),
            version="2024.1",
            module_version="2024.1-foss-2023b",
            metadata=LOADER_METADATA,
        )
        for family, micro in TARGETS:
            location = (
                f"/cvmfs/software.eessi.io/versions/2023.06/software/linux/{family}/{micro}"
                "/software/GROMACS/2024.1-foss-2023b"
            )
            api.create(
                "target",
                version=version["url"],
                target_type="cpu_architecture",
                target_name=family,
                target_subtype=micro,
                location=location,
            )
        earlier = api.catalog(name="rc-6c5bfe9c", version="1.0", description="x")
        api.package(earlier)
        api.close()
        path = f"/api/marketplace-software-catalogs/{catalog['uuid']}/"
        state.answers[63] = replay(sim, load(63), path=path)
        yield state


def assert_same_body(sample: Sample, answered: Any, base: str, expected: Any = None) -> None:
    recorded = normalize(sample.json() if expected is None else expected, RECORDED_BASE)
    actual = normalize(answered, base)
    assert actual == recorded, sample.name
    assert key_order(actual) == key_order(recorded), sample.name


@pytest.mark.parametrize("number", [*CATALOG_SAMPLES, 2, 63])
def test_writes_answer_as_recorded(replayed: Replayed, number: int) -> None:
    sample, response = load(number), replayed.answers[number]
    assert response.status_code == sample.status
    assert_same_body(sample, response.json(), replayed.sim.base_url)
    assert compared_headers(response.headers, replayed.sim.base_url) == compared_headers(
        sample.headers
    )


def test_the_target_list_is_as_recorded(replayed: Replayed) -> None:
    sample = load(7)
    response = replayed.get(
        f"/api/marketplace-software-targets/?catalog_uuid={replayed.catalog_uuid}"
    )
    assert response.status_code == sample.status
    assert_same_body(sample, response.json(), replayed.sim.base_url)
    assert compared_headers(response.headers, replayed.sim.base_url) == compared_headers(
        sample.headers
    )


def test_the_catalog_list_is_as_recorded(replayed: Replayed) -> None:
    sample = load(83)  # `offering_uuid` is no catalog filter: every catalog
    response = replay(replayed.sim, sample)
    assert response.status_code == sample.status
    assert_same_body(sample, response.json(), replayed.sim.base_url)
    assert compared_headers(response.headers, replayed.sim.base_url) == compared_headers(
        sample.headers
    )


def test_the_package_list_is_as_recorded(replayed: Replayed) -> None:
    sample = load(74)
    response = replayed.get(
        f"/api/marketplace-software-packages/?catalog_uuid={replayed.catalog_uuid}"
    )
    assert response.status_code == sample.status
    assert_same_body(sample, response.json(), replayed.sim.base_url)
    assert response.headers["X-Result-Count"] == sample.headers["X-Result-Count"]


def test_the_version_list_is_as_recorded(replayed: Replayed) -> None:
    sample = load(80)
    response = replayed.get(
        f"/api/marketplace-software-versions/?catalog_uuid={replayed.catalog_uuid}"
    )
    assert response.status_code == sample.status
    assert_same_body(sample, response.json(), replayed.sim.base_url)
    assert response.headers["X-Result-Count"] == sample.headers["X-Result-Count"]


def test_the_version_shows_its_metadata_module_as_upstream(replayed: Replayed) -> None:
    """Upstream shows `metadata.module` as `module`; the recording proves it on its version."""
    recorded = load(80).json()[0]
    assert recorded["metadata"] == LOADER_METADATA
    assert recorded["module"] == LOADER_METADATA["module"]
