"""The catalog actions `discover`, `import_catalog` and `update_catalog` answer as the recorded
upstream build did (samples 129 to 183, replayed in order by `catalog_actions_replay.py`):
status, compared headers and bodies; OPTIONS byte for byte; and a build without the actions
routes their paths as such a build does."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl, urlencode, urlsplit

import httpx
import pytest

from tests.sim.catalog_actions_replay import (
    CUT,
    LISTS,
    SEQUENCE,
    SIM_ARGS,
    ActionsRecording,
    comparable,
    list_key,
    play,
    spack_counts,
)
from tests.sim.recording import _headers
from tests.sim.samples import RECORDED_BASE, load
from waldur_sim.launcher import SimProcess

JSON_BODIES = [n for n in SEQUENCE if n not in LISTS and n not in CUT]
OPTIONS = (179, 180, 181, 182, 183)


@pytest.fixture(scope="module")
def played() -> Iterator[ActionsRecording]:
    with SimProcess(*SIM_ARGS) as sim:
        yield play(sim)


def _base(played: ActionsRecording) -> str:
    return played.recording.sim.base_url


@pytest.mark.parametrize("number", SEQUENCE)
def test_status_and_headers_as_recorded(played: ActionsRecording, number: int) -> None:
    sample, response = load(number), played.answers[number]
    assert response.status_code == sample.status, (sample.name, response.text)
    assert _headers(response.headers, _base(played)) == _headers(sample.headers), sample.name


@pytest.mark.parametrize("number", JSON_BODIES)
def test_body_as_recorded(played: ActionsRecording, number: int) -> None:
    sample, response = load(number), played.answers[number]
    if not sample.body:
        assert response.content == b"", sample.name
        return
    spack = spack_counts()
    recorded = comparable(sample.json(), RECORDED_BASE, spack=spack)
    assert comparable(response.json(), _base(played), spack=spack) == recorded, sample.name


@pytest.mark.parametrize("number", OPTIONS)
def test_options_byte_for_byte(played: ActionsRecording, number: int) -> None:
    sample = load(number)
    assert played.answers[number].content == sample.body, sample.name


@pytest.mark.parametrize("number", sorted(LISTS))
def test_listed_objects_as_recorded(played: ActionsRecording, number: int) -> None:
    """Each object the recorded page shows is on the sim, with the same body (the sim may
    order a page differently, so objects are matched by natural key on a full listing)."""
    sample, kind = load(number), LISTS[number]
    parts = urlsplit(played.recording.translate(sample.url))
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "page_size"]
    url = f"{_base(played)}{parts.path}?{urlencode([*query, ('page_size', '300')])}"
    everything = httpx.get(url, headers=played.recording.staff()).json()
    by_key = {list_key(kind, item): item for item in everything}
    spack = spack_counts()
    for recorded in sample.json():
        actual = by_key.get(list_key(kind, recorded))
        assert actual is not None, (sample.name, list_key(kind, recorded))
        expected = comparable(recorded, RECORDED_BASE, spack=spack)
        assert comparable(actual, _base(played), spack=spack) == expected, sample.name


def test_the_recorded_spack_source_differs_only_in_its_versions() -> None:
    """The one difference the comparisons above remove: the recording's Spack source had 281
    versions, the sim's has its own number (one target each, as upstream's loader makes)."""
    recorded = load(161).json()[0]
    assert (recorded["package_count"], recorded["version_count"]) == (50, 281)
    versions, targets = spack_counts()
    assert versions == targets > 0


def test_a_build_without_the_actions_routes_their_paths_as_catalog_paths() -> None:
    """`--no-catalog-actions`: `import_catalog/` and `discover/` are catalog detail lookups
    (POST 405, GET 404), `<uuid>/update_catalog/` matches nothing (Django's 404 page), and
    the control endpoint is not there."""
    with SimProcess("--dialect", "current", "--no-catalog-actions") as sim:
        staff = {"Authorization": f"Token {sim.staff_token}"}
        collection = f"{sim.api_url}marketplace-software-catalogs/"
        imported = httpx.post(f"{collection}import_catalog/", headers=staff, json={"name": "EESSI"})
        assert imported.status_code == 405
        assert imported.json() == {"detail": 'Method "POST" not allowed.'}
        assert imported.headers["Allow"] == "GET, PUT, PATCH, DELETE, HEAD, OPTIONS"
        discovered = httpx.get(f"{collection}discover/", headers=staff)
        assert discovered.status_code == 404
        created = httpx.post(
            collection,
            headers=staff,
            json={"name": "EESSI", "version": "2023.06", "catalog_type": "binary_runtime"},
        ).json()
        updated = httpx.post(f"{collection}{created['uuid']}/update_catalog/", headers=staff)
        assert updated.status_code == 404
        assert updated.headers["Content-Type"].startswith("text/html")
        unslashed = httpx.post(f"{collection}{created['uuid']}/update_catalog", headers=staff)
        assert unslashed.status_code == 404  # no route with the slash either: no redirect
        assert httpx.get(f"{sim.api_url}_sim/loaders/").status_code == 404
        options = httpx.request("OPTIONS", f"{collection}import_catalog/", headers=staff)
        assert "actions" not in options.json()  # no catalog "import_catalog" to PUT


def test_the_legacy_dialect_has_no_actions() -> None:
    with SimProcess() as sim:
        staff = {"Authorization": f"Token {sim.staff_token}"}
        url = f"{sim.api_url}marketplace-software-catalogs/import_catalog/"
        assert httpx.post(url, headers=staff, json={"name": "EESSI"}).status_code == 405
