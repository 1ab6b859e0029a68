"""The server's objects of one catalog, turned into records: as little work per object as the
parse that made it.

A no-op of the full EESSI catalog turns 18,606 objects into records; done naively (a `Key`
built and hashed three times per object, the dialect of each target looked up three times, a
method call per step) that cost four times the JSON parse of the same pages. Here a key the
desired state also has is found by its parts (a tuple lookup, no `Key` built) and is the
desired state's own `Key` object, so the two states share their keys; the dialect of a target
is looked up once; each record is stored with one dictionary probe.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from reconciler.core import dialect as dialects
from reconciler.core.errors import ApiError
from reconciler.core.model import VALUE_FIELDS, Key, Kind, Record, make_record
from reconciler.core.urls import object_url

_CURRENT = dialects.CURRENT
_CPU = dialects.CPU_TARGET_TYPE
_PACKAGE_FIELDS = VALUE_FIELDS[Kind.PACKAGE]
_VERSION_FIELDS = VALUE_FIELDS[Kind.VERSION]


def checked_url(collection: str, kind: Kind, uuid: str) -> str:
    """The object's URL from its collection's and its uuid (`urls.object_url`); an `ApiError`,
    before anything is written, when the server's uuid is not one."""
    url = object_url(collection, uuid)
    if url is None:
        raise ApiError(f"the server gave a {kind.label} the malformed uuid {uuid!r}")
    return url


def values(kind: Kind, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The value fields of `kind` that `obj` holds."""
    return {name: obj[name] for name in VALUE_FIELDS[kind] if name in obj}


class Builder:
    """Records of one catalog's subtree, with the duplicates met and the first dialect seen.

    `canonical` maps the key parts of the desired state's keys to its `Key` objects; `urls`
    each kind's collection URL: an object's URL is built from it and the object's uuid (the
    client's `detail_url`), never taken from the server's ``url`` field.
    """

    def __init__(self, canonical: Mapping[tuple[str, ...], Key], urls: Mapping[Kind, str]) -> None:
        self.canonical = canonical
        self.records: dict[Key, Record] = {}
        self.duplicates: list[str] = []
        self.dialect_seen: str | None = None  # the dialect of the first target that shows one
        self.urls = urls
        self._package_url = urls[Kind.PACKAGE]  # + the checked uuid (`checked_url`)
        self._version_url = urls[Kind.VERSION]
        self._target_url = urls[Kind.TARGET]

    def fresh(self) -> Builder:
        """An empty builder for the same desired keys and URLs."""
        return Builder(self.canonical, self.urls)

    def key(self, kind: Kind, parts: tuple[str, ...]) -> Key:
        found = self.canonical.get(parts)
        if found is not None and found.kind is kind:  # a package and a link both have 4 parts
            return found
        return Key(kind, parts)

    def add(self, key: Key, fields: dict[str, Any], uuid: str | None, url: str | None) -> None:
        have = self.records.get(key)
        if have is None:
            self.records[key] = make_record(key, fields, uuid, url)
        elif have.uuid != uuid:
            self.duplicates.append(f"{key} (uuids {have.uuid}, {uuid})")
        # else: one object read twice, on two pages of a listing that moved while it was read;
        # the listing is marked incomplete already, and the server holds the object once.

    def package(self, catalog: Key, pkg: Mapping[str, Any]) -> Key:
        key = self.key(Kind.PACKAGE, (*catalog.parts, str(pkg.get("name", ""))))
        fields = {name: pkg[name] for name in _PACKAGE_FIELDS if name in pkg}
        uuid = str(pkg.get("uuid"))
        self.add(key, fields, uuid, checked_url(self._package_url, Kind.PACKAGE, uuid))
        return key

    def version(
        self, package: Key, version: Mapping[str, Any], targets: Iterable[Mapping[str, Any]]
    ) -> None:
        # The hottest loop of a Spack-sized read (40,000 versions): `key` and `add` inlined.
        parts = (
            *package.parts,
            str(version.get("version", "")),
            str(version.get("module_version") or ""),
        )
        key = self.canonical.get(parts)  # 6 parts: only a version's key has as many
        if key is None:
            key = Key.trusted(Kind.VERSION, parts)
        uuid = str(version.get("uuid", ""))
        url = checked_url(self._version_url, Kind.VERSION, uuid)
        fields = {name: version[name] for name in _VERSION_FIELDS if name in version}
        if key in self.records:
            self.add(key, fields, uuid, url)  # a duplicate, or one object read twice
        else:
            self.records[key] = make_record(key, fields, uuid, url)
        if targets:
            self._targets(parts, targets)

    def _targets(self, parent: tuple[str, ...], targets: Iterable[Mapping[str, Any]]) -> None:
        canonical, records, base = self.canonical, self.records, self._target_url
        for target in targets:
            found = dialects.dialect_of(target)
            if self.dialect_seen is None:
                self.dialect_seen = found
            if found == _CURRENT and target.get("target_type") != _CPU:
                continue  # the reconciler manages CPU targets only
            fields = dialects.target_from_wire(target, found)
            family = str(fields.pop("cpu_family", ""))
            parts = (*parent, family, str(fields.pop("cpu_microarchitecture", "")))
            key = canonical.get(parts)  # 8 parts: only a target's key has as many
            if key is None:
                key = Key.trusted(Kind.TARGET, parts)
            uuid = str(target.get("uuid", ""))
            url = checked_url(base, Kind.TARGET, uuid)
            if key in records:
                self.add(key, fields, uuid, url)  # a duplicate, or one object read twice
            else:
                records[key] = make_record(key, fields, uuid, url)
