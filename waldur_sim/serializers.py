"""What each kind accepts, per target dialect, in DRF's shapes.

A `Schema` lists a kind's writable fields (wire name → storage column), its natural key as DRF's
`UniqueTogetherValidator` names it, and whether the kind is read-only (current upstream makes
versions and targets read-only). `validate` checks a whole request body the way a DRF
`ModelSerializer` does: unknown keys are ignored, every field's errors are collected, required
fields are required on create and PUT, and PATCH validates only what it is given.

Targets are stored once, in the current upstream columns (target_type, target_name,
target_subtype, location, …); the legacy dialect reads and writes them as cpu_family /
cpu_microarchitecture / path, which is how upstream migrated them. `render.py` turns stored rows
into response bodies, `metadata.py` describes these fields to OPTIONS.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from waldur_sim.kinds import CATALOG, PACKAGE, TARGET, VERSION, KindInfo
from waldur_sim.validation import (
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

#: A catalog's natural key (DRF's unique-together order).
CATALOG_KEY = ("name", "version", "catalog_type")

#: The target_type a CPU-architecture target has; the old filters only match these.
CPU_ARCHITECTURE = "cpu_architecture"

#: Upstream's choices and their `catalog_type_display` labels.
CATALOG_TYPES = (
    ("binary_runtime", "Binary Runtime (EESSI)"),
    ("source_package", "Source Package (Spack)"),
    ("package_manager", "Package Manager (conda, pip)"),
)
#: The catalog type whose links may restrict CPU targets (`supports_cpu_target_restrictions`).
CPU_RESTRICTABLE = "binary_runtime"

_CHAR, _URL, _LINK, _JSON = FieldType.CHAR, FieldType.URL, FieldType.LINK, FieldType.JSON

# Help texts are upstream's model help texts, as its OPTIONS publishes them.
_CATALOG_FIELDS = (
    Field(
        "name", _CHAR, required=True, max_length=100, help_text="Catalog name (e.g., EESSI, Spack)"
    ),
    Field(
        "version",
        _CHAR,
        required=True,
        max_length=50,
        help_text="Catalog version (e.g., 2023.06, 0.21.0)",
    ),
    Field(
        "catalog_type",
        FieldType.CHOICE,
        choices=CATALOG_TYPES,
        default="binary_runtime",
        help_text="Type of software catalog",
    ),
    Field(
        "source_url",
        _URL,
        max_length=200,
        allow_blank=True,
        default="",
        help_text="Catalog source URL",
    ),
    Field("description", _CHAR, allow_blank=True, default=""),
    Field(
        "metadata",
        _JSON,
        default={},
        help_text="Catalog-specific metadata (architecture maps, API endpoints, etc.)",
    ),
    Field(
        "auto_update_enabled",
        FieldType.BOOL,
        default=True,
        help_text="Whether to automatically update this catalog via scheduled tasks",
    ),
)
#: Current upstream lets a client write the loader's error text too.
_CURRENT_CATALOG_FIELDS = (
    *_CATALOG_FIELDS,
    Field("update_errors", _CHAR, allow_blank=True, default=""),
)
_PACKAGE_FIELDS = (
    Field("catalog", _LINK, column="catalog_id", required=True, link="catalog"),
    Field("name", _CHAR, required=True, max_length=200),
    Field("description", _CHAR, allow_blank=True, default=""),
    Field("homepage", _URL, max_length=200, allow_blank=True, allow_null=True, default=None),
    Field(
        "is_extension",
        FieldType.BOOL,
        default=False,
        help_text="Whether this package is an extension of another package",
    ),
)
#: What upstream's loaders store on a package (read-only upstream): writable in the current
#: profile whose versions are writable, where a client plays the loader.
_LOADER_PACKAGE_FIELDS = (
    Field("categories", FieldType.STRLIST, default=[]),
    Field("licenses", FieldType.STRLIST, default=[]),
    Field("maintainers", FieldType.STRLIST, default=[]),
    Field("parent_softwares", FieldType.LINKS, default=[], link="package"),
)
_VERSION_FIELDS = (
    Field("package", _LINK, column="package_id", required=True, link="package"),
    Field("version", _CHAR, required=True, max_length=100),
    Field(
        "module_version",
        _CHAR,
        max_length=150,
        allow_blank=True,
        default="",
        help_text="EESSI EasyBuild module version",
    ),
    Field("release_date", FieldType.DATE, allow_null=True, default=None),
)
_CURRENT_VERSION_FIELDS = (
    *_VERSION_FIELDS,
    Field(
        "dependencies",
        _JSON,
        default=[],
        help_text="Package dependencies (format varies by catalog type)",
        nested=False,
    ),
    Field(
        "metadata",
        _JSON,
        default={},
        help_text="Version-specific metadata (toolchains, build info, modules, etc.)",
        nested=False,
    ),
)
_TARGET_PARENT = Field("version", _LINK, column="version_id", required=True, link="version")
_LEGACY_TARGET_FIELDS = (
    _TARGET_PARENT,
    Field("cpu_family", _CHAR, column="target_name", required=True, max_length=100),
    Field("cpu_microarchitecture", _CHAR, column="target_subtype", required=True, max_length=100),
    Field("path", _CHAR, column="location", max_length=500, allow_blank=True, default=""),
)
# target_name has no default: the unique-together key makes it required (see Schema.required).
_CURRENT_TARGET_FIELDS = (
    _TARGET_PARENT,
    Field(
        "target_type",
        _CHAR,
        max_length=50,
        default="architecture",
        help_text="Type of target (architecture, platform, variant, etc.)",
    ),
    Field(
        "target_name",
        _CHAR,
        max_length=100,
        help_text="Target identifier (x86_64/generic, linux, variant_name, etc.)",
    ),
    Field(
        "target_subtype",
        _CHAR,
        max_length=50,
        allow_blank=True,
        default="",
        help_text="Target subtype (microarchitecture, distribution, etc.)",
    ),
    Field(
        "location",
        _CHAR,
        max_length=500,
        allow_blank=True,
        default="",
        help_text="Target location (CVMFS path, download URL, etc.)",
    ),
    Field(
        "metadata",
        _JSON,
        default={},
        help_text="Target-specific metadata (build options, system requirements, etc.)",
    ),
    Field(
        "gpu_architectures",
        FieldType.STRLIST,
        default=[],
        help_text=(
            "List of GPU architectures this target supports (e.g., ['nvidia/cc70', 'nvidia/cc90'])"
        ),
    ),
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

    def required(self, f: Field) -> bool:
        """DRF's rule: a field of the unique-together key without a default is required, even
        where the model alone would not require it (a nested serializer has no such key)."""
        return f.required or (f.name in self.unique and f.default is NO_DEFAULT)

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
    legacy = dialect == LEGACY
    package_fields = _PACKAGE_FIELDS
    if not legacy and VERSION.name not in read_only:
        package_fields += _LOADER_PACKAGE_FIELDS
    table = (
        schema(CATALOG, _CATALOG_FIELDS if legacy else _CURRENT_CATALOG_FIELDS, CATALOG_KEY),
        schema(PACKAGE, package_fields, ("catalog", "name")),
        schema(
            VERSION,
            _VERSION_FIELDS if legacy else _CURRENT_VERSION_FIELDS,
            ("package", "version", "module_version"),
        ),
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
            if schema.required(f):
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
