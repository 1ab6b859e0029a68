"""The HTTP client's retry, error and pagination rules, against scripted transports.

(The end-to-end tests use the real waldur-sim; these pin down the rules one answer at a time.)
"""

import httpx
import pytest

from reconciler.core.errors import ApiError, AuthError, ConfigError, OutcomeUnknown
from reconciler.core.model import Kind
from reconciler.core.secret import Secret
from reconciler.remote.client import ClientConfig, WaldurClient
from reconciler.remote.responses import retry_after_seconds

TOKEN = "canary-token-0123456789abcdef"


def client_for(handler, **kw) -> tuple[WaldurClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request, len(seen))

    config = ClientConfig(
        api_url="http://127.0.0.1:9/api/",
        token=Secret(TOKEN),
        backoff_seconds=0.001,
        max_retry_seconds=5,
        **kw,
    )
    return WaldurClient(config, transport=httpx.MockTransport(record)), seen


def test_retries_busy_answers_then_succeeds_and_sends_the_token():
    def handler(request, n):
        if n < 3:
            return httpx.Response(503, headers={"Retry-After": "0"}, json={"detail": "busy"})
        return httpx.Response(200, json={"ok": True})

    client, seen = client_for(handler)
    assert client.get_json(client.collection_url(Kind.CATALOG)) == {"ok": True}
    assert len(seen) == 3 and client.stats.retries == 2
    assert seen[0].headers["authorization"] == f"Token {TOKEN}"


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_never_retried(status):
    client, seen = client_for(lambda r, n: httpx.Response(status, json={"detail": "no"}))
    with pytest.raises(ApiError) as info:
        client.get_json(client.collection_url(Kind.CATALOG))
    assert len(seen) == 1 and info.value.status == status
    assert isinstance(info.value, AuthError) == (status in (401, 403))


def test_a_500_is_retried_at_most_twice():
    client, seen = client_for(lambda r, n: httpx.Response(500, text="<html>boom</html>"))
    with pytest.raises(ApiError) as info:
        client.create(Kind.VERSION, {"version": "1"})
    assert len(seen) == 3
    assert "non-JSON body" in str(info.value) and info.value.status == 500


def test_post_without_an_answer_is_not_resent_but_reported_unknown():
    def handler(request, n):
        raise httpx.ReadTimeout("timed out", request=request)

    client, seen = client_for(handler)
    with pytest.raises(OutcomeUnknown):
        client.create(Kind.PACKAGE, {"name": "x"})
    assert len(seen) == 1


def test_gateway_error_on_post_is_unknown_but_on_get_is_retried():
    client, seen = client_for(lambda r, n: httpx.Response(502 if n == 1 else 200, json=[]))
    with pytest.raises(OutcomeUnknown):
        client.create(Kind.PACKAGE, {"name": "x"})
    assert client.get_json(client.collection_url(Kind.PACKAGE)) == []
    assert len(seen) == 2


def test_retry_after_http_date_and_seconds():
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == 10.0
    assert retry_after_seconds("soon") is None


def test_plain_http_to_a_remote_host_is_refused_without_opt_in():
    with pytest.raises(ConfigError, match="allow-insecure-http"):
        WaldurClient(ClientConfig(api_url="http://waldur.example.org/api/"))
    WaldurClient(ClientConfig(api_url="http://waldur.example.org/api/", allow_insecure_http=True))
    assert WaldurClient(ClientConfig(api_url="https://w.example.org")).api_url == (
        "https://w.example.org/api/"
    )


def test_redirects_are_not_followed():
    client, seen = client_for(
        lambda r, n: httpx.Response(302, headers={"Location": "https://evil.example/api/"})
    )
    with pytest.raises(ApiError, match="not followed"):
        client.get_json(client.collection_url(Kind.CATALOG))
    assert len(seen) == 1


def test_a_rejected_token_is_said_plainly_never_as_a_python_repr():
    client, _ = client_for(lambda r, n: httpx.Response(401, json={"detail": "Invalid token."}))
    with pytest.raises(AuthError) as info:
        client.me()
    assert str(info.value) == (
        "the server rejected the token (HTTP 401: Invalid token.); "
        "check WALDUR_API_TOKEN or --token-file"
    )


def test_error_bodies_show_as_json_not_as_python():
    body = {"name": ["This field may not be blank."]}
    client, _ = client_for(lambda r, n: httpx.Response(400, json=body))
    with pytest.raises(ApiError) as info:
        client.create(Kind.CATALOG, {"name": ""})
    assert '{"name": ["This field may not be blank."]}' in str(info.value)
    assert "{'name'" not in str(info.value)


def test_a_500_to_a_write_of_a_refused_kind_is_not_retried():
    client, seen = client_for(lambda r, n: httpx.Response(500, text="<html>boom</html>"))
    with pytest.raises(ApiError):
        client.create(Kind.VERSION, {"version": "1"}, give_up_500=lambda: True)
    assert len(seen) == 1


def test_token_never_in_reprs_or_errors():
    client, _ = client_for(lambda r, n: httpx.Response(401, json={"detail": "Invalid token."}))
    with pytest.raises(AuthError) as info:
        client.me()
    assert TOKEN not in str(info.value) and TOKEN not in repr(client.config)


def paged(items: list[dict], page_size: int, shrink_after: int | None = None):
    """A server listing `items` with Waldur's headers; optionally the count changes midway."""

    def handler(request, n):
        page = int(request.url.params.get("page", 1))
        total = len(items) - (1 if shrink_after and n > shrink_after else 0)
        chunk = items[(page - 1) * page_size : page * page_size]
        last = max(1, -(-total // page_size))
        base = "http://127.0.0.1:9/api/x/"
        link = f'<{base}>; rel="first", <{base}?page={last}>; rel="last"'
        return httpx.Response(200, json=chunk, headers={"X-Result-Count": str(total), "Link": link})

    return handler


def test_listing_reads_every_page():
    items = [{"uuid": f"{i:032x}"} for i in range(25)]
    client, seen = client_for(paged(items, 10))
    listing = client.list_all(Kind.TARGET)
    assert listing.complete and listing.items == items and listing.requests == 3
    assert {r.url.params["page_size"] for r in seen} == {"300"}


def test_listing_that_changes_midway_is_read_again_then_marked_incomplete():
    items = [{"uuid": f"{i:032x}"} for i in range(25)]
    client, _ = client_for(paged(items, 10, shrink_after=1))
    listing = client.list_all(Kind.TARGET)
    assert not listing.complete and "count" in listing.reason
    assert listing.requests == 9  # three attempts of three pages


@pytest.mark.parametrize(
    "url",
    [
        "http://evil.example/api/marketplace-software-packages/",
        "https://127.0.0.1:9/api/marketplace-software-packages/",  # another scheme
        "http://127.0.0.1:10/api/marketplace-software-packages/",  # another port
        "http://127.0.0.1:9/other/marketplace-software-packages/",  # outside the path
        "http://127.0.0.1:9/api/../admin/",
        "http://127.0.0.1:9/api/%2e%2e/admin/",
    ],
)
def test_a_url_outside_the_api_url_is_refused_unsent(url):
    client, seen = client_for(lambda r, n: httpx.Response(200, json={}))
    with pytest.raises(ApiError, match="is not under the configured API URL"):
        client.patch(url, {"description": "x"})
    assert seen == []
    client.patch("http://127.0.0.1:9/api/marketplace-software-packages/ab/", {})
    assert len(seen) == 1


def test_object_urls_are_built_from_uuids_only():
    client, _ = client_for(lambda r, n: httpx.Response(200, json={}))
    uuid = "0123456789abcdef0123456789ABCDEF"
    assert client.detail_url(Kind.PACKAGE, uuid) == (
        "http://127.0.0.1:9/api/marketplace-software-packages/0123456789abcdef0123456789abcdef/"
    )
    for bad in ("../users/1", "x" * 32, "", "None"):
        with pytest.raises(ApiError, match="malformed uuid"):
            client.detail_url(Kind.PACKAGE, bad)


def _listing(items: list[dict], headers: dict[str, str]):
    return lambda r, n: httpx.Response(200, json=items, headers=headers)


@pytest.mark.parametrize(
    ("items", "headers", "message"),
    [
        ([{"uuid": "a"}] * 301, {"X-Result-Count": "301"}, "a page of 301 items, but 300"),
        ([], {"X-Result-Count": "5"}, "X-Result-Count 5, but the first page is empty"),
        (
            [{"uuid": "a"}],
            {"X-Result-Count": "1", "Link": '<http://127.0.0.1:9/api/x/?page=7>; rel="last"'},
            'a "last" link to page 7, but X-Result-Count 1 fits on the first page',
        ),
        ([{"uuid": "a"}], {"X-Result-Count": "2000000"}, "more than --max-list-objects"),
        ({"detail": "x"}, {}, "something else than a list of objects"),
    ],
)
def test_a_listing_that_cannot_be_true_is_refused_after_one_request(items, headers, message):
    client, seen = client_for(_listing(items, headers))
    with pytest.raises(ApiError, match=message):
        client.list_all(Kind.PACKAGE)
    assert len(seen) == 1


def test_a_later_page_larger_than_the_first_is_refused():
    def handler(request, n):
        page = int(request.url.params.get("page", 1))
        items = [{"uuid": f"{page}-{i}"} for i in range(10 if page == 1 else 11)]
        return httpx.Response(200, json=items, headers={"X-Result-Count": "20"})

    client, _ = client_for(handler)
    with pytest.raises(ApiError, match="page 2 holds 11 items, pages hold 10"):
        client.list_all(Kind.PACKAGE)


def test_answers_past_the_size_cap_are_refused():
    client, _ = client_for(lambda r, n: httpx.Response(200, content=b"[" + b" " * 2000 + b"]"))
    client.config = ClientConfig(api_url=client.config.api_url, max_body_bytes=1000)
    with pytest.raises(ApiError, match="past --max-body-mib"):
        client.get_json(client.collection_url(Kind.CATALOG))
