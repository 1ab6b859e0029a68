"""String functions on URLs, shared by every layer (no HTTP here)."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit


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
