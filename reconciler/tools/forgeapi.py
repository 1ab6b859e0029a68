"""A forge's REST API, as the CI tools use it: JSON in and out, ``Link: rel="next"``
pagination, downloads that follow redirects by hand, and the errors the tools exit with.

The token goes only into request headers and only to the API's own host: a ``next`` link or
a path naming another scheme, host or port is refused before anything is sent, and a
redirected download (artifacts live in object storage) goes on without the token.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx

TIMEOUT = 30.0


class ForgeError(Exception):
    """Something the forge answered or lacks; exit 1 unless `exit_code` says otherwise."""

    exit_code = 1


class NothingReviewed(ForgeError):
    """No reviewed plan for this commit: refuse (exit 4, as a stale saved plan)."""

    exit_code = 4


@dataclass
class Api:
    """A small REST client: JSON in and out, ``Link: rel="next"`` pagination (both forges)."""

    base: str
    headers: dict[str, str]
    client: httpx.Client

    def url(self, path: str) -> str:
        return path if "://" in path else self.base.rstrip("/") + "/" + path.lstrip("/")

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        if _origin(self.url(path)) != _origin(self.base):
            raise ForgeError(
                f"{method} {_shown(self.url(path))}: not the forge's API host "
                f"({_shown(self.base)}); not sent, so the token stays there"
            )
        try:
            response = self.client.request(
                method, self.url(path), headers=self.headers, json=body, params=params or None
            )
        except httpx.HTTPError as exc:
            raise ForgeError(f"{method} {self.url(path)}: {exc}") from None
        if response.status_code >= 400:
            raise ForgeError(
                f"{method} {self.url(path)}: HTTP {response.status_code}: {response.text[:300]}"
            )
        return response

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, **params).json()

    def send(self, method: str, path: str, body: Any) -> Any:
        return self.call(method, path, body).json()

    def pages(self, path: str, key: str = "", **params: Any) -> Iterator[Any]:
        """Every item of a listing: the answer's list, or its `key` (GitHub's artifacts)."""
        url: str | None = path
        query: dict[str, Any] = {**params, "per_page": 100}
        for _ in range(100):  # at most 10,000 items: enough for comments, issues, artifacts
            if url is None:
                return
            response = self.call("GET", url, **query)
            data = response.json()
            yield from data[key] if key else data
            url = response.links.get("next", {}).get("url")
            query = {}  # the next link carries the query

    def download(self, path: str) -> bytes:
        """GET, following redirects by hand: the token goes to the API's host only."""
        url = self.url(path)
        origin = urlsplit(url)[:2]
        for _ in range(5):
            headers = self.headers if urlsplit(url)[:2] == origin else {}
            try:
                response = self.client.get(url, headers=headers)
            except httpx.HTTPError as exc:
                raise ForgeError(f"GET {url}: {exc}") from None
            if response.is_redirect:
                url = urljoin(url, response.headers["location"])
                continue
            if response.status_code >= 400:
                raise ForgeError(f"GET {url}: HTTP {response.status_code}")
            return response.content
        raise ForgeError(f"GET {path}: too many redirects")


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    try:
        port = parts.port or default
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


def _shown(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"


def new_client() -> httpx.Client:
    return httpx.Client(timeout=TIMEOUT, follow_redirects=False)


def write_file(out: Path, data: bytes) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)


def member_of(data: bytes, name: str) -> bytes:
    """The file `name` (or the only file) of a zip archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/")]
            chosen = next((n for n in names if Path(n).name == Path(name).name), None)
            if chosen is None and len(names) == 1:
                chosen = names[0]
            if chosen is None:
                raise ForgeError(f"the artifact holds no {name} (it holds {', '.join(names)})")
            return archive.read(chosen)
    except zipfile.BadZipFile:
        raise ForgeError("the artifact is not a zip archive") from None
