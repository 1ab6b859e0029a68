"""The reconciler's own model of a software catalog: kinds, natural keys and records.

Both sides of a reconciliation normalise into these plain, frozen values: the desired state
(from YAML) and the observed state (from the Waldur API). Everything downstream (pairing,
diffing, planning, rendering) works on them only, so it never sees wire formats or YAML.

Natural keys (Waldur's uniqueness constraints):

    catalog        (name, version, catalog_type)
    package        catalog key + (name,)
    version        package key + (version, module_version)
    target         version key + (cpu_family, cpu_microarchitecture)
    offering_link  catalog key + (offering uuid,): which offering exposes the catalog

An offering link is not part of the catalog's tree on the server (it lives on the offering),
but it is declared under the catalog, goes with it when the catalog is deleted, and sorts
after the tree so that a catalog exists before anything links it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any


class Kind(IntEnum):
    """Object kinds, in dependency order: a parent always sorts before its children."""

    CATALOG = 0
    PACKAGE = 1
    VERSION = 2
    TARGET = 3
    OFFERING_LINK = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def in_tree(self) -> bool:
        """Catalog, package, version or target (not an offering link)."""
        return self is not Kind.OFFERING_LINK

    @property
    def parent(self) -> Kind | None:
        return _PARENT_KIND[self]

    @property
    def child(self) -> Kind | None:
        return _CHILD_KIND[self]


# Looked up for every record read or planned: a table, not an Enum call per use.
_PARENT_KIND: dict[Kind, Kind | None] = {k: Kind(k - 1) if k else None for k in Kind}
_PARENT_KIND[Kind.OFFERING_LINK] = Kind.CATALOG
_CHILD_KIND: dict[Kind, Kind | None] = {k: Kind(k + 1) if k < Kind.TARGET else None for k in Kind}
#: The kinds of the catalog tree, parent first (links are not part of it).
TREE: tuple[Kind, ...] = (Kind.CATALOG, Kind.PACKAGE, Kind.VERSION, Kind.TARGET)


#: Fields of each kind that form its natural key, in key order (own part only).
KEY_FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.CATALOG: ("name", "version", "catalog_type"),
    Kind.PACKAGE: ("name",),
    Kind.VERSION: ("version", "module_version"),
    Kind.TARGET: ("cpu_family", "cpu_microarchitecture"),
    Kind.OFFERING_LINK: ("offering",),
}

#: Writable, non-key fields the reconciler can manage, per kind (reconciler's names).
VALUE_FIELDS: dict[Kind, tuple[str, ...]] = {
    Kind.CATALOG: ("description", "source_url", "metadata", "auto_update_enabled"),
    Kind.PACKAGE: ("description", "homepage", "is_extension"),
    Kind.VERSION: ("release_date",),
    Kind.TARGET: ("path",),
    Kind.OFFERING_LINK: ("enabled_cpu_family", "enabled_cpu_microarchitectures"),
}

#: The field of a create's body that links it to its parent (a hyperlink).
PARENT_FIELD: dict[Kind, str] = {
    Kind.PACKAGE: "catalog",
    Kind.VERSION: "package",
    Kind.TARGET: "version",
}
#: Value fields that hold a URL (Django URLFields on the server).
URL_FIELDS = frozenset({"homepage", "source_url"})

#: Length of a full key tuple per kind.
KEY_LENGTH: dict[Kind, int] = {
    Kind.CATALOG: 3,
    Kind.PACKAGE: 4,
    Kind.VERSION: 6,
    Kind.TARGET: 8,
    Kind.OFFERING_LINK: 4,
}

DEFAULT_CATALOG_TYPE = "binary_runtime"
CATALOG_TYPES = ("binary_runtime", "source_package", "package_manager")


@dataclass(frozen=True, slots=True, order=True)
class Key:
    """A natural key: the kind plus the full tuple of key parts from the catalog down."""

    kind: Kind
    parts: tuple[str, ...]
    # Keys are hashed several times each (the observed records, the plan's lookups); a tuple
    # does not keep its hash, so the key does. Never pickled: `__reduce__` rebuilds it.
    _hash: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.parts) != KEY_LENGTH[self.kind]:
            raise ValueError(f"a {self.kind.label} key has {KEY_LENGTH[self.kind]} parts")
        object.__setattr__(self, "_hash", hash(self.parts))  # equal parts, other kind: rare

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[Key], tuple[Kind, tuple[str, ...]]]:
        return (Key, (self.kind, self.parts))

    @staticmethod
    def trusted(kind: Kind, parts: tuple[str, ...]) -> Key:
        """`Key(kind, parts)` for parts of the right length already (a signed cache entry,
        the server's objects under a known parent): no length check, and the slots are set
        directly instead of through the frozen class's `object.__setattr__` (1.3 → 0.75 µs).
        The bulk paths build tens of thousands of keys."""
        key = _new(Key)
        _KEY_KIND(key, kind)
        _KEY_PARTS(key, parts)
        _KEY_HASH(key, hash(parts))
        return key

    @property
    def parent(self) -> Key | None:
        parent = self.kind.parent
        return None if parent is None else Key(parent, self.parts[: KEY_LENGTH[parent]])

    @property
    def catalog(self) -> Key:
        return Key(Kind.CATALOG, self.parts[:3])

    def own(self) -> dict[str, str]:
        """This kind's own key fields as a mapping (e.g. {"name": "GROMACS"} for a package)."""
        start = 0 if self.kind.parent is None else KEY_LENGTH[self.kind.parent]
        return dict(zip(KEY_FIELDS[self.kind], self.parts[start:], strict=True))

    def link(self, offering_uuid: str) -> Key:
        """The key of this catalog's link to an offering."""
        return Key(Kind.OFFERING_LINK, (*self.parts[:3], offering_uuid))

    def child(self, *own: str) -> Key:
        kind = self.kind.child
        if kind is None:
            raise ValueError("a target has no children")
        return Key(kind, self.parts + own)

    def ancestors(self) -> Iterator[Key]:
        key = self.parent
        while key is not None:
            yield key
            key = key.parent

    def __str__(self) -> str:
        return format_key(self)


def catalog_key(name: str, version: str, catalog_type: str = DEFAULT_CATALOG_TYPE) -> Key:
    return Key(Kind.CATALOG, (name, version, catalog_type))


def version_label(key: Key) -> str:
    """`2024.4 (2024.4-foss-2023b)`: a version key's own part, as every output shows it."""
    version, module_version = key.parts[4], key.parts[5]
    return version + (f" ({module_version})" if module_version else "")


def format_key(key: Key) -> str:
    """Human form, e.g. `EESSI 2023.06 / GROMACS / 2024.4 (2024.4-foss-2023b) / x86_64/amd/zen3`.

    The catalog type is shown only when it is not the default (`binary_runtime`)."""
    p = key.parts
    text = f"{p[0]} {p[1]}" + ("" if p[2] == DEFAULT_CATALOG_TYPE else f" [{p[2]}]")
    if key.kind is Kind.OFFERING_LINK:
        return f"{text} → offering {p[3]}"
    if key.kind >= Kind.PACKAGE:
        text += f" / {p[3]}"
    if key.kind >= Kind.VERSION:
        text += f" / {version_label(key)}"
    if key.kind >= Kind.TARGET:
        text += f" / {p[6]}/{p[7]}"
    return text


@dataclass(frozen=True, slots=True)
class Record:
    """One object on either side.

    `fields` holds the non-key writable fields. For a desired record these are only the
    fields the YAML declares (the managed ones); for an observed record, every writable field
    the server returned, in the reconciler's names. `uuid` and `url` are set on observed
    records only. `source` names where a desired record was declared (``file:line``).
    """

    key: Key
    fields: Mapping[str, Any] = field(default_factory=dict)
    uuid: str | None = None
    url: str | None = None
    source: str | None = None

    @property
    def kind(self) -> Kind:
        return self.key.kind


_new = object.__new__
# The slot descriptors of the two frozen classes the bulk paths build tens of thousands of:
# setting a slot through its descriptor skips the frozen class's `__setattr__`.
_KEY_KIND, _KEY_PARTS, _KEY_HASH = (Key.__dict__[n].__set__ for n in ("kind", "parts", "_hash"))
_RECORD_SLOTS = tuple(
    Record.__dict__[name].__set__ for name in ("key", "fields", "uuid", "url", "source")
)


def make_record(
    key: Key,
    fields: Mapping[str, Any],
    uuid: str | None = None,
    url: str | None = None,
    source: str | None = None,
) -> Record:
    """`Record(key, fields, uuid, url, source)` in less than half the time (2.3 → 1.0 µs):
    the frozen dataclass's `__init__` sets each field through `object.__setattr__`. For the
    paths that build a record per object read (the server's pages, the desired-state cache)."""
    record = _new(Record)
    set_key, set_fields, set_uuid, set_url, set_source = _RECORD_SLOTS
    set_key(record, key)
    set_fields(record, fields)
    set_uuid(record, uuid)
    set_url(record, url)
    set_source(record, source)
    return record


#: The catalogs Waldur's own loaders fill: loader name → (catalog name, catalog type).
#: Upstream's update_catalog loads only these two (name, type) pairs.
LOADERS: dict[str, tuple[str, str]] = {
    "eessi": ("EESSI", "binary_runtime"),
    "spack": ("Spack", "source_package"),
}


def loader_named(name: str, catalog_type: str) -> str | None:
    """The loader that fills catalogs of this name and type (upstream picks them so), or None."""
    pair = (name, catalog_type)
    return next((loader for loader, owned in LOADERS.items() if owned == pair), None)


def loader_for(key: Key) -> str | None:
    """The loader that can fill the catalog of `key` (by its name and type), or None."""
    return loader_named(key.parts[0], key.parts[2])


@dataclass(frozen=True, slots=True)
class Expectations:
    """What a load must give, checked after every load: these packages present, each of them
    built for every one of these architectures (``family/micro``), at least this many
    packages."""

    packages: tuple[str, ...] = ()
    architectures: tuple[str, ...] = ()
    min_packages: int = 0

    @property
    def need_contents(self) -> bool:
        """Whether checking needs the packages themselves (not only the row's counts)."""
        return bool(self.packages)


@dataclass(frozen=True, slots=True)
class LoaderPolicy:
    """A catalog that one of Waldur's loaders fills (``loader:`` in the file)."""

    loader: str  # a key of LOADERS
    expect: Expectations = Expectations()
    refresh: float | None = None  # seconds: reload when the last good load is older


@dataclass(frozen=True, slots=True)
class CatalogPolicy:
    """What the desired state says about a declared catalog beyond its fields."""

    prune: bool = True
    absent: bool = False
    allow_empty: bool = False
    ignore_fields: frozenset[str] = frozenset()
    offerings: bool = False  # the file lists the offerings that link it (links are managed)
    loader: LoaderPolicy | None = None  # filled by Waldur's loader: its contents are not ours


@dataclass(slots=True)
class DesiredState:
    """Everything the desired files declare, flattened by key.

    `records` holds every declared object of every kind (catalogs included); `policies`
    has one entry per declared catalog. Catalogs with ``state: absent`` appear in
    `policies` (absent=True) and in `records`, but none of their children do.
    """

    records: dict[Key, Record] = field(default_factory=dict)
    policies: dict[Key, CatalogPolicy] = field(default_factory=dict)
    sources: tuple[str, ...] = ()

    def catalogs(self) -> list[Key]:
        return sorted(self.policies)

    def loaders(self) -> dict[Key, LoaderPolicy]:
        """The declared catalogs a Waldur loader fills (not those declared absent), in the
        order the files declare them."""
        return {
            key: policy.loader
            for key, policy in self.policies.items()
            if policy.loader is not None and not policy.absent
        }


@dataclass(slots=True)
class ObservedState:
    """What the server has, for the catalogs the desired state declares.

    `complete` is True only when every listing was read in full and matched its
    ``X-Result-Count``; deletes are planned only from a complete picture.
    """

    records: dict[Key, Record] = field(default_factory=dict)
    complete: bool = True
    incomplete_reason: str = ""
    dialect: str = "legacy"
    dialect_reason: str = ""
    requests: int = 0
    duplicates: list[str] = field(default_factory=list)
    read_path: str = "embedded"
    #: per live declared catalog, how many objects it holds below it (from its counts)
    catalog_sizes: dict[Key, int] = field(default_factory=dict)
    #: declared catalogs that show a Waldur loader's hand → what shows it
    loader_signs: dict[Key, str] = field(default_factory=dict)
    #: offering uuid → name, for the offerings the links name (for people to read)
    offering_names: dict[str, str] = field(default_factory=dict)
    #: loader catalogs: their live rows' load fields (`core.loaders.LoadState`)
    loads: dict[Key, Any] = field(default_factory=dict)
    #: loader catalogs whose expectations need them: package name → its architectures
    loader_contents: dict[Key, dict[str, frozenset[str]]] = field(default_factory=dict)
    #: when the server was read (ISO 8601, UTC): the plan's clock for refresh ages
    observed_at: str = ""


def split_architecture(text: str) -> tuple[str, str]:
    """`x86_64/amd/zen3` → (`x86_64`, `amd/zen3`): split at the first slash. Each half is
    stripped of surrounding white space, as the server strips each field it stores."""
    family, sep, micro = text.partition("/")
    family, micro = family.strip(), micro.strip()
    if not sep or not family or not micro or micro.startswith("/") or micro.endswith("/"):
        raise ValueError(
            f"architecture {text!r} is not 'family/microarchitecture' (e.g. x86_64/amd/zen3)"
        )
    return family, micro


KEY_NAMES = (
    "catalog",
    "catalog_version",
    "catalog_type",
    "package",
    "version",
    "module_version",
    "cpu_family",
    "cpu_microarchitecture",
)


#: The names of a link's key parts (it shares only the catalog's with the tree).
LINK_KEY_NAMES = ("catalog", "catalog_version", "catalog_type", "offering")


def key_names(kind: Kind) -> tuple[str, ...]:
    """The names of `kind`'s key parts in JSON (plans, saved plans)."""
    if kind is Kind.OFFERING_LINK:
        return LINK_KEY_NAMES
    return KEY_NAMES[: KEY_LENGTH[kind]]


def key_json(key: Key) -> dict[str, str]:
    return dict(zip(key_names(key.kind), key.parts, strict=True))
