"""`GET /api/version/`: any authenticated user, as recorded (samples 115 and 116)."""

from __future__ import annotations

import httpx
import pytest

from tests.sim.helpers import NOT_PROVIDED
from tests.sim.samples import compared_headers, load, replay
from waldur_sim.launcher import SimProcess


@pytest.fixture(params=["legacy", "recorded"])
def any_sim(request: pytest.FixtureRequest) -> SimProcess:
    name = "legacy_sim" if request.param == "legacy" else "recorded_sim"
    sim: SimProcess = request.getfixturevalue(name)
    return sim


@pytest.mark.parametrize("number", [115, 116])
def test_version_answers_as_recorded(any_sim: SimProcess, number: int) -> None:
    sample = load(number)
    response = replay(any_sim, sample)
    assert response.status_code == sample.status
    assert response.content == sample.body
    assert compared_headers(response.headers, any_sim.base_url) == compared_headers(sample.headers)


def test_the_version_is_release_plus_build() -> None:
    release, _, build = load(116).json()["version"].partition("+")
    assert release.count(".") == 2 and build


def test_a_non_staff_user_may_read_it(legacy_sim: SimProcess) -> None:
    headers = {"Authorization": f"Token {legacy_sim.user_token}"}
    response = httpx.get(f"{legacy_sim.api_url}version/", headers=headers)
    assert (response.status_code, response.content) == (200, load(116).body)


@pytest.mark.parametrize(
    ("method", "token", "status", "body"),
    [
        ("GET", "nope", 401, {"detail": "Invalid token."}),
        ("POST", None, 401, NOT_PROVIDED),  # authentication before the method check
        ("POST", "staff", 405, {"detail": 'Method "POST" not allowed.'}),
        ("DELETE", "staff", 405, {"detail": 'Method "DELETE" not allowed.'}),
    ],
)
def test_other_requests(
    legacy_sim: SimProcess, method: str, token: str | None, status: int, body: object
) -> None:
    key = legacy_sim.staff_token if token == "staff" else token
    headers = {"Authorization": f"Token {key}"} if key else {}
    response = httpx.request(method, f"{legacy_sim.api_url}version/", headers=headers)
    assert (response.status_code, response.json()) == (status, body)
    assert response.headers["Allow"] == "OPTIONS, GET"


def test_head_answers_the_headers_only(legacy_sim: SimProcess) -> None:
    headers = {"Authorization": f"Token {legacy_sim.staff_token}"}
    response = httpx.head(f"{legacy_sim.api_url}version/", headers=headers)
    assert (response.status_code, response.content) == (200, b"")
    assert response.headers["Content-Length"] == str(len(load(116).body))
