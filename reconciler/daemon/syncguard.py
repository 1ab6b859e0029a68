"""Who may ask the daemon for a run: the checks on ``POST /sync`` (the read-only pages have none).

A web page in an operator's browser can send a POST to the daemon's port (loopback included)
and, by DNS rebinding, make its own host name resolve to the daemon. So a POST /sync is
refused (403) when

- its ``Host`` is not one of the daemon's own: an IP address it listens on (any IP address
  when it listens on all of them, ``0.0.0.0`` or ``::``; every loopback address and
  ``localhost`` when it listens on loopback), or a name in ``RECONCILE_ALLOWED_HOSTS``
  (``HOST`` matches any port, ``HOST:PORT`` that port only). A rebinding page's requests
  always carry the page's own host name, which is none of these;
- it carries an ``Origin`` other than the ``Host`` it names (``null`` included), or a
  ``Sec-Fetch-Site`` other than ``same-origin`` and ``none``: a browser sent it for
  another site.

With ``RECONCILE_SYNC_TOKEN`` set, it must also carry ``Authorization: Bearer <token>``:
without one the answer is 401, with another 403. The port of ``Host`` is not compared with
the listen port: Services, ingresses and port-forwards change it.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from reconciler.core.urls import is_loopback

_WILDCARDS = ("", "0.0.0.0", "::")


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str


def split_host(value: str) -> tuple[str, str]:
    """``host:port`` / ``[v6]:port`` / ``host`` → (host, port), lower-cased, port may be ""."""
    value = value.strip().lower()
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        return host, rest[1:] if rest.startswith(":") else ""
    host, sep, port = value.rpartition(":")
    if sep and port.isdigit() and ":" not in host:
        return host, port
    return value, ""


@dataclass(frozen=True)
class SyncGuard:
    listen_host: str
    allowed_hosts: tuple[str, ...] = ()
    token: str = ""

    def own_host(self, header: str | None) -> bool:
        """Whether a ``Host`` header names this daemon (see the module's docstring)."""
        if not header:
            return False
        host, port = split_host(header)
        if host in self.allowed_hosts or (port and f"{host}:{port}" in self.allowed_hosts):
            return True
        listen = self.listen_host.strip("[]").lower()
        if host == listen or (is_loopback(listen) and is_loopback(host)):
            return True
        address = _address(host)
        if address is not None:
            return listen in _WILDCARDS or address == _address(listen)
        return False

    def check(self, headers: Mapping[str, str]) -> Refusal | None:
        """None when the request may trigger a run, else why not."""
        host = headers.get("Host")
        if not self.own_host(host):
            return Refusal(
                403,
                "POST /sync: the Host header names neither this daemon's address nor a name "
                "in RECONCILE_ALLOWED_HOSTS",
            )
        origin = headers.get("Origin")
        if origin is not None and not _same_origin(origin, host or ""):
            return Refusal(403, "POST /sync: a request from another site (Origin) is refused")
        site = headers.get("Sec-Fetch-Site")
        if site is not None and site.strip().lower() not in ("same-origin", "none"):
            return Refusal(403, "POST /sync: a request from another site is refused")
        if self.token:
            scheme, _, given = (headers.get("Authorization") or "").strip().partition(" ")
            if scheme.lower() != "bearer" or not given.strip():
                return Refusal(401, "POST /sync needs Authorization: Bearer <RECONCILE_SYNC_TOKEN>")
            if not hmac.compare_digest(given.strip().encode(), self.token.encode()):
                return Refusal(403, "POST /sync: wrong token")
        return None


def _address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _same_origin(origin: str, host: str) -> bool:
    parts = urlsplit(origin.strip())
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.strip().lower()
