"""The hostile proxy does what the other tests of this folder rely on: without this, a test
that "nothing reached the other address" could pass because nothing hostile happened."""

from __future__ import annotations

import httpx

from tests.e2e.harness import sim_stats
from tests.hostile.proxy import Drip, EchoHeaders, HugeBody, InflatePagination, RewriteUrls

CATALOGS = "marketplace-software-catalogs/"


def _make_catalog(api_url: str, token: str) -> None:
    body = {"name": "proxy-check", "version": "1", "catalog_type": "binary_runtime"}
    answer = httpx.post(
        api_url + CATALOGS, json=body, headers={"Authorization": f"Token {token}"}, timeout=10
    )
    assert answer.status_code == 201, answer.text


def test_an_honest_proxy_forwards_and_names_itself(sim, hostile):
    server = sim()
    proxy = hostile(server)
    _make_catalog(proxy.api_url, server.staff_token)
    listing = httpx.get(proxy.api_url + CATALOGS, timeout=10)
    assert listing.status_code == 200
    assert listing.json()[0]["url"].startswith(proxy.base_url + "/api/")


def test_rewritten_urls_name_the_recorder(sim, hostile, recorder):
    server = sim()
    proxy = hostile(server, RewriteUrls(recorder.base_url))
    _make_catalog(server.api_url, server.staff_token)
    listing = httpx.get(proxy.api_url + CATALOGS, params={"page_size": 1}, timeout=10)
    assert listing.json()[0]["url"].startswith(recorder.base_url + "/api/")
    httpx.patch(listing.json()[0]["url"], json={}, headers={"Authorization": "Token x"})
    assert [(r.method, r.headers["Authorization"]) for r in recorder.requests] == [
        ("PATCH", "Token x")
    ]


def test_inflated_pagination_claims_a_billion(sim, hostile):
    server = sim()
    proxy = hostile(server, InflatePagination())
    answer = httpx.get(proxy.api_url + CATALOGS, timeout=10)
    assert answer.headers["x-result-count"] == "999999999"
    assert "page=999999999" in answer.links["last"]["url"]


def test_a_huge_body_streams_valid_json(sim, hostile):
    proxy = hostile(sim(), HugeBody(3))
    with httpx.stream("GET", proxy.api_url + CATALOGS, timeout=10) as answer:
        size = sum(len(chunk) for chunk in answer.iter_bytes())
    assert size == 3 * (1 << 20) + 2


def test_writes_are_answered_with_the_request_headers(sim, hostile):
    server = sim()
    proxy = hostile(server, EchoHeaders())
    answer = httpx.post(
        proxy.api_url + CATALOGS, json={}, headers={"Authorization": "Token s3cr3t"}, timeout=10
    )
    assert answer.status_code == 400 and "Token s3cr3t" in answer.text
    assert sim_stats(server)["requests"].get("POST") is None


def test_a_dripping_server_sends_a_byte_at_a_time(sim, hostile):
    proxy = hostile(sim(), Drip(0.01))
    with httpx.stream("GET", proxy.api_url + CATALOGS, timeout=10) as answer:
        sizes = [len(chunk) for chunk in answer.iter_raw()]
    assert len(sizes) > 1 and max(sizes) <= 2
