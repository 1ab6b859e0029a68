"""HTTP responses as waldur-sim answers them: DRF JSON bodies and the HTML pages of Django/nginx."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

JSON_TYPE = "application/json"
HTML_TYPE = "text/html; charset=utf-8"


@dataclass(slots=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str | None = JSON_TYPE
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False  # close the connection without answering (fault injection)
    delay: float = 0.0  # seconds to hold the answer back (latency, stalls)


class HttpError(Exception):
    """Stop handling a request and answer `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def encode_json(data: Any) -> bytes:
    """DRF's JSONRenderer: compact, UTF-8, U+2028/U+2029 escaped."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode("utf-8")


def json_response(status: int, data: Any, headers: list[tuple[str, str]] | None = None) -> Response:
    return Response(status, encode_json(data), JSON_TYPE, headers or [])


def detail(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    """DRF's exception body: `{"detail": message}`."""
    return json_response(status, {"detail": message}, headers)


def django_page(status: int, title: str, message: str = "") -> Response:
    """Django's plain error page (DEBUG off): 400, 404 for unknown URLs, 500. Django's template
    starts with a line break (sample 54 is the 500 byte for byte)."""
    html = (
        '\n<!doctype html>\n<html lang="en">\n<head>\n'
        f"  <title>{title}</title>\n</head>\n<body>\n"
        f"  <h1>{title}</h1><p>{message}</p>\n</body>\n</html>\n"
    )
    return Response(status, html.encode(), HTML_TYPE)


def server_error() -> Response:
    return django_page(500, "Server Error (500)")


def proxy_page(status: int) -> Response:
    """What a reverse proxy (nginx) in front of Waldur answers for 502/503/504."""
    title = f"{status} {HTTPStatus(status).phrase}"
    html = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return Response(status, html.encode(), HTML_TYPE)
