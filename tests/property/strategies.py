"""Hypothesis strategies for desired-state documents, built from the README's file format.

Documents are plain Python data, written with `dump` (``yaml.safe_dump(allow_unicode=True)``,
without aliases: the loader refuses them), so YAML escapes carry what a file cannot hold raw
(``"a\\0b"``, ``"\\x7F"``, ``"\\uD800"``).

- `documents` / `small_documents`: well-formed documents. Unicode names (non-BMP, combining
  marks, right-to-left text, YAML look-alikes such as ``null`` or ``1.0``), values at and near
  every length limit, surrounding white space (both sides strip it), edge dates (0001-01-01,
  9999-12-31, leap days) as YAML dates or quoted text, many architectures in `target_defaults`
  and explicit targets of both forms, path templates with every placeholder, descriptions with
  line breaks and tabs, valid URLs of every scheme the server takes (IPv4, IPv6, IDN hosts,
  ports, user info, long paths), free-form metadata. `validate` must accept every one.
- `gray_documents`: well-formed documents with one or two values from `GRAY`, the grey zone
  where the offline check and the server could disagree ("(none)" as a homepage, ``.inf`` in
  metadata, white space around an architecture's slash, a 100-character microarchitecture,
  ...). Whatever `validate` accepts among them, the server must accept too. `GREY_CASES` is
  every grey value in every place of its kind, for exhaustive tests.
- `hostile_documents`: a well-formed document with exactly one value made hostile for its field
  (NUL and other C0 controls, DEL, lone surrogates, over-long values, bad URLs, bad dates, bad
  architectures, bad templates, wrong types), with the field's path, so a test can check that
  `validate` names it.
- `drifted(doc)`: `doc` edited as between two runs (creates, updates and deletes).

The limits are written here independently of the code under test (they are the server's, as
waldur_sim/serializers.py and the README give them), so a limit that drifts is caught.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

# -- limits (the server's max_length of each field) ------------------------------------------
CATALOG_NAME = 100
CATALOG_VERSION = 50
PACKAGE_NAME = 200
VERSION = 100
MODULE_VERSION = 150
URL = 200
FAMILY = 100  # cpu_family / target_name on every server
#: cpu_microarchitecture allows 100 on older servers, target_subtype 50 on current ones (Waldur
#: ≥ 7.9.2): a document every server takes keeps to 50.
MICRO = 50
PATH = 500
DESCRIPTION = 100_000
CATALOG_TYPES = ("binary_runtime", "source_package", "package_manager")
PLACEHOLDERS = (
    "cpu_family",
    "cpu_microarchitecture",
    "package",
    "version",
    "module_version",
    "catalog_version",
)

# -- characters --------------------------------------------------------------------------------
# Everything a value may hold: no control characters (C0, DEL, C1), no lone surrogates, no
# line/paragraph separators (the loader refuses those in a file).
_NOT_IN_VALUES = ("Cc", "Cs", "Zl", "Zp")
SAFE = st.characters(codec="utf-8", exclude_categories=_NOT_IN_VALUES)
SAFE_NO_SLASH = st.characters(
    codec="utf-8", exclude_categories=_NOT_IN_VALUES, exclude_characters="/"
)
MULTILINE = st.one_of(SAFE, st.sampled_from("\n\t"))
URL_CHARS = st.characters(codec="utf-8", exclude_categories=(*_NOT_IN_VALUES, "Zs"))

#: Whole words worth trying: Unicode of every kind, and text YAML would read as something else.
WORDS = (
    "GROMACS",
    "gromacs",
    "OpenFOAM",
    "R",
    "naïve",
    "Ünïcödé",
    "e\u0301\u0302",  # combining marks
    "שלום",  # right to left
    "مرحبا",
    "\u202eevil",  # right-to-left override
    "日本語",
    "😀🎉",
    "\U0001d518\U0001d52b\U0001d526\U0001d520\U0001d52c\U0001d521\U0001d522",  # Fraktur
    "🇺🇳",
    "\u200b",  # zero-width space (not white space)
    "\ufeffbom",
    "İß",
    "null",
    "~",
    "yes",
    "1.0",
    "0x1F",
    "2024-01-01",
    "-",
    "#",
    "a: b",
    "'",
    '"',
    "&a",
    "*b",
    "!tag",
    "%",
    "@",
    "`",
    "|",
    ">",
    "[x]",
    "{x}",
    "{{",
    "\\",
)
#: Fillers for values of an exact length (no white space, so stripping keeps the length).
FILLS = ("a", "Z9", "é", "e\u0301", "𝄞", "😀", "ש", "\u0627", "字", "\u200f", "ﬀ", "İ", "x.y_z-")
#: Surrounding white space: both sides strip it.
PADS = ("", "", "", " ", "  ", "\u3000", "\xa0")
PAD = st.sampled_from(PADS)


def exact(fill: str, length: int) -> str:
    """`fill` repeated to exactly `length` code points."""
    return (fill * (length // len(fill) + 1))[:length]


def _weighted(common: st.SearchStrategy[Any], rare: st.SearchStrategy[Any], one_in: int):
    """`rare` about once in `one_in` draws (and not where shrinking goes: 0 picks `common`)."""
    return st.integers(0, one_in - 1).flatmap(lambda n: rare if n == one_in - 1 else common)


@functools.cache
def text(
    min_size: int,
    max_size: int,
    *,
    multiline: bool = False,
    slash: bool = True,
    pad: bool = True,
) -> st.SearchStrategy[str]:
    """Text whose stripped length is within [min_size, max_size]."""
    alphabet = MULTILINE if multiline else (SAFE if slash else SAFE_NO_SLASH)
    near_limit = st.builds(
        exact, st.sampled_from(FILLS), st.integers(max(1, max_size - 3), max_size)
    )
    pieces = st.one_of(
        st.text(alphabet, min_size=1, max_size=min(max_size, 16)),
        st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
        near_limit if max_size < 1000 else _weighted(st.just("x"), near_limit, 20),
    )
    if not slash:
        pieces = pieces.filter(lambda s: "/" not in s)
    if pad:
        pads = st.sampled_from(PADS)
        pieces = st.builds(lambda left, s, right: left + s + right, pads, pieces, pads)
    if min_size == 0:
        pieces = st.one_of(st.just(""), pieces)
    return pieces.filter(lambda s: min_size <= len(s.strip()) <= max_size)


# -- URLs the server's URLField takes ------------------------------------------------------------
_HOSTS = (
    "example.org",
    "www.example.co.uk",
    "a-b.c-d.example",
    "example.org.",
    "localhost",
    "127.0.0.1",
    "255.255.255.255",
    "[::1]",
    "[2001:db8::1]",
    "xn--e1afmkfd.xn--p1ai",
    "пример.рф",
    "例え.テスト",
    "bücher.example",
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(("http", "https", "ftp", "ftps", "HTTPS", "Ftp")))
    user = draw(st.sampled_from(("", "", "user@", "user:secret@")))
    host = draw(st.sampled_from(_HOSTS))
    port = draw(st.sampled_from(("", "", ":1", ":8080", ":65535")))
    head = f"{scheme}://{user}{host}{port}"
    room = URL - len(head)
    rest = draw(
        st.one_of(
            st.sampled_from(("", "/", "/path/to/page.html", "/?q=1&r=2#frag", "#top", "/ü/😀")),
            st.text(URL_CHARS, max_size=min(room - 1, 40)).map(lambda s: "/" + s),
            st.integers(max(1, room - 2), room).map(lambda n: "/" + exact("a/b", n - 1)),
        )
    )
    pad = draw(PAD)
    return pad + head + rest + pad


# -- dates -----------------------------------------------------------------------------------------
EDGE_DATES = (
    dt.date(1, 1, 1),
    dt.date(9999, 12, 31),
    dt.date(2024, 2, 29),
    dt.date(2000, 2, 29),
    dt.date(1900, 2, 28),
    dt.date(1970, 1, 1),
)
_DATES = st.one_of(st.sampled_from(EDGE_DATES), st.dates())
#: A YAML date (unquoted), the same as quoted text, or null.
release_dates = st.one_of(_DATES, _DATES.map(dt.date.isoformat), st.none())

# -- metadata ------------------------------------------------------------------------------------
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    text(0, 40, multiline=True, pad=False),
)
metadata = st.dictionaries(
    text(0, 20, pad=False),
    st.recursive(
        _json_scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=3), st.dictionaries(text(0, 10, pad=False), inner, max_size=3)
        ),
        max_leaves=6,
    ),
    max_size=4,
)

# -- architectures ---------------------------------------------------------------------------------
families = text(1, FAMILY, slash=False, pad=False).map(str.strip)


@st.composite
def micros(draw: st.DrawFn) -> str:
    """A microarchitecture: one or more segments joined by '/', at most 100 characters."""
    segments = draw(_SEGMENTS)
    micro = "/".join(segments).strip()
    if len(micro) > MICRO or not micro:
        micro = draw(text(1, MICRO, slash=False, pad=False)).strip()
    return micro


architectures = st.builds(lambda f, m: (f, m), families, micros())


def arch_text(pair: tuple[str, str], pad: str = "") -> str:
    return f"{pad}{pair[0]}/{pair[1]}{pad}"


# -- the document --------------------------------------------------------------------------------


def _stripped_key(*values: str | None) -> tuple[str, ...]:
    return tuple((v or "").strip() for v in values)


@st.composite
def targets(draw: st.DrawFn) -> list[dict[str, Any]]:
    pairs = draw(_FEW_ARCHS)
    out = []
    for pair in pairs:
        if draw(st.booleans()):
            target: dict[str, Any] = {"architecture": arch_text(pair, draw(PAD))}
        else:
            target = {
                "cpu_family": draw(PAD) + pair[0] + draw(PAD),
                "cpu_microarchitecture": draw(PAD) + pair[1] + draw(PAD),
            }
        if draw(st.booleans()):
            target["path"] = draw(_PATHS)
        out.append(target)
    return out


@st.composite
def versions(draw: st.DrawFn) -> dict[str, Any]:
    version: dict[str, Any] = {"version": draw(_VERSIONS)}
    if draw(st.booleans()):
        version["module_version"] = draw(_MODULE_VERSIONS)
    if draw(st.booleans()):
        version["release_date"] = draw(release_dates)
    choice = draw(st.integers(0, 3))
    if choice == 1:
        version["targets"] = []
    elif choice >= 2:
        version["targets"] = draw(targets())
    return version


@st.composite
def packages(draw: st.DrawFn) -> dict[str, Any]:
    package: dict[str, Any] = {"name": draw(_PACKAGE_NAMES)}
    if draw(st.booleans()):
        package["description"] = draw(_DESCRIPTIONS)
    if draw(st.booleans()):
        package["homepage"] = draw(_URL_VALUES)
    if draw(st.booleans()):
        package["is_extension"] = draw(st.booleans())
    if draw(st.integers(0, 9)) == 9:
        package["ignore_fields"] = draw(
            st.lists(st.sampled_from(["description", "homepage", "release_date"]), unique=True)
        )
    package["versions"] = draw(_VERSION_LISTS)
    return package


TEMPLATE_PARTS = st.sampled_from(
    ["/cvmfs", "/software", "/ü", "/😀", "/{{literal}}", "/a b"]
    + ["/{" + name + "}" for name in PLACEHOLDERS]
)


@st.composite
def catalogs(draw: st.DrawFn) -> dict[str, Any]:
    catalog: dict[str, Any] = {
        "name": draw(_CATALOG_NAMES),
        "version": draw(_CATALOG_VERSIONS),
    }
    if draw(st.booleans()):
        catalog["catalog_type"] = draw(st.sampled_from(CATALOG_TYPES))
    if draw(st.booleans()):
        catalog["description"] = draw(_DESCRIPTIONS)
    if draw(st.booleans()):
        catalog["source_url"] = draw(_URL_VALUES)
    if draw(st.booleans()):
        catalog["metadata"] = draw(metadata)
    if draw(st.booleans()):
        catalog["auto_update_enabled"] = draw(st.booleans())
    if draw(st.booleans()):
        catalog["prune"] = draw(st.booleans())
    if draw(st.integers(0, 9)) == 9:
        catalog["ignore_fields"] = draw(
            st.lists(st.sampled_from(["description", "metadata", "homepage"]), unique=True)
        )
    if draw(st.integers(0, 19)) == 19:
        catalog["state"] = "absent"
        return catalog
    if draw(st.booleans()):
        pairs = draw(_DEFAULT_ARCHS)
        defaults: dict[str, Any] = {"architectures": [arch_text(p, draw(PAD)) for p in pairs]}
        if draw(st.booleans()):
            defaults["path"] = "".join(draw(st.lists(TEMPLATE_PARTS, min_size=1, max_size=6)))
        catalog["target_defaults"] = defaults
    catalog["packages"] = draw(_PACKAGE_LISTS)
    _fit_template(catalog)
    return catalog


_SEGMENTS = st.lists(text(1, 20, slash=False, pad=False), min_size=1, max_size=3)
_FEW_ARCHS = st.lists(architectures, max_size=5, unique_by=lambda p: p)
_DEFAULT_ARCHS = _weighted(
    st.lists(architectures, max_size=4, unique_by=lambda p: p),
    st.lists(architectures, min_size=5, max_size=16, unique_by=lambda p: p),  # many
    4,
)
_PATHS = text(0, PATH)
_VERSIONS = text(1, VERSION)
_MODULE_VERSIONS = text(0, MODULE_VERSION)
_PACKAGE_NAMES = text(1, PACKAGE_NAME)
_CATALOG_NAMES = text(1, CATALOG_NAME)
_CATALOG_VERSIONS = text(1, CATALOG_VERSION)
_DESCRIPTIONS = st.one_of(st.none(), text(0, DESCRIPTION, multiline=True))
_URL_VALUES = st.one_of(st.none(), st.just(""), urls())
_VERSION_LISTS = st.lists(
    versions(), max_size=3, unique_by=lambda v: _stripped_key(v["version"], v.get("module_version"))
)
_PACKAGE_LISTS = st.lists(packages(), max_size=3, unique_by=lambda p: p["name"].strip())


def _arch_of(target: dict[str, Any]) -> tuple[str, str]:
    if "architecture" in target:
        family, _, micro = target["architecture"].strip().partition("/")
        return family, micro
    return target["cpu_family"].strip(), target["cpu_microarchitecture"].strip()


def _fit_template(catalog: dict[str, Any]) -> None:
    """Shorten the path template if it would expand to more than 500 characters somewhere
    (the loader refuses that: a well-formed document must not)."""
    defaults = catalog.get("target_defaults") or {}
    template = defaults.get("path")
    if template is None:
        return
    values = {"catalog_version": catalog["version"].strip()}
    longest = 0
    default_archs = [_arch_of({"architecture": a}) for a in defaults["architectures"]]
    for package in catalog["packages"]:
        for version in package["versions"]:
            here = {
                **values,
                "package": package["name"].strip(),
                "version": version["version"].strip(),
                "module_version": (version.get("module_version") or "").strip(),
            }
            if "targets" in version:
                archs = [_arch_of(t) for t in version["targets"] if "path" not in t]
            else:
                archs = default_archs
            for family, micro in archs:
                expanded = template.strip().format_map(
                    {**here, "cpu_family": family, "cpu_microarchitecture": micro}
                )
                longest = max(longest, len(expanded))
    if longest > PATH:
        defaults["path"] = "/sw/{cpu_family}"


def _catalog_key(catalog: dict[str, Any]) -> tuple[str, ...]:
    return (
        *_stripped_key(catalog["name"], catalog["version"]),
        catalog.get("catalog_type", "binary_runtime"),
    )


documents = st.lists(catalogs(), min_size=1, max_size=2, unique_by=_catalog_key).map(
    lambda cats: {"catalogs": cats}
)


class _NoAliases(yaml.SafeDumper):
    """safe_dump, but a value used twice is written twice: the loader refuses aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


class _FastNoAliases(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(doc: Any, *, wide: bool = False) -> str:
    """The YAML text of `doc`, as ``yaml.safe_dump(doc, allow_unicode=True)`` writes it (but
    no aliases): libyaml's emitter, or PyYAML's own for what libyaml cannot encode (lone
    surrogates), which escapes the same way."""
    options = {"allow_unicode": True, "sort_keys": False, "width": 2**30 if wide else None}
    try:
        return yaml.dump(doc, Dumper=_FastNoAliases, **options)
    except (UnicodeEncodeError, yaml.YAMLError):
        return yaml.dump(doc, Dumper=_NoAliases, **options)


# -- slots: every place of a document that holds one value -------------------------------------


def slots(doc: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
    """(path, kind) of every single-value field of `doc`, present or addable."""
    out: list[tuple[tuple[str | int, ...], str]] = []
    for c, catalog in enumerate(doc["catalogs"]):
        cp: tuple[str | int, ...] = ("catalogs", c)
        out += [
            ((*cp, "name"), "catalog_name"),
            ((*cp, "version"), "catalog_version"),
            ((*cp, "catalog_type"), "catalog_type"),
            ((*cp, "description"), "description"),
            ((*cp, "source_url"), "url"),
            ((*cp, "metadata"), "metadata"),
        ]
        defaults = catalog.get("target_defaults")
        if defaults is not None:
            out.append(((*cp, "target_defaults", "path"), "template"))
            for a in range(len(defaults["architectures"])):
                out.append(((*cp, "target_defaults", "architectures", a), "architecture"))
        for p, package in enumerate(catalog.get("packages", [])):
            pp = (*cp, "packages", p)
            out += [
                ((*pp, "name"), "package_name"),
                ((*pp, "description"), "description"),
                ((*pp, "homepage"), "url"),
            ]
            for v, version in enumerate(package["versions"]):
                vp = (*pp, "versions", v)
                out += [
                    ((*vp, "version"), "version"),
                    ((*vp, "module_version"), "module_version"),
                    ((*vp, "release_date"), "release_date"),
                ]
                for t, target in enumerate(version.get("targets", [])):
                    tp = (*vp, "targets", t)
                    out.append(((*tp, "path"), "path"))
                    if "architecture" in target:
                        out.append(((*tp, "architecture"), "architecture"))
                    else:
                        out.append(((*tp, "cpu_family"), "cpu_family"))
                        out.append(((*tp, "cpu_microarchitecture"), "cpu_microarchitecture"))
    return out


def put(doc: dict[str, Any], path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """A copy of `doc` with `value` at `path`."""
    doc = copy.deepcopy(doc)
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return doc


# -- hostile values ------------------------------------------------------------------------------
LIMIT_OF = {
    "catalog_name": CATALOG_NAME,
    "catalog_version": CATALOG_VERSION,
    "package_name": PACKAGE_NAME,
    "version": VERSION,
    "module_version": MODULE_VERSION,
    "url": URL,
    "path": PATH,
    "template": PATH,
    "description": DESCRIPTION,
    "cpu_family": FAMILY,
    "cpu_microarchitecture": MICRO,
}
REQUIRED_TEXT = {"catalog_name", "catalog_version", "package_name", "version"}
ONE_LINE = {
    "catalog_name",
    "catalog_version",
    "package_name",
    "version",
    "module_version",
    "url",
    "path",
    "template",
    "cpu_family",
    "cpu_microarchitecture",
    "architecture",
}
C0_AND_DEL = [chr(c) for c in range(0x20)] + ["\x7f"]
BAD_URLS = (
    "(none)",
    "ftp//bad",
    "hhttps://x",
    "http://",
    "https://",
    "javascript:alert(1)",
    "http://exa mple.org/",
    "https://example.org/a b",
    "example.org",
    "www.example.org/path",
    "//example.org/",
    "mailto:someone@example.org",
    "file:///etc/passwd",
    "http://-bad-.example/",
    "http://😀.example/",
    "http://example",
    "http://256.1.1.1/",
    "http://[::1/",
    "http:/example.org",
    "https://example.org:port/",
)
BAD_DATES = (
    "2023-02-29",
    "2024-13-01",
    "2024-00-10",
    "0000-01-01",
    "10000-01-01",
    "2024-1-1",
    "20240101",
    "tomorrow",
    dt.datetime(2024, 1, 1, 10, 30),
    20240101,
    True,
)
BAD_ARCHITECTURES = (
    "x86_64",
    "/zen3",
    "x86_64/",
    "x86_64//zen3",
    "x86_64/amd/",
    "ab",
    "/",
    exact("a", FAMILY + 1) + "/zen3",
    "x86_64/" + exact("b", MICRO + 1),
)
BAD_TEMPLATES = (
    "/opt/{foo}",
    "/opt/{",
    "/opt/}",
    "/opt/{version!r}",
    "/opt/{version:>10}",
    "/opt/{0}",
    "/opt/{}",
    "/opt/{version.real}",
)
NOT_TEXT = (7, 2023.06, True, None, [], {})


@functools.cache
def interior(bad: str) -> st.SearchStrategy[str]:
    """`bad` inside a value (not at its ends, where stripping could remove it)."""
    edge = st.text(st.sampled_from("abcXYZ019_-éש😀"), min_size=1, max_size=5)
    return st.builds(lambda a, b: a + bad + b, edge, edge)


@functools.cache
def too_long(limit: int) -> st.SearchStrategy[str]:
    """1 to 3 characters over `limit` once stripped (padding does not count)."""
    fills = st.sampled_from([f for f in FILLS if "/" not in f])
    pads = st.sampled_from(PADS)
    return st.builds(
        lambda pad, fill, n: pad + exact(fill, limit + n) + pad, pads, fills, st.integers(1, 3)
    )


@functools.cache
def hostile_values(kind: str) -> st.SearchStrategy[Any]:
    """Values `validate` must refuse in a field of `kind`."""
    controls = C0_AND_DEL if kind in ONE_LINE else [c for c in C0_AND_DEL if c not in "\t\n"]
    options: list[st.SearchStrategy[Any]] = [
        st.sampled_from(controls).flatmap(interior),
        st.integers(0xD800, 0xDFFF).map(chr).flatmap(interior),  # lone surrogates
    ]
    if kind in LIMIT_OF:
        options.append(too_long(LIMIT_OF[kind]))
    if kind in REQUIRED_TEXT | {"cpu_family", "cpu_microarchitecture"}:
        options.append(st.sampled_from(["", "   ", "\u3000"]))
    if kind in REQUIRED_TEXT | {"module_version", "cpu_family", "cpu_microarchitecture"}:
        options.append(st.sampled_from(NOT_TEXT))
    if kind == "url":
        options += [st.sampled_from(BAD_URLS), st.sampled_from([7, True, []])]
        options.append(
            st.integers(1, 3).map(lambda n: "https://example.org/" + exact("a", URL - 19 + n))
        )
    if kind == "release_date":
        options = [st.sampled_from(BAD_DATES), *options[:2]]
    if kind == "architecture":
        options.append(st.sampled_from(BAD_ARCHITECTURES))
    if kind == "cpu_family":
        options.append(st.sampled_from(["x86/64", "/x86_64", "x86_64/"]))
    if kind == "cpu_microarchitecture":
        options.append(st.sampled_from(["/zen3", "zen3/", "amd//zen3", "/"]))
    if kind == "template":
        options.append(st.sampled_from(BAD_TEMPLATES))
    if kind == "catalog_type":
        options = [st.sampled_from(["binary", "Binary_runtime", "", "source-package", 1])]
    if kind == "metadata":
        bad = st.sampled_from(C0_AND_DEL).filter(lambda c: c not in "\t\n").flatmap(interior)
        options = [
            bad.map(lambda s: {"key": s}),
            bad.map(lambda s: {s: 1}),
            bad.map(lambda s: {"list": ["fine", s]}),
            bad.map(lambda s: {"deep": {"deeper": s}}),
            st.sampled_from([[], "text", 7]),
        ]
    return st.one_of(options)


@dataclass(frozen=True)
class Hostile:
    """A document with one hostile value, and where it is."""

    doc: dict[str, Any]
    path: tuple[str | int, ...]
    kind: str
    value: Any

    def __repr__(self) -> str:  # what a falsifying example shows: the value and its field
        return f"Hostile(kind={self.kind!r}, path={format_path(self.path)}, value={self.value!r})"


small_documents = st.lists(catalogs(), min_size=1, max_size=1, unique_by=_catalog_key).map(
    lambda cats: {"catalogs": cats}
)


@st.composite
def hostile_documents(draw: st.DrawFn) -> Hostile:
    doc = draw(small_documents)
    path, kind = draw(st.sampled_from(slots(doc)))
    value = draw(hostile_values(kind))
    return Hostile(put(doc, path, value), path, kind, value)


# -- grey-zone values ------------------------------------------------------------------------------
GRAY = {
    "url": (
        *BAD_URLS,
        "http://localhost",
        "http://localhost.",
        "http://a.b",
        "http://1.2.3.4:99999/",
        "HTTP://EXAMPLE.ORG/",
        "https://例え.テスト/パス",
        "https://example.org/" + exact("a", URL - 20),
        "https://user:p@ss@example.org/",
        "https://example.org/\u200b",
        "https://example.org/\xa0x",
        "  https://example.org/  ",
    ),
    "metadata": (
        {"x": float("inf")},
        {"x": float("-inf")},
        {"x": float("nan")},
        {"x": 2**64},
        {"x": -(2**70)},
        {"x": 1e308},
        {"x": -0.0},
        {"": None},
        {"x": "\ufeff"},
        {"x": "a\u0085b"},
        {"x": "a\u2028b"},
        {"x": [[[[[[[[[[[[[[[[[[[[["deep"]]]]]]]]]]]]]]]]]]]]]},
        {"x": dt.date(2024, 2, 29)},
        {"x": "\ud83d"},
    ),
    "architecture": (
        "x86_64 /zen3",
        "x86_64/ zen3",
        "x86_64\u3000/zen3",
        "x86_64/amd /zen3",
        "x86_64/amd/ zen3",
        " x86_64/zen3 ",
        "x86_64/\u200b",
        "😀/😀",
        exact("a", FAMILY) + "/" + exact("b", MICRO),
        exact("a", FAMILY) + "/" + exact("b", 100),  # the older servers' limit
    ),
    "cpu_family": (" x86_64", "x86 64", "\u200b", exact("𝄞", FAMILY)),
    "cpu_microarchitecture": (
        "amd /zen3",
        "amd/ zen3",
        "a/b/c/d",
        exact("𝄞", MICRO),
        exact("𝄞", 100),  # the older servers' limit
    ),
    "release_date": ("2024-1-1", "2024-02-30", "1-01-01", "9999-12-31", dt.date(1, 1, 1)),
    "text": (
        "a\x00b",
        "a\x1bb",
        "a\x85b",
        "a\u2028b",
        "a\ufeffb",
        "a\ud800b",
        "a\tb",
        "a\nb",
        "a\rb",
        " a ",
        "\u200b",
        "\u180e",
        "a\x1c",
        "\x1fa",
    ),
    "template": ("/{{", "/}}", "/{version}{version}", "/p\t", "/p/" + exact("𝄞", PATH - 3)),
}
_GRAY_KIND = {
    "catalog_name": "text",
    "catalog_version": "text",
    "package_name": "text",
    "version": "text",
    "module_version": "text",
    "description": "text",
    "path": "text",
}


@st.composite
def gray_documents(draw: st.DrawFn, *, small: bool = False) -> tuple[dict[str, Any], list[Any]]:
    """A well-formed document with one or two grey-zone values, and what was put where."""
    doc = draw(small_documents if small else documents)
    changes: list[Any] = []
    used: set[tuple[str | int, ...]] = set()
    for _ in range(draw(st.integers(1, 2))):
        candidates = [
            (path, _GRAY_KIND.get(kind, kind))
            for path, kind in slots(doc)
            if _GRAY_KIND.get(kind, kind) in GRAY and path not in used
        ]
        path, kind = draw(st.sampled_from(candidates))
        used.add(path)
        value = draw(st.sampled_from(GRAY[kind]))
        doc = put(doc, path, value)
        changes.append((format_path(path), value))
    return doc, changes


# -- every grey-zone value in a place of its kind, each in a catalog of its own ------------------
_PKG = {"name": "P", "homepage": "https://example.org/p"}
_VER = {"version": "1", "module_version": "1-foss", "release_date": "2024-02-29", "targets": []}
_ARCH = {"architecture": "x86_64/zen3"}
_PAIR = {"cpu_family": "aarch64", "cpu_microarchitecture": "a64fx", "path": "/p"}
_DEFAULTS = {
    "architectures": ["x86_64/generic"],
    "path": "/sw/{cpu_family}/{cpu_microarchitecture}",
}
#: The smallest catalog (beyond name and version) that holds each place a grey value goes.
_GREY_PLACES: dict[str, tuple[tuple[tuple[str | int, ...], dict[str, Any]], ...]] = {
    "url": (
        (("source_url",), {}),
        (("packages", 0, "homepage"), {"packages": [{**_PKG, "versions": []}]}),
    ),
    "metadata": ((("metadata",), {}),),
    "architecture": (
        (
            ("target_defaults", "architectures", 0),
            {"target_defaults": _DEFAULTS, "packages": [{**_PKG, "versions": [{"version": "2"}]}]},
        ),
        (
            ("packages", 0, "versions", 0, "targets", 0, "architecture"),
            {"packages": [{**_PKG, "versions": [{**_VER, "targets": [_ARCH]}]}]},
        ),
    ),
    "cpu_family": (
        (
            ("packages", 0, "versions", 0, "targets", 0, "cpu_family"),
            {"packages": [{**_PKG, "versions": [{**_VER, "targets": [_PAIR]}]}]},
        ),
    ),
    "cpu_microarchitecture": (
        (
            ("packages", 0, "versions", 0, "targets", 0, "cpu_microarchitecture"),
            {"packages": [{**_PKG, "versions": [{**_VER, "targets": [_PAIR]}]}]},
        ),
    ),
    "release_date": (
        (
            ("packages", 0, "versions", 0, "release_date"),
            {"packages": [{**_PKG, "versions": [_VER]}]},
        ),
    ),
    "text": (
        (("name",), {}),
        (("description",), {}),
        (("packages", 0, "name"), {"packages": [{**_PKG, "versions": []}]}),
        (("packages", 0, "versions", 0, "version"), {"packages": [{**_PKG, "versions": [_VER]}]}),
        (
            ("packages", 0, "versions", 0, "module_version"),
            {"packages": [{**_PKG, "versions": [_VER]}]},
        ),
        (
            ("packages", 0, "versions", 0, "targets", 0, "path"),
            {"packages": [{**_PKG, "versions": [{**_VER, "targets": [_PAIR]}]}]},
        ),
    ),
    "template": (
        (
            ("target_defaults", "path"),
            {"target_defaults": _DEFAULTS, "packages": [{**_PKG, "versions": [{"version": "2"}]}]},
        ),
    ),
}
GreyCase = tuple[tuple[str | int, ...], dict[str, Any], Any]  # (path, catalog body, value)
#: Too big to draw at random: over any server's request limit (Django's default: 2.5 MB).
GRAY_HUGE = {"metadata": ({"blob": exact("a", 3_000_000)},)}
#: Every grey value in every place of its kind.
GREY_CASES: tuple[GreyCase, ...] = tuple(
    (path, body, value)
    for gray in (GRAY, GRAY_HUGE)
    for kind, values in gray.items()
    for value in values
    for path, body in _GREY_PLACES[kind]
)


#: JSON values apart from text: a value the HTTP client cannot encode stops a whole run, so
#: each group gets a run of its own.
GREY_GROUPS = {
    "json": [case for case in GREY_CASES if case[0] == ("metadata",)],
    "text": [case for case in GREY_CASES if case[0] != ("metadata",)],
}


def grey_catalog(number: int, case: GreyCase) -> dict[str, Any]:
    """Catalog "grey NUMBER" (version "vNUMBER": unique even where the name is the value)."""
    path, body, value = case
    return put({"name": f"grey {number}", "version": f"v{number}", **body}, path, value)


def describe_case(case: GreyCase) -> str:
    return f"{format_path(('catalogs', 0, *case[0]))} = {case[2]!r}"


# -- drift: a second document for the same catalogs ------------------------------------------------


@st.composite
def drifted(draw: st.DrawFn, doc: dict[str, Any]) -> dict[str, Any]:
    """`doc` edited as a person would between two runs: fields changed, objects added and
    removed, architectures changed; the catalogs (their keys) stay."""
    out = {"catalogs": []}
    for catalog in doc["catalogs"]:
        new = copy.deepcopy(catalog)
        if new.get("state") == "absent":
            out["catalogs"].append(new)
            continue
        new["allow_empty"] = True
        for name, strategy in (
            ("description", st.one_of(st.none(), text(0, 200, multiline=True))),
            ("source_url", st.one_of(st.none(), urls())),
            ("metadata", metadata),
            ("auto_update_enabled", st.booleans()),
        ):
            if draw(st.integers(0, 2)) == 0:
                new[name] = draw(strategy)
        if "target_defaults" in new and draw(st.booleans()):
            archs = new["target_defaults"]["architectures"]
            keep = draw(st.lists(st.sampled_from(archs), unique=True)) if archs else []
            more = draw(st.lists(architectures, max_size=3, unique_by=lambda p: p))
            seen = {_arch_of({"architecture": a}) for a in keep}
            keep += [arch_text(p) for p in more if p not in seen]
            new["target_defaults"]["architectures"] = keep
        kept = []
        for package in new.get("packages", []):
            fate = draw(st.integers(0, 3))
            if fate == 0:
                continue  # removed
            if fate == 2:
                package["description"] = draw(text(0, 100, multiline=True))
                package["homepage"] = draw(st.one_of(st.none(), urls()))
                package["is_extension"] = draw(st.booleans())
            if fate == 3:
                package["versions"] = [
                    v for v in package["versions"] if draw(st.booleans())
                ] + draw(st.lists(versions(), max_size=2))
                unique: dict[tuple[str, ...], Any] = {}
                for v in package["versions"]:
                    unique.setdefault(_stripped_key(v["version"], v.get("module_version")), v)
                package["versions"] = list(unique.values())
                for v in package["versions"]:
                    if draw(st.booleans()):
                        v["release_date"] = draw(release_dates)
            kept.append(package)
        names = {p["name"].strip() for p in kept}
        for package in draw(st.lists(packages(), max_size=2)):
            if package["name"].strip() not in names:
                names.add(package["name"].strip())
                kept.append(package)
        new["packages"] = kept
        _fit_template(new)
        out["catalogs"].append(new)
    return out


# -- formatting, independent of the code under test ----------------------------------------------


def format_path(path: tuple[str | int, ...]) -> str:
    text_ = ""
    for part in path:
        text_ += f"[{part}]" if isinstance(part, int) else (f".{part}" if text_ else part)
    return text_


def key_lines(yaml_text: str, path: tuple[str | int, ...]) -> tuple[int, int, int]:
    """(line of the field's key or list item, first line, last line of its value), 1-based,
    from PyYAML's own composer (not the loader under test)."""
    try:
        node = yaml.compose(yaml_text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:  # libyaml refuses a lone surrogate's escape; PyYAML reads it
        node = yaml.compose(yaml_text, Loader=yaml.SafeLoader)
    line = 1
    for part in path:
        if isinstance(part, int):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            for key, value in node.value:
                if key.value == part:
                    line = key.start_mark.line + 1
                    node = value
                    break
            else:
                raise KeyError(part)
    return line, node.start_mark.line + 1, node.end_mark.line + 1
