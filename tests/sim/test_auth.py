"""Authentication and permissions: public reads, staff-only writes, DRF's 401/403 bodies."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.sim.helpers import FORBIDDEN, INVALID_TOKEN, NOT_PROVIDED, SEGMENTS, Api
from waldur_sim.launcher import SimProcess


@pytest.fixture(scope="module")
def tree(api: Api) -> dict[str, dict[str, Any]]:
    catalog = api.catalog()
    package = api.package(catalog)
    version = api.version(package)
    objects = {"catalog": catalog, "package": package, "version": version}
    objects["target"] = api.target(version)
    return {kind: api.get(obj["url"]) for kind, obj in objects.items()}


def call(api: Api, method: str, url: str, headers: dict[str, str]) -> httpx.Response:
    body = {"description": "changed"} if method in ("POST", "PUT", "PATCH") else None
    return api.http.request(method, url, headers=headers, json=body)


def assert_401(response: httpx.Response, body: dict[str, str]) -> None:
    assert response.status_code == 401
    assert response.json() == body
    assert response.headers["WWW-Authenticate"] == "Token"


@pytest.mark.parametrize("kind", list(SEGMENTS))
def test_anonymous_reads_are_public(api: Api, tree: dict[str, dict[str, Any]], kind: str) -> None:
    assert api.http.get(api.collection(kind)).status_code == 200
    assert api.http.head(api.collection(kind)).status_code == 200
    assert api.http.get(tree[kind]["url"]).json() == api.get(tree[kind]["url"], who="staff")


@pytest.mark.parametrize(
    ("header", "body"),
    [
        ("Token not-a-token", INVALID_TOKEN),
        ("Bearer not-a-token", INVALID_TOKEN),
        ("Token", {"detail": "Invalid token header. No credentials provided."}),
        ("Token a b", {"detail": "Invalid token header. Token string should not contain spaces."}),
    ],
)
def test_a_bad_token_is_401_even_on_reads(
    api: Api, tree: Any, header: str, body: dict[str, str]
) -> None:
    for url in (api.collection("catalog"), tree["catalog"]["url"], api.sim.api_url):
        assert_401(api.http.get(url, headers={"Authorization": header}), body)


def test_another_scheme_is_anonymous(api: Api, tree: Any) -> None:
    headers = {"Authorization": "Basic dXNlcjpwYXNz"}
    assert api.http.get(api.collection("catalog"), headers=headers).status_code == 200
    assert_401(api.http.patch(tree["catalog"]["url"], headers=headers, json={}), NOT_PROVIDED)


WRITES = [
    ("POST", "collection"),
    ("PUT", "detail"),
    ("PATCH", "detail"),
    ("DELETE", "detail"),
]


@pytest.mark.parametrize(("method", "where"), WRITES)
@pytest.mark.parametrize("kind", list(SEGMENTS))
def test_writes_need_staff(api: Api, tree: Any, kind: str, method: str, where: str) -> None:
    url = api.collection(kind) if where == "collection" else tree[kind]["url"]
    before, state = api.count(kind), api.get(tree[kind]["url"])
    assert_401(call(api, method, url, {}), NOT_PROVIDED)
    forbidden = call(api, method, url, api.auth("user"))
    assert (forbidden.status_code, forbidden.json()) == (403, FORBIDDEN)
    assert "WWW-Authenticate" not in forbidden.headers
    assert api.count(kind) == before
    assert api.get(tree[kind]["url"]) == state


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_permissions_are_checked_before_the_object_lookup(api: Api, method: str) -> None:
    url = api.detail("package", uuid.uuid4().hex)
    assert_401(call(api, method, url, {}), NOT_PROVIDED)
    assert call(api, method, url, api.auth("user")).status_code == 403
    assert call(api, method, url, api.auth("staff")).status_code == 404


def test_post_on_a_detail_url_checks_permissions_first(api: Api, tree: Any) -> None:
    url = tree["catalog"]["url"]
    assert call(api, "POST", url, {}).status_code == 401
    assert call(api, "POST", url, api.auth("user")).status_code == 403
    assert call(api, "POST", url, api.auth("staff")).status_code == 405


def test_staff_may_write_with_token_or_bearer(api: Api, tree: Any) -> None:
    url = tree["catalog"]["url"]
    for scheme in ("Token", "Bearer"):
        headers = {"Authorization": f"{scheme} {api.sim.staff_token}"}
        response = api.http.patch(url, headers=headers, json={"description": scheme})
        assert (response.status_code, response.json()["description"]) == (200, scheme)


def test_users_me_for_staff_has_is_staff(api: Api) -> None:
    body = api.get(f"{api.sim.api_url}users/me/", who="staff")
    assert body["is_staff"] is True
    assert body["username"] and len(body["uuid"]) == 32


def test_users_me_for_a_non_staff_user_omits_is_staff(api: Api) -> None:
    body = api.get(f"{api.sim.api_url}users/me/", who="user")
    assert "is_staff" not in body
    assert body["username"] and len(body["uuid"]) == 32
    assert body["uuid"] != api.get(f"{api.sim.api_url}users/me/", who="staff")["uuid"]


def test_users_me_needs_a_valid_token(api: Api) -> None:
    url = f"{api.sim.api_url}users/me/"
    assert_401(api.http.get(url), NOT_PROVIDED)
    assert_401(api.http.get(url, headers={"Authorization": "Token wrong"}), INVALID_TOKEN)


def test_tokens_come_from_the_flags(sim: Any) -> None:
    process: SimProcess = sim("--staff-token", "flag-staff", "--user-token", "flag-user")
    url = f"{process.api_url}users/me/"
    for token, staff in (("flag-staff", True), ("flag-user", False)):
        body = httpx.get(url, headers={"Authorization": f"Token {token}"}).json()
        assert body.get("is_staff", False) is staff
    default = httpx.get(url, headers={"Authorization": f"Token {process.staff_token}"})
    assert default.status_code == 401  # the launcher's environment tokens lost to the flags


def test_tokens_come_from_the_environment(sim: Any) -> None:
    process: SimProcess = sim(staff_token="env-staff", user_token="env-user")
    url = f"{process.api_url}users/me/"
    assert httpx.get(url, headers={"Authorization": "Token env-staff"}).json()["is_staff"] is True
    assert httpx.get(url, headers={"Authorization": "Token sim-staff-token"}).status_code == 401
