"""What each kind accepts and how it is rendered, per target dialect, in DRF's shapes.

A `Schema` lists a kind's writable fields (wire name → storage column), its natural key as DRF's
`UniqueTogetherValidator` names it, and whether the kind is read-only (current upstream makes
versions and targets read-only). `validate` checks a whole request body the way a DRF
`ModelSerializer` does: unknown keys are ignored, every field's errors are collected, required
fields are required on create and PUT, and PATCH validates only what it is given.

`Renderer` turns stored rows into response bodies. Targets are stored once, in the current
upstream columns (target_type, target_name, target_subtype, location, …); the legacy dialect
shows them as cpu_family / cpu_microarchitecture / path, which is how upstream migrated them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from sqlite3 import Row
from typing import Any

from reconciler.sim.kinds import CATALOG, PACKAGE, TARGET, VERSION, KindInfo, detail_url
from reconciler.sim.store import TREE_TARGET, Tree
from reconciler.sim.validation import (
    NO_DEFAULT,
    REQUIRED,
    Field,
    FieldError,
    FieldType,
    LinkLookup,
    ValidationFailed,
    to_internal,
)

LEGACY = "legacy"
CURRENT = "current"
DIALECTS = (LEGACY, CURRENT)

#: The target_type a CPU-architecture target has; the old filters only match these.
CPU_ARCHITECTURE = "cpu_architecture"

CATALOG_TYPES = (
    ("binary_runtime", "Binary runtime"),
    ("source_package", "Source package"),
    ("package_manager", "Package manager"),
)

_CHAR, _URL, _LINK = FieldType.CHAR, FieldType.URL, FieldType.LINK

_CATALOG_FIELDS = (
    Field("name", _CHAR, required=True, max_length=100),
    Field("version", _CHAR, required=True, max_length=50),
    Field("catalog_type", FieldType.CHOICE, choices=CATALOG_TYPES, default="binary_runtime"),
    Field("source_url", _URL, max_length=200, allow_blank=True, default=""),
    Field("description", _CHAR, allow_blank=True, default=""),
    Field("metadata", FieldType.JSON, default={}),
    Field("auto_update_enabled", FieldType.BOOL, default=True),
)
_PACKAGE_FIELDS = (
    Field("catalog", _LINK, column="catalog_id", required=True, link="catalog"),
    Field("name", _CHAR, required=True, max_length=200),
    Field("description", _CHAR, allow_blank=True, default=""),
    Field("homepage", _URL, max_length=200, allow_blank=True, allow_null=True, default=None),
    Field("is_extension", FieldType.BOOL, default=False),
)
_VERSION_FIELDS = (
    Field("package", _LINK, column="package_id", required=True, link="package"),
    Field("version", _CHAR, required=True, max_length=100),
    Field("module_version", _CHAR, max_length=150, allow_blank=True, default=""),
    Field("release_date", FieldType.DATE, allow_null=True, default=None),
)
_TARGET_PARENT = Field("version", _LINK, column="version_id", required=True, link="version")
_LEGACY_TARGET_FIELDS = (
    _TARGET_PARENT,
    Field("cpu_family", _CHAR, column="target_name", required=True, max_length=100),
    Field("cpu_microarchitecture", _CHAR, column="target_subtype", required=True, max_length=100),
    Field("path", _CHAR, column="location", max_length=500, allow_blank=True, default=""),
)
_CURRENT_TARGET_FIELDS = (
    _TARGET_PARENT,
    Field("target_type", _CHAR, max_length=50, default="architecture"),
    Field("target_name", _CHAR, required=True, max_length=100),
    Field("target_subtype", _CHAR, max_length=100, allow_blank=True, default=""),
    Field("location", _CHAR, max_length=500, allow_blank=True, default=""),
    Field("metadata", FieldType.JSON, default={}),
    Field("gpu_architectures", FieldType.STRLIST, default=[]),
)


@dataclass(frozen=True, slots=True)
class Schema:
    """What one kind accepts in one dialect."""

    kind: KindInfo
    fields: tuple[Field, ...]
    unique: tuple[str, ...]  # wire names in DRF's unique-together order
    fixed: Mapping[str, Any] = field(default_factory=dict)  # columns set on create only
    read_only: bool = False

    def unique_message(self) -> str:
        return f"The fields {', '.join(self.unique)} must make a unique set."

    def key_columns(self) -> tuple[str, ...]:
        by_name = {f.name: f.column for f in self.fields}
        return tuple(by_name[name] for name in self.unique) + tuple(self.fixed)


def schemas(dialect: str, read_only: frozenset[str] = frozenset()) -> dict[str, Schema]:
    """The schema of every kind for a dialect, with `read_only` kinds made read-only."""

    def schema(
        kind: KindInfo, fields: tuple[Field, ...], unique: tuple[str, ...], **fixed: Any
    ) -> Schema:
        return Schema(kind, fields, unique, fixed, kind.name in read_only)

    if dialect == LEGACY:
        key = ("version", "cpu_family", "cpu_microarchitecture")
        target = schema(TARGET, _LEGACY_TARGET_FIELDS, key, target_type=CPU_ARCHITECTURE)
    else:
        key = ("version", "target_type", "target_name", "target_subtype")
        target = schema(TARGET, _CURRENT_TARGET_FIELDS, key)
    table = (
        schema(CATALOG, _CATALOG_FIELDS, ("name", "version", "catalog_type")),
        schema(PACKAGE, _PACKAGE_FIELDS, ("catalog", "name")),
        schema(VERSION, _VERSION_FIELDS, ("package", "version", "module_version")),
        target,
    )
    return {s.kind.name: s for s in table}


def check_body(data: Any) -> Mapping[str, Any]:
    """The serializer's first check: a body must be a JSON object."""
    if data is None:
        raise ValidationFailed({"non_field_errors": ["No data provided"]})
    if not isinstance(data, dict):
        name = type(data).__name__
        raise ValidationFailed(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {name}."]}
        )
    return data


def validate(
    schema: Schema, data: Any, *, creating: bool, partial: bool, lookup: LinkLookup
) -> dict[str, Any]:
    """The storage columns a valid body sets (defaults included on create), or ValidationFailed."""
    body = check_body(data)
    errors: dict[str, Any] = {}
    values: dict[str, Any] = {}
    for f in schema.fields:
        if f.name not in body:
            if partial:
                continue
            if f.required:
                errors[f.name] = [REQUIRED]
            elif creating and f.default is not NO_DEFAULT:
                values[f.column] = f.default_value()
            continue
        try:
            values[f.column] = to_internal(f, body[f.name], lookup)
        except FieldError as exc:
            errors[f.name] = exc.detail
    if errors:
        raise ValidationFailed(errors)
    if creating:
        values.update(schema.fixed)
    return values


def encode(schema: Schema, values: Mapping[str, Any]) -> dict[str, Any]:
    """Validated values as SQLite stores them (JSON as text, booleans as 0/1)."""
    types = {f.column: f.type for f in schema.fields}
    encoded: dict[str, Any] = {}
    for column, value in values.items():
        kind = types.get(column)
        if kind in (FieldType.JSON, FieldType.STRLIST):
            value = json.dumps(value, ensure_ascii=False)
        elif kind is FieldType.BOOL:
            value = int(value)
        encoded[column] = value
    return encoded


def iso(stamp: str) -> str:
    """A stored `…T12:00:00.000000Z` stamp as DRF renders it (no fraction when it is zero)."""
    return stamp[:19] + "Z" if stamp.endswith(".000000Z") else stamp


_EMPTY_JSON = {"{}": dict, "[]": list}


def _json(text: str) -> Any:
    empty = _EMPTY_JSON.get(text)
    return empty() if empty is not None else json.loads(text)


class Renderer:
    """Stored rows → response bodies, with absolute URLs built from the request's base URL."""

    def __init__(self, base: str, dialect: str, embed: bool) -> None:
        self.base = base
        self.legacy = dialect == LEGACY
        self.embed = embed

    def _head(self, kind: KindInfo, row: Row) -> dict[str, Any]:
        return {
            "url": detail_url(self.base, kind, row["uuid"]),
            "uuid": row["uuid"],
            "created": iso(row["created"]),
            "modified": iso(row["modified"]),
        }

    def catalog(self, row: Row) -> dict[str, Any]:
        return self._head(CATALOG, row) | {
            "name": row["name"],
            "version": row["version"],
            "catalog_type": row["catalog_type"],
            "catalog_type_display": dict(CATALOG_TYPES).get(row["catalog_type"], ""),
            "source_url": row["source_url"],
            "description": row["description"],
            "metadata": _json(row["metadata"]),
            "auto_update_enabled": bool(row["auto_update_enabled"]),
            "package_count": row["package_count"],
            "version_count": row["version_count"],
            "target_count": row["target_count"],
        }

    def package(self, row: Row, tree: Tree | None) -> dict[str, Any]:
        body = self._head(PACKAGE, row) | {
            "catalog": detail_url(self.base, CATALOG, row["catalog_uuid"]),
            "catalog_name": row["catalog_name"],
            "catalog_version": row["catalog_version"],
            "name": row["name"],
            "description": row["description"],
            "homepage": row["homepage"],
            "is_extension": bool(row["is_extension"]),
            "version_count": row["version_count"],
        }
        if self.embed:
            body["versions"] = [self._nested_version(v, ts) for v, ts in tree or ()]
        return body

    def _nested_version(
        self, version: tuple[Any, ...], targets: list[tuple[Any, ...]]
    ) -> dict[str, Any]:
        _id, _package, uuid_hex, number, module_version, release_date = version
        return {
            "uuid": uuid_hex,
            "version": number,
            "module_version": module_version,
            "release_date": release_date,
            "targets": [{"uuid": t[1]} | self._target_fields(*t[2:]) for t in targets],
        }

    def version(self, row: Row) -> dict[str, Any]:
        return self._head(VERSION, row) | {
            "version": row["version"],
            "module_version": row["module_version"],
            "release_date": row["release_date"],
            "package_name": row["package_name"],
        }

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

    def render(self, kind: KindInfo, row: Row, tree: Tree | None = None) -> dict[str, Any]:
        if kind is PACKAGE:
            return self.package(row, tree)
        if kind is CATALOG:
            return self.catalog(row)
        return self.version(row) if kind is VERSION else self.target(row)
