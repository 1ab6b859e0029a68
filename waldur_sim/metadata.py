"""What the server publishes about itself: OPTIONS (DRF's `SimpleMetadata`) and `/api/version/`.

An OPTIONS answer names the view and, for a staff user, describes under `actions` every field of
the kind's serializer in response order, with DRF's attributes in DRF's order: `type`,
`required`, `read_only`, `label`, `help_text`, `max_length`, then `child`/`children` and
`choices`. It is built from the sim's own definitions, so it says what the sim does:

- writable fields come from the kind's `Schema` (the same `Field`s that validate requests:
  required, max_length, choices, help text), for the dialect being served;
- response-only fields come from `_LAYOUTS` below, which lists every field of a body in the
  order `render.py` writes them (the contract tests compare the two); a `Shown` field that the
  profile's Schema makes writable (what upstream's loaders store, in the writable current
  profile) is described from the Schema;
- a read-only kind (`--read-only-kinds`) is described as current upstream describes versions
  and targets: every field read-only, without limits or choices, and no parent field.

Labels are DRF's (the field name, `_` → space, first letter upper case); descriptions, `renders`
and `parses` are the recorded upstream server's, whatever the sim itself parses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from waldur_sim.kinds import KindInfo
from waldur_sim.serializers import CURRENT, Schema
from waldur_sim.validation import Field, FieldType

#: `GET /api/version/` of the upstream server the samples were recorded from.
SERVER_VERSION = "7.0.7+g1ea6cb82.swcatalog"

RENDERS = ["application/json", "text/html"]
PARSES = ["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
_DESCRIPTION = "ViewSet for {model} model with standard DRF patterns."

#: DRF's `label_lookup`: relations, JSON and method fields are all "field".
_TYPES = {
    FieldType.CHAR: "string",
    FieldType.URL: "url",
    FieldType.CHOICE: "choice",
    FieldType.BOOL: "boolean",
    FieldType.JSON: "field",
    FieldType.DATE: "date",
    FieldType.LINK: "field",
    FieldType.LINKS: "field",
    FieldType.STRLIST: "list",
}
_STRING_CHILD = {"type": "string", "required": True, "read_only": False}

Info = dict[str, Any]


def _label(name: str) -> str:
    text = name.replace("_", " ")
    return text[:1].upper() + text[1:]


def _info(
    type_: str,
    name: str,
    *,
    required: bool = False,
    read_only: bool = True,
    help_text: str = "",
    max_length: int | None = None,
) -> Info:
    info: Info = {"type": type_, "required": required, "read_only": read_only}
    info["label"] = _label(name)
    if help_text:
        info["help_text"] = help_text
    if max_length is not None:
        info["max_length"] = max_length
    return info


def _nested(children: Info) -> Info:
    return {"type": "nested object", "required": False, "read_only": True, "children": children}


def _field_info(f: Field, *, required: bool, read_only: bool) -> Info:
    """One `Field`; read-only drops what DRF drops for a read-only model field."""
    info = _info(
        _TYPES[f.type],
        f.name,
        required=required and not read_only,
        read_only=read_only,
        help_text=f.help_text,
        max_length=None if read_only else f.max_length,
    )
    if f.type is FieldType.STRLIST:
        info["child"] = dict(_STRING_CHILD)
    if f.choices and not read_only:
        info["choices"] = [{"value": v, "display_name": label} for v, label in f.choices]
    return info


@dataclass(frozen=True, slots=True)
class Shown:
    """A field of a kind's responses that no request writes (read-only in DRF's terms)."""

    name: str
    type: str
    dialect: str | None = None  # only in this dialect (None: in every dialect)
    help_text: str = ""
    child: Info | Callable[[Metadata], Info] | None = None
    embedded: bool = False  # the package's embedded versions: absent with --no-embed


#: An entry of a layout: a `Shown` field, or the name of a writable field of the kind's Schema
#: (skipped when the Schema of the dialect has no such field).
Entry = str | Shown

_C = CURRENT
_HEAD = (
    Shown("url", "field"),
    Shown("uuid", "string"),
    Shown("created", "datetime"),
    Shown("modified", "datetime"),
)
_UUID = _info("string", "uuid")
_PARENT_SOFTWARE = _nested(
    {
        "uuid": _UUID,
        "name": _info("string", "name", required=True, read_only=False, max_length=200),
        "url": _info("field", "url"),
        "versions": _info("field", "versions"),
    }
)
#: Derived from a version's `metadata` (see render.py), in versions and embedded versions.
_MODULE_FIELDS = tuple(
    Shown(name, "field", _C)
    for name in (
        "module",
        "required_modules",
        "extensions",
        "toolchain",
        "toolchain_families_compatibility",
    )
)


def _embedded_versions(meta: Metadata) -> Info:
    """The package's `versions`: each version and its targets, as their nested serializers
    describe them (writable fields as the model has them, whatever `--read-only-kinds` says)."""
    targets = {"uuid": _UUID} | meta.nested_fields("target")
    children = {"uuid": _UUID} | meta.nested_fields("version")
    children["targets"] = _info("field", "targets") | {"child": _nested(targets)}
    if meta.dialect == CURRENT:
        children |= {s.name: _info(s.type, s.name) for s in _MODULE_FIELDS}
    return _nested(children)


_LAYOUTS: dict[str, tuple[Entry, ...]] = {
    "catalog": (
        *_HEAD,
        "name",
        "version",
        "catalog_type",
        Shown("catalog_type_display", "string"),
        Shown("supports_cpu_target_restrictions", "boolean", _C),
        "source_url",
        "description",
        "metadata",
        "auto_update_enabled",
        Shown("last_update_attempt", "datetime", _C),
        Shown("last_successful_update", "datetime", _C),
        "update_errors",
        Shown("package_count", "field"),
        Shown("version_count", "field"),
        Shown("target_count", "field"),
    ),
    "package": (
        *_HEAD,
        "catalog",
        "name",
        "description",
        "homepage",
        Shown("categories", "list", _C, child=_STRING_CHILD),
        Shown("licenses", "list", _C, child=_STRING_CHILD),
        Shown("maintainers", "list", _C, child=_STRING_CHILD),
        "is_extension",
        Shown("parent_softwares", "field", _C, child=_PARENT_SOFTWARE),
        Shown("extensions", "field", _C, child=_PARENT_SOFTWARE),
        Shown("catalog_name", "string"),
        Shown("catalog_version", "string"),
        Shown("catalog_type", "string", _C),
        Shown("catalog_type_display", "string", _C),
        Shown("version_count", "field"),
        Shown("extension_count", "field", _C),
        Shown("versions", "field", child=_embedded_versions, embedded=True),
    ),
    "version": (
        *_HEAD,
        "package",
        "version",
        "module_version",
        "release_date",
        Shown(
            "dependencies",
            "field",
            _C,
            help_text="Package dependencies (format varies by catalog type)",
        ),
        Shown(
            "metadata",
            "field",
            _C,
            help_text="Version-specific metadata (toolchains, build info, modules, etc.)",
        ),
        Shown("package_name", "string"),
        Shown("catalog_type", "string", _C),
        Shown("target_count", "field", _C),
        *_MODULE_FIELDS,
    ),
    "target": (
        *_HEAD,
        "version",
        "cpu_family",
        "cpu_microarchitecture",
        "path",
        "target_type",
        "target_name",
        "target_subtype",
        "location",
        "metadata",
        "gpu_architectures",
    ),
}


class Metadata:
    """The OPTIONS bodies of one served profile (dialect, read-only kinds, embedding)."""

    def __init__(self, schemas: Mapping[str, Schema], dialect: str, embed: bool) -> None:
        self.schemas = schemas
        self.dialect = dialect
        self.embed = embed

    def body(self, kind: KindInfo, *, detail: bool, action: str | None) -> Info:
        """The answer to OPTIONS; `action` ("POST" or "PUT") adds the staff user's `actions`."""
        words = re.sub(r"(?<!^)(?=[A-Z])", " ", kind.model)
        body: Info = {
            "name": f"{words} {'Instance' if detail else 'List'}",
            "description": _DESCRIPTION.format(model=kind.model),
            "renders": list(RENDERS),
            "parses": list(PARSES),
        }
        if action is not None:
            body["actions"] = {action: self.fields(kind.name)}
        return body

    def fields(self, kind_name: str) -> Info:
        """Every field of the kind's serializer, in response order."""
        schema = self.schemas[kind_name]
        by_name = {f.name: f for f in schema.fields}
        fields: Info = {}
        for entry in _LAYOUTS[kind_name]:
            if isinstance(entry, Shown) and entry.name not in by_name:
                if entry.dialect in (None, self.dialect) and (self.embed or not entry.embedded):
                    fields[entry.name] = self._shown(entry)
                continue
            f = by_name.get(entry.name if isinstance(entry, Shown) else entry)
            if f is None or (schema.read_only and f.type is FieldType.LINK):
                continue  # not in this dialect; upstream's read-only kinds have no parent field
            required = schema.required(f)
            fields[f.name] = _field_info(f, required=required, read_only=schema.read_only)
        return fields

    def nested_fields(self, kind_name: str) -> Info:
        """A kind's writable fields as a nested serializer shows them: no parent link, and no
        unique-together key to make a field required that the model does not require."""
        return {
            f.name: _field_info(f, required=f.required, read_only=False)
            for f in self.schemas[kind_name].fields
            if f.type is not FieldType.LINK and f.nested
        }

    def _shown(self, entry: Shown) -> Info:
        info = _info(entry.type, entry.name, help_text=entry.help_text)
        child = entry.child(self) if callable(entry.child) else entry.child
        if child is not None:
            info["child"] = dict(child)
        return info
