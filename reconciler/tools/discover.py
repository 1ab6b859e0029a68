"""`reconcile discover`: what the server's own loaders offer (``GET …/discover/``, staff).

Upstream answers a plain array, always EESSI then Spack: ``{name, catalog_type,
latest_version (null when the source could not be read), existing, existing_version,
update_available}``. ``update_available`` is a string inequality with the most recently
modified row of that name and type (not "newer than"), and ``existing`` says only that a row
exists, not that it is loaded. The server downloads both sources to answer, so it is slow.

A server without the action (before 8.0.2) answers 404 (or 405): said plainly, exit 1.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from reconciler.core.errors import ApiError, ReconcileError
from reconciler.core.model import Kind, loader_named
from reconciler.remote.client import WaldurClient


@dataclass(frozen=True, slots=True)
class Offer:
    name: str
    catalog_type: str
    loader: str
    latest_version: str | None
    existing: bool
    existing_version: str | None
    update_available: bool


def discover(client: WaldurClient) -> list[Offer]:
    url = f"{client.collection_url(Kind.CATALOG)}discover/"
    try:
        body = client.get_json(url)
    except ApiError as exc:
        if exc.status in (404, 405):
            raise ReconcileError(
                f"this server has no discover action (HTTP {exc.status}): Waldur 8.0.2 or "
                "later tells what its catalog loaders offer"
            ) from None
        raise
    if not isinstance(body, list):
        raise ApiError(f"discover answered {type(body).__name__}, not a list")
    return [_offer(item) for item in body if isinstance(item, Mapping)]


def _offer(item: Mapping[str, Any]) -> Offer:
    name, catalog_type = str(item.get("name", "")), str(item.get("catalog_type", ""))
    loader = loader_named(name, catalog_type) or ""
    latest, existing = item.get("latest_version"), item.get("existing_version")
    return Offer(
        name=name,
        catalog_type=catalog_type,
        loader=loader,
        latest_version=None if latest is None else str(latest),
        existing=bool(item.get("existing")),
        existing_version=None if existing is None else str(existing),
        update_available=bool(item.get("update_available")),
    )


def newer(offers: Sequence[Offer]) -> list[Offer]:
    """The offers whose source has a version the server has no row of (what a drift check
    reports)."""
    return [o for o in offers if o.update_available and o.latest_version is not None]


def render_json(offers: Sequence[Offer]) -> str:
    return json.dumps({"loaders": [asdict(o) for o in offers]}, indent=2) + "\n"


#: The table's columns (`reconciler.output.table` renders it, escaped for each channel).
HEAD = ("loader", "catalog", "latest in the source", "on the server", "update")
#: Above the table in Markdown (the drift issue).
TITLE = "Waldur's catalog loaders"
#: A value from the server (escaped whole), or ``(template, *values)``: the command's own
#: words with the values in them (`reconciler.output.table.Cell`).
Cell = str | tuple[str, ...]


def rows(offers: Sequence[Offer]) -> list[tuple[Cell, ...]]:
    """One row of `HEAD` per offer: the server's values, and this command's own words."""
    found: list[tuple[Cell, ...]] = []
    for o in offers:
        found.append(
            (
                o.loader or ("?",),
                ("{} [{}]", o.name, o.catalog_type),
                o.latest_version or ("unknown (source unreachable)",),
                (o.existing_version or ("?",)) if o.existing else ("none",),
                ("yes",) if o.update_available else ("no",),
            )
        )
    return found


def summary(offers: Sequence[Offer]) -> Cell:
    """The line under the table, the newer versions in it."""
    found = newer(offers)
    if not found:
        return ("No updates: each source's latest version is the server's newest row.",)
    what = ", ".join(f"{o.name} {o.latest_version}" for o in found)
    return (
        "Update available ({}): the source's latest version differs from the server's newest "
        "row of that catalog.",
        what,
    )
