"""The desired-state file format as strict pydantic models, and its JSON Schema.

These models check each field on its own (types, lengths, choices, date syntax,
architecture strings, path-template placeholders); `desired.py` does what spans fields or
objects (keys, duplicates, defaults expansion, templates) in plain Python. The models are
strict: a string field never accepts a number (``version: 2023.06`` is a float to YAML), a
boolean never accepts a string, and unknown keys are errors. Strings are stripped of
surrounding whitespace before the length checks.

Optional fields that mean nothing as ``null`` (booleans, lists, mappings) have no ``None``
in their type: leaving them out is how a file says "not managed". For the four value fields
where ``null`` means "empty" (description, source_url, homepage, release_date) it is
accepted; `desired.py` normalises it to what the server stores.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import string
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    model_validator,
)
from pydantic import StringConstraints as Len

from reconciler.core.fieldrules import URL_FIELD_LENGTH, bad_character, url_problem
from reconciler.core.model import (
    CATALOG_TYPES,
    DEFAULT_CATALOG_TYPE,
    LOADERS,
    VALUE_FIELDS,
    split_architecture,
)
from reconciler.core.options import duration

#: Placeholders a path template may use.
TEMPLATE_FIELDS = (
    "cpu_family",
    "cpu_microarchitecture",
    "package",
    "version",
    "module_version",
    "catalog_version",
)
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
IGNORABLE = tuple(sorted({name for names in VALUE_FIELDS.values() for name in names}))


def _one_line(text: str) -> str:
    """No control character (the server's database refuses NUL; none belongs in a name)."""
    problem = bad_character(text)
    if problem:
        raise ValueError(problem)
    return text


def _lines(text: str) -> str:
    """As `_one_line`, but tabs and line breaks are allowed (descriptions)."""
    problem = bad_character(text, multiline=True)
    if problem:
        raise ValueError(problem)
    return text


def _check_url(text: str) -> str:
    """A URL the server's URLField takes, or "" (none)."""
    problem = bad_character(text) or (url_problem(text) if text else None)
    if problem:
        raise ValueError(problem)
    return text


MAX_METADATA = 512 * 1024  # bytes of JSON: a write's whole body must stay under ~1 MiB


def _check_metadata(value: dict[str, Any]) -> dict[str, Any]:
    _check_json(value)
    size = len(json.dumps(value, ensure_ascii=False).encode())
    if size > MAX_METADATA:
        raise ValueError(
            f"metadata is {size:,} bytes as JSON; at most {MAX_METADATA:,} (servers refuse "
            "request bodies over about 1 MiB)"
        )
    return value


def _check_json(value: Any) -> Any:
    """Every key and text in a JSON value is free of control characters but tab/newline,
    and every number is one JSON can carry (no .inf or .nan)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{value} is not a JSON number; write a finite number or a string")
    if isinstance(value, str):
        _lines(value)
    elif isinstance(value, list):
        for item in value:
            _check_json(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _lines(key)
            _check_json(item)
    return value


def _check_architecture(text: str) -> str:
    family, micro = split_architecture(text)
    for part, what, limit in (
        (family, "family", MAX_FAMILY),
        (micro, "microarchitecture", MAX_MICRO),
    ):
        if len(part) > limit:
            raise ValueError(
                f"the CPU {what} is {len(part)} characters long; at most {limit} allowed"
            )
    return text


def _check_family(text: str) -> str:
    if "/" in text:
        raise ValueError(f"{text!r} contains '/': the family is one word, e.g. x86_64")
    return text


def _check_micro(text: str) -> str:
    if text.startswith("/") or text.endswith("/") or "//" in text:
        raise ValueError(f"{text!r} is not a microarchitecture (e.g. amd/zen3, generic)")
    return text


def _check_template(text: str) -> str:
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        message = f"is not a valid path template ({exc}); write {{{{ for a literal {{"
        raise ValueError(message) from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in TEMPLATE_FIELDS:
            raise ValueError(
                f"unknown placeholder {{{name}}} in path template; "
                f"allowed: {', '.join('{' + n + '}' for n in TEMPLATE_FIELDS)}"
            )
        if spec or conversion:
            raise ValueError(f"placeholder {{{name}}} takes no format spec or conversion")
    return text


def _parse_date(value: object) -> str:
    """A YAML date or a "YYYY-MM-DD" string → "YYYY-MM-DD"."""
    if isinstance(value, dt.datetime):
        raise ValueError("must be a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        raise ValueError(f"must be a date in the form YYYY-MM-DD, not {type(value).__name__}")
    text = value.strip()
    if _DATE.match(text):
        try:
            return dt.date.fromisoformat(text).isoformat()
        except ValueError:
            pass
    raise ValueError(f"{text!r} is not a valid date in the form YYYY-MM-DD (or null for none)")


def _optional(description: str, **extra: str) -> Any:
    """An optional field with no null: left out means "not managed" (so the schema shows
    no default), with `extra` JSON Schema keywords."""

    def schema_extra(schema: dict[str, Any]) -> None:
        schema.pop("default", None)
        schema.update(extra)

    return Field(default=None, description=description, json_schema_extra=schema_extra)


# The strictest of the servers': cpu_family / target_name 100 everywhere; the microarchitecture
# is cpu_microarchitecture (100) on older servers but target_subtype (50) on current ones.
MAX_FAMILY = 100
MAX_MICRO = 50
_PART = "[^/\\u0000-\\u001f\\u007f]+"  # no slash, no control character


def _line(min_length: int, max_length: int) -> Any:
    """A one-line text of the given length (after stripping surrounding white space)."""
    return Annotated[
        str,
        Len(min_length=min_length, max_length=max_length),
        AfterValidator(_one_line),
    ]


Text = Annotated[str, Len(max_length=100_000), AfterValidator(_lines)]
# As the server's URLField: Django's URLValidator (http, https, ftp, ftps), 200 characters.
# Waldur's own loaders store whatever upstream lists (EESSI has homepages such as "(none)"):
# the importers drop those, and an export leaves them out (unmanaged).
Url = Annotated[str, Len(max_length=URL_FIELD_LENGTH), AfterValidator(_check_url)]
ARCH_PATTERN = f"^{_PART}/{_PART}(/{_PART})*$"
ArchitectureText = Annotated[
    str,
    Len(min_length=3, max_length=MAX_FAMILY + MAX_MICRO + 1),
    AfterValidator(_one_line),
    AfterValidator(_check_architecture),
]
Architecture = Annotated[ArchitectureText, Field(json_schema_extra={"pattern": ARCH_PATTERN})]
PathTemplate = Annotated[
    str, Len(max_length=500), AfterValidator(_one_line), AfterValidator(_check_template)
]
ReleaseDate = Annotated[
    str, BeforeValidator(_parse_date), Field(json_schema_extra={"format": "date"})
]
Ignorable = Literal[IGNORABLE]  # type: ignore[valid-type]
IGNORE_HELP = (
    "Value fields to stop managing here and in everything below (e.g. [description, homepage])"
)


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, str_strip_whitespace=True)


class TargetSpec(Spec):
    """One build of a version for one CPU architecture: either `architecture` or both
    `cpu_family` and `cpu_microarchitecture`."""

    model_config = ConfigDict(
        title="Target",
        json_schema_extra={
            "oneOf": [
                {"required": ["architecture"], "not": {"required": ["cpu_family"]}},
                {
                    "required": ["cpu_family", "cpu_microarchitecture"],
                    "not": {"required": ["architecture"]},
                },
            ]
        },
    )
    architecture: ArchitectureText = _optional(
        "Shorthand for cpu_family/cpu_microarchitecture, split at the first '/': "
        "x86_64/amd/zen3 is family x86_64, microarchitecture amd/zen3",
        pattern=ARCH_PATTERN,
    )
    cpu_family: Annotated[_line(1, MAX_FAMILY), AfterValidator(_check_family)] = _optional(
        "CPU family, e.g. x86_64 or aarch64", pattern=f"^{_PART}$"
    )
    cpu_microarchitecture: Annotated[_line(1, MAX_MICRO), AfterValidator(_check_micro)] = _optional(
        "Microarchitecture with its vendor prefix, e.g. amd/zen3, neoverse_v1, generic"
    )
    path: _line(0, 500) = _optional(
        "Install path, taken literally (no placeholders); left out: target_defaults.path "
        "is used if there is one, else the path is not managed"
    )

    @model_validator(mode="after")
    def _one_form(self) -> TargetSpec:
        pair = (self.cpu_family, self.cpu_microarchitecture)
        if self.architecture is not None and pair != (None, None):
            raise ValueError("give architecture or cpu_family + cpu_microarchitecture, not both")
        if self.architecture is None and None in pair:
            raise ValueError(
                "needs cpu_family and cpu_microarchitecture (or architecture: family/micro)"
            )
        return self


class VersionSpec(Spec):
    """One build of a package, identified by (version, module_version)."""

    model_config = ConfigDict(title="Version")
    version: _line(1, 100) = Field(description='The upstream version; quote numbers: "2024.4"')
    module_version: _line(0, 150) = Field(
        default="", description="The module version, e.g. 2024.4-foss-2023b (default empty)"
    )
    release_date: ReleaseDate | None = Field(
        default=None, description="Release date, YYYY-MM-DD (null: none)"
    )
    targets: list[TargetSpec] = _optional(
        "The targets of this version; replaces target_defaults ([] means none). Left out: "
        "the catalog's target_defaults, if any"
    )


class PackageSpec(Spec):
    """A piece of software in the catalog, identified by its name."""

    model_config = ConfigDict(title="Package")
    name: _line(1, 200) = Field(description="Package name (case-sensitive), e.g. GROMACS")
    description: Text | None = Field(default=None, description="Description (null: empty)")
    homepage: Url | None = Field(default=None, description="Homepage URL (null: none)")
    is_extension: bool = _optional("Whether the package is an extension of another")
    ignore_fields: list[Ignorable] = Field(default_factory=list, description=IGNORE_HELP)
    versions: list[VersionSpec] = Field(default_factory=list, description="The versions")


class TargetDefaults(Spec):
    """Targets given to every version of the catalog that lists none of its own."""

    model_config = ConfigDict(title="Target defaults")
    architectures: list[Architecture] = Field(
        default_factory=list,
        description="family/microarchitecture entries, e.g. [x86_64/generic, x86_64/amd/zen3]",
    )
    path: PathTemplate = _optional(
        "Path template for targets without an explicit path; placeholders: "
        + ", ".join("{" + n + "}" for n in TEMPLATE_FIELDS)
    )


class OfferingLinkSpec(Spec):
    """An offering (an HPC cluster in the marketplace) that exposes the catalog, for the CPU
    families and microarchitectures it runs."""

    model_config = ConfigDict(title="Offering link")
    offering: _line(1, 255) = Field(  # type: ignore[valid-type]
        description="The offering's exact name, or its uuid (hex, hyphens optional)"
    )
    enabled_cpu_family: list[_line(1, MAX_FAMILY)] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="CPU families, e.g. [x86_64, aarch64] (order does not matter)",
    )
    enabled_cpu_microarchitectures: list[_line(1, 100)] = Field(  # type: ignore[valid-type]
        default_factory=list,
        description="Microarchitectures, e.g. [generic, amd/zen3] (order does not matter)",
    )


def _check_duration(text: str) -> str:
    duration(text)
    return text


Duration = Annotated[str, AfterValidator(_check_duration)]
DURATION_PATTERN = "^[0-9]+(\\.[0-9]+)?[smhd]?$"


class ExpectSpec(Spec):
    """What every load must give (checked after each load; unmet: exit 3)."""

    model_config = ConfigDict(title="Load expectations")
    packages: list[_line(1, 200)] = Field(  # type: ignore[valid-type]
        default_factory=list, description="Packages that must be present, e.g. [GROMACS]"
    )
    architectures: list[Architecture] = Field(
        default_factory=list,
        description="Architectures every listed package must have, e.g. [x86_64/amd/zen3]",
    )
    min_packages: int = Field(default=0, ge=0, description="At least this many packages")


class CatalogSpec(Spec):
    """A software catalog, identified by (name, version, catalog_type)."""

    model_config = ConfigDict(title="Catalog")
    name: _line(1, 100) = Field(description="Catalog name, e.g. EESSI")
    version: _line(1, 50) = Field(description='Catalog version; quote numbers: "2023.06"')
    catalog_type: Literal[CATALOG_TYPES] = Field(  # type: ignore[valid-type]
        default=DEFAULT_CATALOG_TYPE, description="Kind of catalog (part of its identity)"
    )
    description: Text | None = Field(default=None, description="Description (null: empty)")
    source_url: Url | None = Field(default=None, description="Source URL (null: empty)")
    metadata: Annotated[dict[str, JsonValue], AfterValidator(_check_metadata)] = _optional(
        "Free-form JSON object"
    )
    auto_update_enabled: bool = _optional(
        "Let Waldur's own loader update this catalog (it may then rewrite it): usually false"
    )
    prune: bool = Field(
        default=True, description="Delete packages, versions and targets the file leaves out"
    )
    state: Literal["present", "absent"] = Field(
        default="present", description="absent: delete the catalog and everything in it"
    )
    allow_empty: bool = Field(
        default=False, description="Allow pruning every package (an empty package list)"
    )
    ignore_fields: list[Ignorable] = Field(default_factory=list, description=IGNORE_HELP)
    target_defaults: TargetDefaults = _optional("Targets of every version that lists none")
    offerings: list[OfferingLinkSpec] = _optional(
        "The offerings that expose this catalog ([] means none). Left out: its links are not "
        "managed"
    )
    packages: list[PackageSpec] = Field(default_factory=list, description="The packages")
    loader: Literal[tuple(LOADERS)] = _optional(  # type: ignore[valid-type]
        "Waldur's own loader fills this catalog (name EESSI or Spack; no packages then)"
    )
    expect: ExpectSpec = _optional("Loader catalogs: what every load must give")
    refresh: Duration = _optional(
        "Loader catalogs: load again when the last good load is older (e.g. 7d); "
        "left out: load once",
        pattern=DURATION_PATTERN,
    )


class DesiredFile(Spec):
    """A desired-state file of waldur-catalog-reconciler."""

    model_config = ConfigDict(title="Waldur software catalog desired state")
    catalogs: list[CatalogSpec] = Field(description="The catalogs this file declares")


class FileShape(Spec):
    """The top level only: catalogs are validated one by one (see `desired.py`)."""

    catalogs: list[Any]


#: The model of each nested list or mapping field, for naming the allowed keys.
CHILD_MODELS: dict[type[Spec], dict[str, type[Spec]]] = {
    FileShape: {"catalogs": CatalogSpec},
    CatalogSpec: {
        "packages": PackageSpec,
        "target_defaults": TargetDefaults,
        "offerings": OfferingLinkSpec,
        "expect": ExpectSpec,
    },
    PackageSpec: {"versions": VersionSpec},
    VersionSpec: {"targets": TargetSpec},
}


def desired_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a desired-state file, for `reconcile schema` and
    editors (``# yaml-language-server: $schema=…``)."""
    schema = DesiredFile.model_json_schema()
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
