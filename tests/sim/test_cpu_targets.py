"""`GET /api/marketplace-software-catalogs/<uuid>/cpu_targets/`, as recorded (samples 61 to 70
and 114): public, unpaginated, built only from the catalog's `metadata.architectures_map`
entry for the catalog's own version."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.sim.helpers import FORBIDDEN, NOT_PROVIDED, Api
from tests.sim.recording import Recording, assert_as_recorded
from tests.sim.samples import load
from waldur_sim.launcher import SimProcess

CPU_TARGET_SAMPLES = (61, 62, 64, 65, 66, 67, 68, 69, 70, 114)


@pytest.mark.parametrize("number", CPU_TARGET_SAMPLES)
def test_cpu_targets_answer_as_recorded(recording: Recording, number: int) -> None:
    sample, response = load(number), recording.answers[number]
    assert_as_recorded(sample, response, recording.sim.base_url)
    if number in (64, 114):
        assert response.content == sample.body  # byte for byte


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    with SimProcess() as sim:  # the legacy dialect: cpu_targets does not depend on it
        client = Api(sim)
        yield client
        client.close()


def cpu_targets(api: Api, catalog: dict[str, Any], who: str | None = None) -> httpx.Response:
    return api.request("GET", f"{api.detail('catalog', catalog['uuid'])}cpu_targets/", who)


def test_only_the_map_of_the_catalogs_version_counts(api: Api) -> None:
    archmap = {
        "2024.01": {"x86_64/amd/zen4": "x86_64/amd/zen4"},
        "1.0": {"riscv64": "riscv64", "x86_64/intel/icelake": "x86_64/intel/icelake", "n": 5},
    }
    catalog = api.catalog(metadata={"architectures_map": archmap})
    assert cpu_targets(api, catalog).json() == [
        {"cpu_family": "riscv64", "cpu_microarchitecture": "", "full_arch": "riscv64"},
        {
            "cpu_family": "x86_64",
            "cpu_microarchitecture": "intel/icelake",
            "full_arch": "x86_64/intel/icelake",
        },
    ]
    other = api.catalog(version="2.0", metadata={"architectures_map": archmap})
    assert cpu_targets(api, other).json() == []
    for metadata in ({"architectures_map": []}, {"architectures_map": {"1.0": "x"}}, [1]):
        odd = api.catalog(metadata=metadata)
        assert cpu_targets(api, odd).json() == []


def test_targets_of_the_catalog_do_not_count(api: Api) -> None:
    catalog = api.catalog()
    api.target(api.version(api.package(catalog)))
    assert cpu_targets(api, catalog).json() == []


def test_who_may_ask_and_how(api: Api) -> None:
    catalog = api.catalog()
    url = f"{api.detail('catalog', catalog['uuid'])}cpu_targets/"
    head = api.request("HEAD", url, None)
    assert (head.status_code, head.content) == (200, b"")
    assert api.request("GET", url, "user").status_code == 200
    refused = {
        None: (401, NOT_PROVIDED),
        "user": (403, FORBIDDEN),
        "staff": (405, {"detail": 'Method "PATCH" not allowed.'}),
    }
    for who, answer in refused.items():
        response = api.request("PATCH", url, who, json={})
        assert (response.status_code, response.json()) == answer
        assert response.headers["Allow"] == "GET, HEAD, OPTIONS"
    options = api.request("OPTIONS", url, None)
    assert (options.status_code, options.json()) == (401, NOT_PROVIDED)
    assert api.request("GET", url, None, headers={"Authorization": "Token x"}).status_code == 401


def test_a_malformed_uuid_is_a_404_and_no_other_action_is_routed(api: Api) -> None:
    malformed = api.request("GET", f"{api.collection('catalog')}zzz/cpu_targets/", None)
    assert (malformed.status_code, malformed.json()) == (404, {"detail": "Not found."})
    other = api.request("GET", f"{api.detail('catalog', uuid.uuid4().hex)}update_me/", None)
    assert other.status_code == 404
    assert other.headers["Content-Type"].startswith("text/html")
