"""Stored rows → response bodies, per dialect, in the field order of upstream's serializers.

The legacy dialect shows what the published docs list. The current one shows every field a
current upstream server returns: what upstream's loaders store (a package's categories,
licenses, maintainers and parents, a version's dependencies and metadata) as stored, empty when
nobody wrote them; a catalog's update timestamps and errors as the sim's loaders (`loaders/`)
set them; a version's `module`, `required_modules`, `extensions`, `toolchain` and
`toolchain_families_compatibility` read from its `metadata`.
`metadata.py` describes the same fields in the same order to OPTIONS.

Targets are stored once, in the current upstream columns; the legacy dialect shows them as
cpu_family / cpu_microarchitecture / path, which is how upstream migrated them.
"""

from __future__ import annotations

import json
from sqlite3 import Row
from typing import Any

from waldur_sim.kinds import CATALOG, PACKAGE, TARGET, VERSION, KindInfo, detail_url
from waldur_sim.serializers import CATALOG_TYPES, CPU_RESTRICTABLE, LEGACY
from waldur_sim.store import TREE_TARGET, Relatives, Tree

_DISPLAY = dict(CATALOG_TYPES)
_EMPTY_JSON = {"{}": dict, "[]": list}


def iso(stamp: str) -> str:
    """A stored `…T12:00:00.000000Z` stamp as DRF renders it (no fraction when it is zero)."""
    return stamp[:19] + "Z" if stamp.endswith(".000000Z") else stamp


def _stamp(stamp: str | None) -> str | None:
    return None if stamp is None else iso(stamp)


def _json(text: str) -> Any:
    empty = _EMPTY_JSON.get(text)
    return empty() if empty is not None else json.loads(text)


#: What upstream shows of a version's `metadata` beside it, with the value of a missing key.
_MODULE_KEYS = (
    ("module", dict),
    ("required_modules", list),
    ("extensions", list),
    ("toolchain", dict),
    ("toolchain_families_compatibility", list),
)


def _module_fields(metadata: Any) -> dict[str, Any]:
    """The keys of a version's `metadata` upstream's serializers show as fields of their own
    (empty when missing, as upstream's `metadata.get(key, {}|[])`)."""
    found = metadata if isinstance(metadata, dict) else {}
    return {key: found[key] if key in found else empty() for key, empty in _MODULE_KEYS}


def _relative(base: str, relative: tuple[str, str, list[str]]) -> dict[str, Any]:
    """A parent or extension package as upstream nests it: uuid, name, url, version strings."""
    uuid_hex, name, versions = relative
    return {"uuid": uuid_hex, "name": name, "url": detail_url(base, PACKAGE, uuid_hex)} | {
        "versions": versions
    }


class Renderer:
    """Stored rows → response bodies, with absolute URLs built from the request's base URL."""

    def __init__(
        self, base: str, dialect: str, embed: bool, selected: tuple[str, ...] = ()
    ) -> None:
        self.base = base
        self.legacy = dialect == LEGACY
        self.embed = embed
        self.selected = selected  # a catalog's `field` parameters (RestrictedSerializerMixin)

    def _head(self, kind: KindInfo, row: Row) -> dict[str, Any]:
        return {
            "url": detail_url(self.base, kind, row["uuid"]),
            "uuid": row["uuid"],
            "created": iso(row["created"]),
            "modified": iso(row["modified"]),
        }

    def catalog(self, row: Row) -> dict[str, Any]:
        catalog_type = row["catalog_type"]
        body = self._head(CATALOG, row) | {
            "name": row["name"],
            "version": row["version"],
            "catalog_type": catalog_type,
            "catalog_type_display": _DISPLAY.get(catalog_type, ""),
        }
        if not self.legacy:
            body["supports_cpu_target_restrictions"] = catalog_type == CPU_RESTRICTABLE
        body |= {
            "source_url": row["source_url"],
            "description": row["description"],
            "metadata": _json(row["metadata"]),
            "auto_update_enabled": bool(row["auto_update_enabled"]),
        }
        if not self.legacy:
            body |= {
                "last_update_attempt": _stamp(row["last_update_attempt"]),
                "last_successful_update": _stamp(row["last_successful_update"]),
                "update_errors": row["update_errors"],
            }
        return body | {
            "package_count": row["package_count"],
            "version_count": row["version_count"],
            "target_count": row["target_count"],
        }

    def package(
        self, row: Row, tree: Tree | None, relatives: Relatives | None = None
    ) -> dict[str, Any]:
        body = self._head(PACKAGE, row) | {
            "catalog": detail_url(self.base, CATALOG, row["catalog_uuid"]),
            "name": row["name"],
            "description": row["description"],
            "homepage": row["homepage"],
        }
        current = not self.legacy
        parents, extensions = relatives or ([], [])
        if current:
            body |= {name: _json(row[name]) for name in ("categories", "licenses", "maintainers")}
        body["is_extension"] = bool(row["is_extension"])
        if current:
            body |= {
                "parent_softwares": [_relative(self.base, p) for p in parents],
                "extensions": [_relative(self.base, e) for e in extensions],
            }
        body |= {"catalog_name": row["catalog_name"], "catalog_version": row["catalog_version"]}
        if current:
            catalog_type = row["catalog_type"]
            body |= {
                "catalog_type": catalog_type,
                "catalog_type_display": _DISPLAY.get(catalog_type, ""),
            }
        body["version_count"] = row["version_count"]
        if current:
            body["extension_count"] = len(extensions)
        if self.embed:
            body["versions"] = [self._nested_version(v, ts) for v, ts in tree or ()]
        return body

    def _nested_version(
        self, version: tuple[Any, ...], targets: list[tuple[Any, ...]]
    ) -> dict[str, Any]:
        _id, _package, uuid_hex, number, module_version, release_date, metadata = version
        body = {
            "uuid": uuid_hex,
            "version": number,
            "module_version": module_version,
            "release_date": release_date,
            "targets": [{"uuid": t[1]} | self._target_fields(*t[2:]) for t in targets],
        }
        return body if self.legacy else body | _module_fields(_json(metadata))

    def version(self, row: Row) -> dict[str, Any]:
        body = self._head(VERSION, row) | {
            "version": row["version"],
            "module_version": row["module_version"],
            "release_date": row["release_date"],
        }
        if self.legacy:
            return body | {"package_name": row["package_name"]}
        metadata = _json(row["metadata"])
        return (
            body
            | {
                "dependencies": _json(row["dependencies"]),
                "metadata": metadata,
                "package_name": row["package_name"],
                "catalog_type": row["catalog_type"],
                "target_count": row["target_count"],
            }
            | _module_fields(metadata)
        )

    def target(self, row: Row) -> dict[str, Any]:
        fields = (row[column] for column in TREE_TARGET[2:])
        return self._head(TARGET, row) | self._target_fields(*fields)

    def _target_fields(
        self, kind: str, name: str, subtype: str, location: str, metadata: str, gpus: str
    ) -> dict[str, Any]:
        if self.legacy:
            return {"cpu_family": name, "cpu_microarchitecture": subtype, "path": location}
        return {
            "target_type": kind,
            "target_name": name,
            "target_subtype": subtype,
            "location": location,
            "metadata": _json(metadata),
            "gpu_architectures": _json(gpus),
        }

    def render(
        self,
        kind: KindInfo,
        row: Row,
        tree: Tree | None = None,
        relatives: Relatives | None = None,
    ) -> dict[str, Any]:
        if kind is PACKAGE:
            return self.package(row, tree, relatives)
        if kind is CATALOG:
            body = self.catalog(row)
            if self.selected and not self.legacy:
                return {name: value for name, value in body.items() if name in self.selected}
            return body
        return self.version(row) if kind is VERSION else self.target(row)
