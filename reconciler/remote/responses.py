"""The client's rules about URLs and answers: the API URL's form, when plain HTTP is allowed,
Retry-After, how an error body is shown, how much of an answer is read, and how a listing
page is parsed."""

from __future__ import annotations

import email.utils
import json as jsonlib
import re
import time
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx
import orjson

from reconciler.core.errors import ApiError, ConfigError
from reconciler.core.urls import is_loopback


def normalise_api_url(url: str) -> str:
    url = url.strip()
    if not url:
        raise ConfigError(
            "no API URL: set --api-url or WALDUR_API_URL (e.g. https://waldur.example.org/api/)"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"API URL {url!r} is not an http(s) URL")
    if not parts.path.rstrip("/").endswith("/api"):
        url = url.rstrip("/") + "/api/"
    return url if url.endswith("/") else url + "/"


def check_transport_security(api_url: str, allow_insecure_http: bool) -> None:
    parts = urlsplit(api_url)
    if parts.scheme == "http" and not is_loopback(parts.hostname or "") and not allow_insecure_http:
        raise ConfigError(
            f"refusing to send the token over plain http to {parts.hostname}: use https, "
            "or pass --allow-insecure-http if you really mean it"
        )


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return ("", "", -1)
    default = 443 if parts.scheme == "https" else 80
    return (parts.scheme, (parts.hostname or "").lower(), default if port is None else port)


def under(url: str, api_url: str) -> bool:
    """Whether `url` is under `api_url`: exactly its scheme, host and port, and a path under
    its path with no ``.`` or ``..`` segment (raw or percent-encoded)."""
    path = urlsplit(url).path
    return (
        _origin(url) == _origin(api_url)
        and path.startswith(urlsplit(api_url).path)
        and not {".", ".."} & set(unquote(path).split("/"))
    )


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse ``Retry-After`` (delta seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def readable(body: object) -> str:
    """An error body for a message: DRF's ``{"detail": …}`` as its text, other JSON as JSON
    (never a Python repr), text as is."""
    if isinstance(body, dict) and set(body) == {"detail"}:
        return str(body["detail"])
    if isinstance(body, dict | list):
        return jsonlib.dumps(body, ensure_ascii=False)
    return str(body)


def detail(response: httpx.Response) -> object:
    """The error body: JSON as is; anything else summarised on one line (an HTML page by its
    title), so that no page of markup lands in a message."""
    try:
        return response.json()
    except ValueError:
        text = response.text
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        summary = " ".join((title.group(1) if title else text).split())
        if len(summary) > 120:
            summary = summary[:119] + "…"
        kind = response.headers.get("content-type", "no content type").split(";")[0]
        return f"non-JSON body ({kind}): {summary}"


MIB = 1 << 20


def receive(http: httpx.Client, request: httpx.Request, limit: int) -> httpx.Response:
    """Send `request` and read its answer streamed, up to `limit` bytes (decoded): a larger
    answer is an `ApiError` (not retried) and is not read further; the answer is returned
    read, as `httpx.Client.send` without ``stream`` returns it."""
    response = http.send(request, stream=True)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(request, f"announced {int(declared) // MIB} MiB", limit)
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(request, "kept coming", limit)
            chunks.append(chunk)
    finally:
        response.close()
    # What `Response.read()` does at the end, without a second pass over the chunks.
    response._content = b"".join(chunks)
    return response


def _too_large(request: httpx.Request, what: str, limit: int) -> ApiError:
    path = request.url.path
    return ApiError(
        f"{request.method} {path}: the answer {what} past --max-body-mib {limit // MIB}; "
        "not read further",
        method=request.method,
        path=path,
    )


def json_body(response: httpx.Response) -> Any:
    """A listing page's JSON. orjson parses a page of embedded EESSI trees in a third of the
    standard library's time (docs/explanation/performance.md); what orjson refuses and the
    standard library reads (NaN, integers beyond 64 bits) goes to the latter."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()
