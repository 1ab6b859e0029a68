"""A request as the app sees it, and DRF's JSONParser for its body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from waldur_sim.responses import JSON_TYPE, HttpError, detail


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str  # the request target as sent: path and query
    headers: Mapping[str, str]  # lower-case names
    body: bytes = b""
    server_host: str = "127.0.0.1"  # used when the request has no Host header


def parse_body(request: Request) -> Any:
    """DRF's JSONParser: no body is `{}`; other media types 415; bad JSON 400."""
    if not request.body:
        return {}
    content_type = request.headers.get("content-type", "")
    if content_type.partition(";")[0].strip().lower() != JSON_TYPE:
        message = f'Unsupported media type "{content_type}" in request.'
        raise HttpError(detail(415, message))
    try:
        return json.loads(request.body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError) as exc:
        raise HttpError(detail(400, f"JSON parse error - {exc}")) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Out of range float values are not JSON compliant: {name!r}")
