"""The client's pure rules about URLs and answers: the API URL's form, when plain HTTP is
allowed, Retry-After, how an error body is shown, how many pages a listing has, and how a
listing page is parsed."""

from __future__ import annotations

import email.utils
import json as jsonlib
import math
import re
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import orjson

from reconciler.core.errors import ConfigError
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


def result_count(response: httpx.Response) -> int | None:
    value = response.headers.get("x-result-count")
    return int(value) if value and value.isdigit() else None


def last_page(response: httpx.Response) -> int:
    """The page number of the `last` link, or, without one, a count-based estimate of 1."""
    last = response.links.get("last", {}).get("url")
    if not last:
        return 1 if "next" not in response.links else pages_from_count(response)
    page = parse_qs(urlsplit(last).query).get("page", ["1"])[0]
    return int(page) if page.isdigit() else 1


def pages_from_count(response: httpx.Response) -> int:
    total = result_count(response) or 0
    per_page = max(len(response.json()), 1)
    return max(1, math.ceil(total / per_page))


def json_body(response: httpx.Response) -> Any:
    """A listing page's JSON. orjson parses a 1.3 MB page of embedded EESSI trees in a third
    of the standard library's time (the bench README has the numbers); what orjson refuses
    and the standard library reads (NaN, integers beyond 64 bits) goes to the latter."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.json()
