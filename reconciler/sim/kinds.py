"""The four object kinds as waldur-sim stores and routes them, and the URL router.

Waldur's URL patterns are DRF router patterns: `/api/<segment>/` for a collection and
`/api/<segment>/<lookup>/` for a detail, where the lookup is anything without `/` or `.`
(a malformed uuid still routes to the detail view and answers 404 there). `resolve` is used
both to dispatch requests and to resolve hyperlinks sent in request bodies, exactly as DRF's
`HyperlinkedRelatedField` resolves them with Django's `resolve()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum


@dataclass(frozen=True, slots=True)
class KindInfo:
    """One object kind: its table, its endpoint and its place in the tree."""

    name: str  # "package"
    alias: str  # table alias in SQL: "p"
    segment: str  # "marketplace-software-packages"
    model: str  # Django model name used in 404 bodies: "SoftwarePackage"
    parent: str | None  # parent kind name
    parent_column: str | None  # foreign key column to the parent

    @property
    def table(self) -> str:
        return self.name


CATALOG = KindInfo("catalog", "c", "marketplace-software-catalogs", "SoftwareCatalog", None, None)
PACKAGE = KindInfo(
    "package", "p", "marketplace-software-packages", "SoftwarePackage", "catalog", "catalog_id"
)
VERSION = KindInfo(
    "version", "v", "marketplace-software-versions", "SoftwareVersion", "package", "package_id"
)
TARGET = KindInfo(
    "target", "t", "marketplace-software-targets", "SoftwareTarget", "version", "version_id"
)

#: Kinds in tree order (a parent before its children).
KINDS: dict[str, KindInfo] = {k.name: k for k in (CATALOG, PACKAGE, VERSION, TARGET)}
_BY_SEGMENT: dict[str, KindInfo] = {k.segment: k for k in KINDS.values()}

#: Kind labels that fault injection and statistics know besides the four object kinds.
USER_KIND = "user"
ROOT_KIND = "root"


class View(Enum):
    ROOT = "root"  # /api/
    ME = "me"  # /api/users/me/
    VERSION = "version"  # /api/version/
    STATS = "stats"  # /api/_sim/stats/ (sim-only)
    COLLECTION = "collection"
    DETAIL = "detail"


@dataclass(frozen=True, slots=True)
class Route:
    view: View
    kind: KindInfo | None = None
    lookup: str = ""

    @property
    def label(self) -> str:
        """The kind label used by fault aiming and statistics."""
        if self.kind is not None:
            return self.kind.name
        return USER_KIND if self.view is View.ME else ROOT_KIND


_API_PATH = re.compile(r"^/api/(?P<segment>[^/]+)/(?:(?P<lookup>[^/.]+)/)?$")
_FIXED = {
    "/api/": Route(View.ROOT),
    "/api/users/me/": Route(View.ME),
    "/api/version/": Route(View.VERSION),
    "/api/_sim/stats/": Route(View.STATS),
}


def resolve(path: str) -> Route | None:
    """The route of a decoded URL path, or None when nothing matches (Django's Resolver404)."""
    fixed = _FIXED.get(path)
    if fixed is not None:
        return fixed
    match = _API_PATH.match(path)
    if match is None:
        return None
    kind = _BY_SEGMENT.get(match["segment"])
    if kind is None:
        return None
    lookup = match["lookup"]
    if lookup is None:
        return Route(View.COLLECTION, kind)
    return Route(View.DETAIL, kind, lookup)


def collection_url(base: str, kind: KindInfo) -> str:
    return f"{base}/api/{kind.segment}/"


def detail_url(base: str, kind: KindInfo, uuid_hex: str) -> str:
    return f"{base}/api/{kind.segment}/{uuid_hex}/"
