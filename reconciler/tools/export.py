"""`reconcile export`: the live catalog(s) as a desired-state file, compact and exact.

The server is read by the same observer as a plan (so an export sees exactly what a plan
compares against), after declaring every catalog found, or those picked with
``--catalog NAME[@VERSION]``. The records become a document in the desired-state format:

- catalogs with every managed field (description, source_url, auto_update_enabled, metadata
  when not empty) and ``prune: true``;
- packages and versions sorted by key, with the fields that differ from what the server gives a
  new object (a description, a homepage, ``is_extension: true``, a release date): a field left
  out is then the server's default, so the file still describes the server exactly;
- targets compacted by `compact`: ``target_defaults`` with a path template for the versions
  that follow it, explicit ``targets`` with literal paths for the rest.

Before anything is written the document is loaded back with the real loader and compared
with what was observed; a difference (data the format cannot express) is an error, so an
exported file always plans to ``No changes.``.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from reconciler.core.errors import ApiError, AuthError, InputError, NotFound, ReconcileError
from reconciler.core.fieldrules import acceptable_url, bad_character
from reconciler.core.model import (
    DEFAULT_CATALOG_TYPE,
    URL_FIELDS,
    CatalogPolicy,
    DesiredState,
    Key,
    Kind,
    LoaderPolicy,
    ObservedState,
    Record,
    catalog_key,
    loader_for,
)
from reconciler.core.plan import same
from reconciler.core.urls import public_url
from reconciler.desired.loader import load_desired
from reconciler.remote.client import WaldurClient
from reconciler.remote.observe import observe
from reconciler.remote.offerings import (
    LINK_FIELDS,
    Offerings,
    observe_links,
    read_offerings,
    resolve,
)
from reconciler.tools import compact
from reconciler.tools.writer import SCHEMA_HINT, to_yaml

#: Value fields written only when they differ from the server's default for a new object.
_DEFAULTS: dict[str, Any] = {
    "description": "",
    "homepage": None,
    "is_extension": False,
    "release_date": None,
    "metadata": {},
}
_ALWAYS = frozenset({"description", "source_url", "auto_update_enabled"})  # catalog level


def parse_selectors(values: Iterable[str] | str | None) -> list[tuple[str, str | None]]:
    """``NAME[@VERSION]`` selectors, repeatable or comma-separated → (name, version|None)."""
    if values is None:
        return []
    items = [values] if isinstance(values, str) else list(values)
    out = []
    for item in items:
        for text in item.split(","):
            name, sep, version = text.strip().partition("@")
            if name:
                out.append((name, version if sep and version else None))
    return out


def loader_of(key: Key, row: Mapping[str, Any]) -> str | None:
    """The loader that fills the live catalog `row` of `key` (its name and type are a loader's,
    and a load was attempted on it), or None."""
    found = loader_for(key)
    if found and (row.get("last_successful_update") or row.get("last_update_attempt")):
        return found
    return None


def select_catalogs(
    client: WaldurClient, selectors: Sequence[tuple[str, str | None]], full: bool = False
) -> DesiredState:
    """A desired state that declares (without pruning) the live catalogs to export; those a
    Waldur loader fills as loader catalogs (their rows only), unless `full`."""
    listing = client.list_all(Kind.CATALOG)
    if not listing.complete:
        raise ApiError(f"the catalog listing could not be read completely: {listing.reason}")
    rows = [
        (
            catalog_key(
                str(c.get("name", "")),
                str(c.get("version", "")),
                str(c.get("catalog_type") or DEFAULT_CATALOG_TYPE),
            ),
            c,
        )
        for c in listing.items
    ]
    live = sorted(key for key, _ in rows)
    loaders = {key: found for key, c in rows if not full and (found := loader_of(key, c))}
    chosen = [k for k in live if not selectors or any(_matches(k, s) for s in selectors)]
    missing = [s for s in selectors if not any(_matches(k, s) for k in live)]
    if missing:
        names = ", ".join(n + (f"@{v}" if v else "") for n, v in missing)
        have = ", ".join(f"{k.parts[0]}@{k.parts[1]}" for k in live) or "none"
        raise ReconcileError(f"no catalog matches {names} on the server (it has: {have})")
    policies = {
        key: CatalogPolicy(
            prune=False, loader=LoaderPolicy(loaders[key]) if key in loaders else None
        )
        for key in chosen
    }
    return DesiredState(policies=policies)


def _matches(key: Key, selector: tuple[str, str | None]) -> bool:
    name, version = selector
    return key.parts[0] == name and version in (None, key.parts[1])


def read_server(
    client: WaldurClient,
    selectors: Sequence[tuple[str, str | None]],
    api_dialect: str = "auto",
    full: bool = False,
) -> tuple[ObservedState, Offerings | None]:
    """Everything under the selected catalogs (a loader catalog's row only, unless `full`),
    and the offerings that link them (None when the token may not list offerings: the links
    are then left out, unmanaged); refuses an incomplete read."""
    selected = select_catalogs(client, selectors, full)
    observed = observe(client, selected, api_dialect)
    offerings = _offerings(client)
    if offerings is not None:
        linked = {key: replace(p, offerings=True) for key, p in selected.policies.items()}
        observed = observe_links(observed, replace(selected, policies=linked), offerings)
    if not observed.complete:
        raise ApiError(
            "the server could not be read completely, so an export would miss objects "
            f"(and a later apply would delete them): {observed.incomplete_reason}"
        )
    return observed, offerings


def _offerings(client: WaldurClient) -> Offerings | None:
    if client.config.token is None:
        return None
    try:
        return read_offerings(client)
    except (AuthError, NotFound):
        return None


def _fields(record: Record, catalog: bool = False) -> dict[str, Any]:
    """The record's value fields worth writing (see the module docstring)."""
    out = {}
    for name, value in record.fields.items():
        value = "" if value is None and name in ("description", "source_url") else value
        if not writable(name, value):
            continue  # left out: unmanaged, so the file validates and still plans to no change
        if (
            (catalog and name in _ALWAYS)
            or name not in _DEFAULTS
            or not same(name, value, _DEFAULTS[name])
        ):
            out[name] = value
    return out


def writable(name: str, value: Any) -> bool:
    """False for a value the server holds but would refuse on a write (Waldur's loaders write
    past its serializers: EESSI homepages such as "(none)"); an export leaves those out."""
    if not isinstance(value, str) or not value:
        return True
    if name in URL_FIELDS:
        return acceptable_url(value)
    return bad_character(value, multiline=True) is None


def unwritable(observed: ObservedState) -> int:
    """How many values of `observed` an export leaves out (see `writable`)."""
    return sum(
        not writable(name, value)
        for record in observed.records.values()
        for name, value in record.fields.items()
    )


def build_document(observed: ObservedState, links: bool = False) -> dict[str, Any]:
    """The desired-state document for every catalog in `observed` (with each catalog's
    ``offerings:`` when `links`: the offerings were read)."""
    children: dict[Key, list[Key]] = {}
    for key in observed.records:
        if key.parent is not None:
            children.setdefault(key.parent, []).append(key)
    catalogs = []
    for cat in sorted(k for k in observed.records if k.kind is Kind.CATALOG):
        doc = (
            _loader_catalog(observed.records[cat], loader_for(cat) or "")
            if cat in observed.loads
            else _catalog(observed.records, children, cat)
        )
        if links:
            found = [k for k in children.get(cat, []) if k.kind is Kind.OFFERING_LINK]
            doc["offerings"] = _links(observed, found)
            if "packages" in doc:
                doc["packages"] = doc.pop("packages")  # packages last: the long part
        catalogs.append(doc)
    return {"catalogs": catalogs}


def _links(observed: ObservedState, keys: list[Key]) -> list[dict[str, Any]]:
    """The links as the file spells them: the offering by its name where no other visible
    offering has that name, else by its uuid; CPU lists sorted."""
    names = observed.offering_names
    taken = Counter(names.values())
    out = []
    for key in keys:
        uuid = key.parts[3]
        name = names.get(uuid, "")
        fields = observed.records[key].fields
        out.append(
            {
                "offering": name if name and taken[name] == 1 else uuid,
                **{f: sorted(fields.get(f) or []) for f in LINK_FIELDS},
            }
        )
    return sorted(out, key=lambda link: str(link["offering"]))


def _loader_catalog(record: Record, loader: str) -> dict[str, Any]:
    """A catalog Waldur's loader fills, in the ``loader:`` form: its identity, the loader,
    auto_update_enabled (its contents and the fields the loader sets are the loader's)."""
    name, version, catalog_type = record.key.parts
    doc: dict[str, Any] = {"name": name, "version": version, "catalog_type": catalog_type}
    doc["loader"] = loader
    if "auto_update_enabled" in record.fields:
        doc["auto_update_enabled"] = record.fields["auto_update_enabled"]
    return doc


def _catalog(
    records: dict[Key, Record], children: dict[Key, list[Key]], cat: Key
) -> dict[str, Any]:
    name, version, catalog_type = cat.parts
    doc: dict[str, Any] = {"name": name, "version": version, "catalog_type": catalog_type}
    doc.update(_fields(records[cat], catalog=True))
    doc["prune"] = True
    entries: list[tuple[dict[str, Any], Key]] = []  # (version doc, version key)
    packages = []
    for pkg in sorted(k for k in children.get(cat, []) if k.kind is Kind.PACKAGE):
        package = {"name": pkg.parts[3], **_fields(records[pkg])}
        versions = []
        for ver in sorted(children.get(pkg, [])):
            entry = {"version": ver.parts[4]}
            if ver.parts[5]:
                entry["module_version"] = ver.parts[5]
            entry.update(_fields(records[ver]))
            versions.append(entry)
            entries.append((entry, ver))
        package["versions"] = versions
        packages.append(package)
    inputs = [_version_targets(records, children, key) for _, key in entries]
    found = compact.compact(version, inputs)
    if found.architectures:
        doc["target_defaults"] = {
            "architectures": [f"{family}/{micro}" for family, micro in found.architectures],
            "path": found.template,
        }
    for (entry, _), item, uses in zip(entries, inputs, found.uses_defaults, strict=True):
        if not uses and (item.targets or found.architectures):
            entry["targets"] = [
                {"architecture": f"{family}/{micro}", "path": path}
                for family, micro, path in sorted(item.targets)
            ]
    doc["packages"] = packages
    return doc


def _version_targets(
    records: dict[Key, Record], children: dict[Key, list[Key]], ver: Key
) -> compact.VersionTargets:
    targets = tuple(
        sorted(
            (t.parts[6], t.parts[7], str(records[t].fields.get("path") or ""))
            for t in children.get(ver, [])
        )
    )
    values = {"package": ver.parts[3], "version": ver.parts[4], "module_version": ver.parts[5]}
    return compact.VersionTargets(values, targets)


def header(api_url: str, observed: ObservedState) -> list[str]:
    public = public_url(api_url)
    counts: dict[str, int] = {}
    for key in observed.records:
        counts[key.kind.label] = counts.get(key.kind.label, 0) + 1
    summary = ", ".join(
        f"{counts.get(k.label, 0)} {k.label}{'' if counts.get(k.label) == 1 else 's'}" for k in Kind
    )
    left_out = unwritable(observed)
    note = (
        [
            f"{left_out} value{'s' if left_out != 1 else ''} the server holds but would refuse on "
            "a write (e.g. a homepage that is not a URL) left out, so unmanaged.",
        ]
        if left_out
        else []
    )
    return [
        f"Desired state exported from {public} by `reconcile export` ({summary}).",
        *note,
        "A field left out is not managed; prune: true deletes what the file leaves out.",
        "Check it offline with `reconcile validate -f FILE`; `reconcile plan -f FILE` must",
        "show `No changes.` until you edit it.",
        *SCHEMA_HINT,
    ]


def check_round_trip(
    text: str, observed: ObservedState, offerings: Offerings | None = None
) -> None:
    """Load `text` with the real loader (and resolve its offerings) and compare it with
    `observed`, or raise."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "export.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            desired = load_desired([path])
            if offerings is not None:
                desired = resolve(desired, offerings)
        except InputError as exc:
            raise ReconcileError(
                "the exported file would not load (the server holds data the format cannot "
                "express):\n" + "\n".join(f"  {p}" for p in exc.problems[:20])
            ) from None
    problems = [f"missing: {key}" for key in observed.records if key not in desired.records]
    loaders = {k for k, p in desired.policies.items() if p.loader is not None}
    if loaders != set(observed.loads):
        problems.append(f"loader catalogs {sorted(map(str, loaders))} read back differently")
    problems += [f"extra: {key}" for key in desired.records if key not in observed.records]
    for key, want in desired.records.items():
        have = observed.records.get(key)
        if have is None:
            continue
        for name, value in want.fields.items():
            if not same(name, value, have.fields.get(name)):
                problems.append(f"{key}: {name} {have.fields.get(name)!r} became {value!r}")
    if problems:
        raise ReconcileError(
            "the exported file does not reproduce the server exactly (a bug; please report "
            "it):\n" + "\n".join(f"  {p}" for p in problems[:20])
        )


def export_text(
    client: WaldurClient,
    selectors: Sequence[tuple[str, str | None]],
    api_dialect: str = "auto",
    full: bool = False,
) -> tuple[str, ObservedState]:
    """The exported file's text, checked to round-trip, and what was observed (a catalog a
    Waldur loader fills in the ``loader:`` form, unless `full`)."""
    observed, offerings = read_server(client, selectors, api_dialect, full)
    text = to_yaml(
        build_document(observed, offerings is not None), header(client.api_url, observed)
    )
    check_round_trip(text, observed, offerings)
    return text, observed
