"""String functions on URLs, shared by every layer (no HTTP here)."""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit, urlunsplit

_UUID = re.compile(r"[0-9a-f]{32}")


def object_url(collection: str, uuid: object) -> str | None:
    """An object's URL: its `collection`'s URL (built from the API URL) and its uuid, or None
    when the uuid is not one (32 hex digits, hyphens allowed). Never the server's ``url``
    field: the checked uuid is all of the server's that goes into a path, so no answer can
    add a path segment or a query to the writes that follow."""
    plain = str(uuid).replace("-", "").lower()
    return f"{collection}{plain}/" if _UUID.fullmatch(plain) else None


def uuid_of(url: str) -> str:
    """The uuid at the end of a detail URL (`…/marketplace-software-packages/<uuid>/`)."""
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def public_url(url: str) -> str:
    """`url` as it may be written into a file: no ``user:password@``, query or fragment."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
