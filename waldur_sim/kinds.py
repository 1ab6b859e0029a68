"""The four object kinds as waldur-sim stores and routes them, and the URL router.

Waldur's URL patterns are DRF router patterns: `/api/<segment>/` for a collection,
`/api/<segment>/<lookup>/` for a detail and `/api/<segment>/<lookup>/<action>/` for a detail
action, where the lookup is anything without `/` or `.` (a malformed uuid still routes to the
detail view and answers 404 there). Besides the four kinds the sim routes provider offerings
(list, detail and their three software-catalog actions) and a catalog's `cpu_targets`.
`resolve` is used both to dispatch requests and to resolve hyperlinks sent in request bodies,
exactly as DRF's `HyperlinkedRelatedField` resolves them with Django's `resolve()`.
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
OFFERING_KIND = "offering"
USER_KIND = "user"
ROOT_KIND = "root"

OFFERINGS_SEGMENT = "marketplace-provider-offerings"
#: The detail actions of a provider offering the sim serves.
OFFERING_ACTIONS = ("add_software_catalog", "update_software_catalog", "remove_software_catalog")
CPU_TARGETS = "cpu_targets"
#: The catalog actions that drive Waldur's loaders (upstream API 8.0.2+; see `loaders/`):
#: two on the collection, one on a catalog.
CATALOG_LIST_ACTIONS = ("discover", "import_catalog")
CATALOG_DETAIL_ACTIONS = ("update_catalog",)


class View(Enum):
    ROOT = "root"  # /api/
    ME = "me"  # /api/users/me/
    VERSION = "version"  # /api/version/
    STATS = "stats"  # /api/_sim/stats/ (sim-only)
    COLLECTION = "collection"
    DETAIL = "detail"
    CPU_TARGETS = "cpu_targets"  # /api/marketplace-software-catalogs/<uuid>/cpu_targets/
    OFFERINGS = "offerings"  # /api/marketplace-provider-offerings/
    OFFERING = "offering"  # /api/marketplace-provider-offerings/<uuid>/
    OFFERING_ACTION = "offering_action"  # /api/marketplace-provider-offerings/<uuid>/<action>/
    CATALOG_ACTION = "catalog_action"  # …/marketplace-software-catalogs/[<uuid>/]<action>/
    SIM_LOADERS = "sim_loaders"  # /api/_sim/loaders/ (sim-only: the loaders' sources)


#: The views of provider offerings (counted and faulted as kind `offering`).
OFFERING_VIEWS = frozenset({View.OFFERINGS, View.OFFERING, View.OFFERING_ACTION})


@dataclass(frozen=True, slots=True)
class Route:
    view: View
    kind: KindInfo | None = None
    lookup: str = ""
    action: str = ""  # the action of an OFFERING_ACTION or CATALOG_ACTION route

    @property
    def label(self) -> str:
        """The kind label used by fault aiming and statistics."""
        if self.kind is not None:
            return self.kind.name
        if self.view in OFFERING_VIEWS:
            return OFFERING_KIND
        return USER_KIND if self.view is View.ME else ROOT_KIND

    def without_catalog_actions(self) -> Route | None:
        """How a build without the catalog actions routes this path: a list action's path is a
        catalog detail (its name the lookup), a detail action's path matches nothing, and
        neither does the sim's `/api/_sim/loaders/` (there are no loaders to drive)."""
        if self.view is View.SIM_LOADERS:
            return None
        if self.view is not View.CATALOG_ACTION:
            return self
        return Route(View.DETAIL, CATALOG, self.action) if not self.lookup else None


_API_PATH = re.compile(r"^/api/(?P<segment>[^/]+)/(?:(?P<lookup>[^/.]+)/)?$")
_ACTION_PATH = re.compile(r"^/api/(?P<segment>[^/]+)/(?P<lookup>[^/.]+)/(?P<action>[^/.]+)/$")
_FIXED = {
    "/api/": Route(View.ROOT),
    "/api/users/me/": Route(View.ME),
    "/api/version/": Route(View.VERSION),
    "/api/_sim/stats/": Route(View.STATS),
    "/api/_sim/loaders/": Route(View.SIM_LOADERS),
}


def resolve(path: str) -> Route | None:
    """The route of a decoded URL path, or None when nothing matches (Django's Resolver404)."""
    fixed = _FIXED.get(path)
    if fixed is not None:
        return fixed
    match = _API_PATH.match(path)
    if match is None:
        return _resolve_action(path)
    if match["segment"] == OFFERINGS_SEGMENT:
        lookup = match["lookup"]
        return Route(View.OFFERINGS) if lookup is None else Route(View.OFFERING, lookup=lookup)
    kind = _BY_SEGMENT.get(match["segment"])
    if kind is None:
        return None
    lookup = match["lookup"]
    if kind is CATALOG and lookup in CATALOG_LIST_ACTIONS:  # DRF routes list actions first
        return Route(View.CATALOG_ACTION, CATALOG, action=lookup)
    if lookup is None:
        return Route(View.COLLECTION, kind)
    return Route(View.DETAIL, kind, lookup)


def _resolve_action(path: str) -> Route | None:
    match = _ACTION_PATH.match(path)
    if match is None:
        return None
    segment, lookup, action = match["segment"], match["lookup"], match["action"]
    if segment == OFFERINGS_SEGMENT and action in OFFERING_ACTIONS:
        return Route(View.OFFERING_ACTION, lookup=lookup, action=action)
    if segment == CATALOG.segment and action == CPU_TARGETS:
        return Route(View.CPU_TARGETS, CATALOG, lookup)
    if segment == CATALOG.segment and action in CATALOG_DETAIL_ACTIONS:
        return Route(View.CATALOG_ACTION, CATALOG, lookup, action)
    return None


def collection_url(base: str, kind: KindInfo) -> str:
    return f"{base}/api/{kind.segment}/"


def detail_url(base: str, kind: KindInfo, uuid_hex: str) -> str:
    return f"{base}/api/{kind.segment}/{uuid_hex}/"
