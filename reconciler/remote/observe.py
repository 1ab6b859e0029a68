"""Read what the server has, for the declared catalogs, into the model.

A whole catalog costs one catalog listing plus its package pages (``page_size=300``), because
package responses embed their versions and each version's targets. Servers that do not embed
(older ones, or `waldur-sim --no-embed`) are read through the version listing of the catalog
(versions carry `package_name`, unique within a catalog) and one target listing per version.

The declared catalogs' reads are independent and run together (`--concurrency` of them at a
time; the client lets at most `--concurrency` requests be in flight in all, and reads the
later pages of each listing concurrently once its first page gave the count). Each catalog is
read into a reader of its own, which turns each package tree into records and drops it as
soon as it is read; the readers are merged in the order of the server's catalog listing, so
records, problems and the dialect seen come out the same whatever order the answers arrive in.

Every object's URL is built from the API URL and its uuid (`WaldurClient.detail_url`), never
taken from the server's ``url`` field: a server (or a reverse proxy that makes Django write
``http://`` links) cannot send the writes that follow to another place.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from reconciler.core import dialect as dialects
from reconciler.core.background import Background
from reconciler.core.errors import ApiError, ConfigError
from reconciler.core.loaders import LoadPhase, LoadState
from reconciler.core.log import get_logger
from reconciler.core.model import DEFAULT_CATALOG_TYPE, DesiredState, Key, Kind, ObservedState
from reconciler.remote.client import Listing, WaldurClient
from reconciler.remote.listing import PageSink
from reconciler.remote.records import Builder, values

log = get_logger("reconciler.observe")

EMBEDDED = "embedded"
PER_KIND = "per-kind listings"


@dataclass
class _Reader:
    """Reads listings and keeps their completeness; its `Builder` turns objects into records.

    One reader per declared catalog (plus one for the catalog listing), merged in a fixed
    order. Memory matters at catalog scale (a no-op of 100,000 targets must stay well under
    300 MB): each raw package tree is dropped as soon as it is read, only the first target's
    dialect is kept (not the targets), and a key the desired state also has is stored as the
    desired state's own `Key` object, so the two states share their keys.
    """

    client: WaldurClient
    build: Builder
    problems: list[str] = field(default_factory=list)
    requests: int = 0
    paths: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def listing(
        self, kind: Kind, sink: PageSink | None = None, **params: Any
    ) -> list[dict[str, Any]]:
        """One whole listing (or, with a `sink`, its pages handed to it as they arrive); safe
        to call from several threads (the no-embed path)."""
        return self.take(kind, params, self.client.list_all(kind, params, sink))

    def take(self, kind: Kind, params: Mapping[str, Any], result: Listing) -> list[dict[str, Any]]:
        """The items of a listing read; its requests and completeness are noted."""
        with self.lock:
            self.requests += result.requests
            if not result.complete:
                self.problems.append(f"{kind.label} listing {params or ''}: {result.reason}")
        return result.items

    def spawn(self) -> _Reader:
        """A reader for one catalog's subtree, sharing this one's desired keys."""
        return _Reader(self.client, self.build.fresh())

    def absorb(self, other: _Reader) -> None:
        """Take over what `other` read (a catalog's subtree: no key of it is here yet)."""
        self.build.records.update(other.build.records)
        self.build.duplicates.extend(other.build.duplicates)
        if self.build.dialect_seen is None:
            self.build.dialect_seen = other.build.dialect_seen
        self.problems.extend(other.problems)
        self.requests += other.requests
        self.paths |= other.paths


@contextmanager
def server_shaped(kind: Kind, catalog: Key) -> Iterator[None]:
    """Objects of `catalog`'s listing that are not of the shape Waldur sends (a list where an
    object belongs, a number where a list does) end the run as the server's fault, before
    anything is written, not as the reconciler's "internal error"."""
    try:
        yield
    except (AttributeError, TypeError, KeyError) as exc:  # raised by the server's data only
        raise ApiError(
            f"GET {kind.label} listing of catalog {catalog}: the server sent an object that "
            f"is not of the shape Waldur sends ({type(exc).__name__}: {exc}); the listing "
            "cannot be read, so the run stops here and nothing was written",
            method="GET",
        ) from None


class CatalogPrefetch:
    """The catalog listing, read in the background from the moment this is made: a plan's
    first request needs nothing from the desired files, so it goes out while they load."""

    def __init__(self, client: WaldurClient) -> None:
        self._read = Background(lambda: client.list_all(Kind.CATALOG, {}), "catalog-prefetch")

    def listing(self) -> Listing:
        return self._read.result()


def observe(
    client: WaldurClient,
    desired: DesiredState,
    api_dialect: str = "auto",
    catalogs: CatalogPrefetch | None = None,
) -> ObservedState:
    """Read the declared catalogs and everything under them from the server (the catalog
    listing from `catalogs` when it was sent early)."""
    urls = {kind: client.collection_url(kind) for kind in Kind if kind.in_tree}
    reader = _Reader(client, Builder({key.parts: key for key in desired.records}, urls))
    build = reader.build
    live_catalogs: dict[Key, Mapping[str, Any]] = {}
    listing = catalogs.listing() if catalogs else client.list_all(Kind.CATALOG, {})
    for obj in reader.take(Kind.CATALOG, {}, listing):
        parts = (
            str(obj.get("name", "")),
            str(obj.get("version", "")),
            str(obj.get("catalog_type") or DEFAULT_CATALOG_TYPE),
        )
        key = build.key(Kind.CATALOG, parts)
        if key not in desired.policies:
            continue
        uuid = str(obj.get("uuid"))
        build.add(key, values(Kind.CATALOG, obj), uuid, client.detail_url(Kind.CATALOG, uuid))
        live_catalogs[key] = obj
    loads: dict[Key, LoadState] = {}
    wanted: list[tuple[Key, Mapping[str, Any], bool]] = []
    for key, obj in live_catalogs.items():
        policy = desired.policies[key]
        if policy.absent:
            continue  # deleted whole; its subtree's size comes from the catalog's counts
        if policy.loader is not None:  # the loader owns the contents: only its row is read
            # the load's POST and polls go to the URL built from the uuid, never the row's own
            loads[key] = replace(LoadState.from_row(obj), url=build.records[key].url or "")
            if policy.loader.expect.need_contents and loads[key].phase is LoadPhase.OK:
                wanted.append((key, obj, True))
            continue
        wanted.append((key, obj, False))
    contents = _read_catalogs(reader, wanted)
    writes_targets = any(key.kind is Kind.TARGET for key in desired.records)
    chosen, reason = _choose_dialect(client, reader, api_dialect, writes_targets)
    complete = not reader.problems
    state = ObservedState(
        records=build.records,
        complete=complete,
        incomplete_reason="; ".join(reader.problems),
        dialect=chosen,
        dialect_reason=reason,
        requests=reader.requests,
        duplicates=build.duplicates,
        read_path=", ".join(sorted(reader.paths)) or EMBEDDED,
        catalog_sizes={key: _subtree_size(obj) for key, obj in live_catalogs.items()},
        loader_signs={
            key: sign for key, obj in live_catalogs.items() if (sign := loader_sign(obj))
        },
        loads=loads,
        loader_contents=contents,
        observed_at=dt.datetime.now(dt.UTC).isoformat(),
    )
    return state


def _read_catalogs(
    reader: _Reader, catalogs: list[tuple[Key, Mapping[str, Any], bool]]
) -> dict[Key, dict[str, frozenset[str]]]:
    """Read every catalog's subtree (or, for a loader's catalog, its contents: `True`), up to
    `--concurrency` catalogs at a time (and one more in this thread), each into a reader of
    its own; merge them in the given order. The first failure (in that order) is raised once
    every read has ended. Returns the loader catalogs' contents."""
    if not catalogs:
        return {}
    workers = max(reader.client.config.concurrency, 1)
    parts = [reader.spawn() for _ in catalogs]
    # This thread reads the first catalog while a pool reads the others: one catalog costs no
    # thread hand-off. Two pools: a catalog's read waits on its target listings (no-embed),
    # never on its own pool, so neither can starve the other. Threads start only on submit.
    with (
        ThreadPoolExecutor(min(workers, max(len(catalogs) - 1, 1)), "observe") as catalog_pool,
        ThreadPoolExecutor(workers, "observe-listing") as listing_pool,
    ):

        def read(part: _Reader, key: Key, obj: Mapping[str, Any], loader: bool) -> Any:
            if loader:
                with server_shaped(Kind.PACKAGE, key):
                    return read_contents(part, obj)
            return _read_catalog(part, key, obj, listing_pool)

        futures = [
            catalog_pool.submit(read, part, *catalog)
            for part, catalog in zip(parts[1:], catalogs[1:], strict=True)
        ]
        try:
            results = [read(parts[0], *catalogs[0])]
            results += [future.result() for future in futures]
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    for part in parts:
        reader.absorb(part)
    return {
        key: found
        for (key, _, loader), found in zip(catalogs, results, strict=True)
        if loader and found is not None
    }


def read_contents(reader: _Reader, catalog: Mapping[str, Any]) -> dict[str, frozenset[str]]:
    """A loader catalog's packages and their architectures, for its expectations (never
    planned against): the same package listing a declared catalog costs."""
    contents = Contents()
    reader.listing(Kind.PACKAGE, contents, catalog_uuid=catalog["uuid"])
    if reader.build.dialect_seen is None:  # the targets read tell the dialect: no probe needed
        reader.build.dialect_seen = contents.dialect
    return contents.found


class Contents:
    """A loader catalog's package pages (a `PageSink`), reduced as they arrive to what its
    expectations need: package name → the ``family/micro`` of its versions' CPU targets, and
    the dialect of the first target read. Each raw page is dropped once reduced."""

    def __init__(self) -> None:
        self.found: dict[str, frozenset[str]] = {}
        self.dialect: str | None = None
        self._first: Mapping[str, Any] | None = None  # the first target read

    def restart(self) -> None:
        self.found, self.dialect, self._first = {}, None, None

    def take(self, items: list[dict[str, Any]]) -> None:
        for pkg in items:
            if self._first is None:
                targets = (t for v in pkg.get("versions") or [] for t in v.get("targets") or [])
                self._first = next(targets, None)
                if self._first is not None:
                    self.dialect = dialects.dialect_of(self._first)
            self.found[str(pkg.get("name", ""))] = _cpu_architectures(pkg)
        items.clear()


def _cpu_architectures(pkg: Mapping[str, Any]) -> frozenset[str]:
    archs = set()
    for version in pkg.get("versions") or []:
        for target in version.get("targets") or []:
            kind = dialects.dialect_of(target)
            if kind == dialects.CURRENT and target.get("target_type") != dialects.CPU_TARGET_TYPE:
                continue  # the reconciler manages CPU targets only (`dialects.is_cpu_target`)
            fields = dialects.target_from_wire(target, kind)
            archs.add(f"{fields.get('cpu_family')}/{fields.get('cpu_microarchitecture')}")
    return frozenset(archs)


def loader_sign(catalog: Mapping[str, Any]) -> str:
    """What shows that one of Waldur's own loaders works on this catalog ("" if nothing)."""
    for name in ("last_successful_update", "last_update_attempt"):
        if catalog.get(name):
            return f"{name} {catalog[name]}"
    if catalog.get("auto_update_enabled") is True:
        return "auto_update_enabled true"
    return ""


def _subtree_size(catalog: Mapping[str, Any]) -> int:
    return sum(int(catalog.get(f) or 0) for f in ("package_count", "version_count", "target_count"))


class _PackagePages:
    """A catalog's package pages, turned into records as each one arrives (a `PageSink`): the
    records of page n are built while pages n+1… are still on their way, and each raw tree is
    freed once read. Pages come in page order, so the records, duplicates and dialect seen are
    the same whatever order the server answers in. A new read of the listing starts afresh."""

    def __init__(self, reader: _Reader, catalog: Key) -> None:
        self.reader = reader
        self.catalog = catalog
        self.by_name: dict[str, Key] = {}
        self.embedded = True  # every package so far carried its versions

    def restart(self) -> None:
        self.reader.build = self.reader.build.fresh()
        self.by_name = {}
        self.embedded = True

    def take(self, items: list[dict[str, Any]]) -> None:
        build, by_name, catalog = self.reader.build, self.by_name, self.catalog
        items.reverse()  # then popped: front to back, each raw tree freed once it is read
        with server_shaped(Kind.PACKAGE, catalog):
            while items:
                pkg = items.pop()
                key = build.package(catalog, pkg)
                by_name[key.parts[3]] = key
                if "versions" not in pkg:
                    self.embedded = False  # an older server: versions come from their listing
                    continue
                for version in pkg["versions"] or ():
                    build.version(key, version, version.get("targets") or ())


def _read_catalog(
    reader: _Reader, cat_key: Key, catalog: Mapping[str, Any], pool: Executor
) -> None:
    pages = _PackagePages(reader, cat_key)
    reader.listing(Kind.PACKAGE, pages, catalog_uuid=catalog["uuid"])
    embedded = pages.embedded or not pages.by_name
    reader.paths.add(EMBEDDED if embedded else PER_KIND)
    if not embedded:
        with server_shaped(Kind.VERSION, cat_key):
            _read_per_kind(reader, catalog, pages.by_name, pool)


def _read_per_kind(
    reader: _Reader, catalog: Mapping[str, Any], by_name: dict[str, Key], pool: Executor
) -> None:
    versions = reader.listing(Kind.VERSION, catalog_uuid=catalog["uuid"])
    # One target listing per version, concurrently; the client reads each listing's pages.
    target_lists = list(
        pool.map(lambda v: reader.listing(Kind.TARGET, version_uuid=v["uuid"]), versions)
    )
    for version, targets in zip(versions, target_lists, strict=True):
        pkg_key = by_name.get(str(version.get("package_name", "")))
        if pkg_key is None:
            reader.problems.append(
                f"version {version.get('uuid')} names an unknown package "
                f"{version.get('package_name')!r}"
            )
            continue
        reader.build.version(pkg_key, version, targets)


def _choose_dialect(
    client: WaldurClient, reader: _Reader, wanted: str, writes_targets: bool
) -> tuple[str, str]:
    """The dialect target writes use. When the declared catalogs showed no target, the server's
    target listing is asked, unless no target is declared (a Spack catalog): then nothing is
    written that depends on it, and its no-op costs exactly its listing pages."""
    found = reader.build.dialect_seen
    if wanted in dialects.DIALECTS:
        if found and found != wanted:
            raise ConfigError(
                f"--api-dialect {wanted} was given, but the server's targets use "
                f"the {found} field names; use --api-dialect {found} or auto"
            )
        return wanted, "as configured"
    if found:
        return found, "detected from the declared catalogs' targets"
    if not writes_targets:
        return dialects.UNDETERMINED, "no target declared or read: nothing depends on it"
    probe = client.request("GET", client.collection_url(Kind.TARGET), params={"page_size": 1})
    reader.requests += 1
    found = dialects.detect(probe.json())
    if found:
        return found, "detected from the server's target listing"
    return dialects.UNDETERMINED, (
        "the server has no targets to tell from; writes carry both "
        "field sets and the server keeps the ones it knows"
    )
