"""Offerings and their links to catalogs: one listing, then resolution and observation.

A catalog is visible to users through the offerings (HPC clusters) that link it. The links
live on the offerings: ``GET /api/marketplace-provider-offerings/`` embeds each offering's
``software_catalogs`` in list responses, so one (paged) listing of the offerings the token
may see tells everything: which offering a declared name or uuid means, and every link of
every declared catalog (for pruning). ``field=`` keeps the pages small.

- `resolve` turns the file's offering references (an exact name, or a uuid with or without
  hyphens) into offering uuids, the keys links are planned by. No match, several matches or
  the same offering twice under one catalog is an `InputError` naming the file and line,
  before anything is written. An offering the token cannot see is reported as "not visible
  to this token": Waldur answers non-staff users without a role on the offering with an
  empty list, so it cannot be told apart from one that does not exist.
- `observe_links` adds the live links of the catalogs whose links the files manage, keyed the
  same way, each with its link uuid and the URL of the offering it was read from (a link is
  only ever updated or removed through that same offering).

Partitions (a link may name a partition of its offering) are not managed: never sent, never
compared.
"""

from __future__ import annotations

import uuid as uuidlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urljoin

from reconciler.core.errors import ApiError, InputError
from reconciler.core.model import VALUE_FIELDS, DesiredState, Key, Kind, ObservedState, Record
from reconciler.remote.client import WaldurClient

PATH = "marketplace-provider-offerings/"
FIELDS = ("uuid", "url", "name", "customer_name", "software_catalogs")
LINK_FIELDS = VALUE_FIELDS[Kind.OFFERING_LINK]


@dataclass
class Offerings:
    """The offerings visible to the token, as one listing read them."""

    items: list[dict[str, Any]] = field(default_factory=list)
    complete: bool = True
    reason: str = ""
    requests: int = 0

    def by_uuid(self) -> dict[str, dict[str, Any]]:
        return {str(o.get("uuid")): o for o in self.items}


def offerings_url(client: WaldurClient) -> str:
    return urljoin(client.api_url, PATH)


def offering_url(client: WaldurClient, offering_uuid: str) -> str:
    """The offering's URL, built from the API URL and its uuid (never the server's `url`)."""
    plain = as_uuid(offering_uuid)
    if plain is None:
        raise ApiError(f"the offering uuid {offering_uuid!r} is not a uuid")
    return f"{offerings_url(client)}{plain}/"


def action_url(client: WaldurClient, offering_uuid: str, action: str) -> str:
    return f"{offering_url(client, offering_uuid)}{action}/"


def read_offerings(client: WaldurClient) -> Offerings:
    listing = client.list_url(offerings_url(client), {"field": list(FIELDS)})
    return Offerings(listing.items, listing.complete, listing.reason, listing.requests)


def needed(desired: DesiredState) -> bool:
    """Whether any declared catalog manages its links (else offerings are not read at all)."""
    return any(policy.offerings for policy in desired.policies.values())


def as_uuid(text: str) -> str | None:
    """32 lowercase hex digits for a uuid in any usual spelling, else None (a name)."""
    try:
        return uuidlib.UUID(hex=text.strip()).hex
    except ValueError:
        return None


def resolve(desired: DesiredState, offerings: Offerings) -> DesiredState:
    """`desired` with each link keyed by its offering's uuid, or an `InputError`."""
    by_uuid = offerings.by_uuid()
    by_name: dict[str, list[dict[str, Any]]] = {}
    for offering in offerings.items:
        by_name.setdefault(str(offering.get("name")), []).append(offering)
    problems: list[str] = []
    records: dict[Key, Record] = {}
    for key, record in desired.records.items():
        if key.kind is not Kind.OFFERING_LINK:
            records[key] = record
            continue
        where = f"{record.source}: " if record.source else ""
        found, problem = _find(key.parts[3], by_uuid, by_name)
        if problem:
            problems.append(f"{where}offerings: {problem}")
            continue
        resolved = key.catalog.link(found)
        if resolved in records:
            first = records[resolved].source
            problems.append(
                f"{where}offerings: {key.parts[3]!r} is offering {found}, which the catalog "
                f"lists already (at {first})"
            )
            continue
        records[resolved] = replace(record, key=resolved)
    if problems:
        raise InputError(problems, what="the offerings visible on the server")
    return replace(desired, records=records)


def _find(
    ref: str, by_uuid: Mapping[str, dict[str, Any]], by_name: Mapping[str, list[dict[str, Any]]]
) -> tuple[str, str]:
    """(the uuid `ref` means, "") or ("", why there is none)."""
    as_hex = as_uuid(ref)
    if as_hex is not None and ref not in by_name:
        if as_hex in by_uuid:
            return as_hex, ""
        return "", (
            f"offering {ref} is not visible to this token (it does not exist, or the token's "
            "user is neither staff nor an owner of the organisation that provides it)"
        )
    matches = by_name.get(ref, [])
    if len(matches) == 1:
        return str(matches[0]["uuid"]), ""
    if not matches:
        close = sorted(name for name in by_name if name.lower() == ref.lower())
        hint = f"; names that differ only in case: {', '.join(close)}" if close else ""
        return "", (
            f"no offering named {ref!r} is visible to this token (names match exactly; the "
            f"offering may not exist, or the token's user cannot see it){hint}"
        )
    candidates = ", ".join(
        f"{o['uuid']} ({o.get('customer_name') or 'no organisation'})" for o in matches
    )
    return "", f"{len(matches)} offerings are named {ref!r}: give the uuid of one: {candidates}"


def observe_links(
    observed: ObservedState, desired: DesiredState, offerings: Offerings
) -> ObservedState:
    """`observed` plus the live links of the declared catalogs that manage their links, the
    offerings' names, and (for catalogs deleted whole) their links in the cascade count."""
    by_catalog_uuid = {
        record.uuid: key
        for key, record in observed.records.items()
        if key.kind is Kind.CATALOG and record.uuid
    }
    records = dict(observed.records)
    sizes = dict(observed.catalog_sizes)
    names: dict[str, str] = {}
    for offering in offerings.items:
        offering_uuid = str(offering.get("uuid"))
        names[offering_uuid] = str(offering.get("name"))
        for link in offering.get("software_catalogs") or []:
            catalog = by_catalog_uuid.get(str((link.get("catalog") or {}).get("uuid")))
            policy = desired.policies.get(catalog) if catalog is not None else None
            if catalog is None or policy is None:
                continue
            if policy.absent:
                sizes[catalog] = sizes.get(catalog, 0) + 1
                continue
            if not policy.offerings:
                continue
            key = catalog.link(offering_uuid)
            fields = {name: list(link.get(name) or []) for name in LINK_FIELDS}
            url = f"{PATH}{offering_uuid}/"
            records[key] = Record(key, fields, uuid=str(link.get("uuid")), url=url)
    complete = observed.complete and offerings.complete
    reason = observed.incomplete_reason
    if not offerings.complete:
        reason = "; ".join(filter(None, (reason, f"offerings: {offerings.reason}")))
    return replace(
        observed,
        records=records,
        catalog_sizes=sizes,
        offering_names=names,
        complete=complete,
        incomplete_reason=reason,
        requests=observed.requests + offerings.requests,
    )


def link_state(
    client: WaldurClient, desired: DesiredState, observed: ObservedState
) -> tuple[DesiredState, ObservedState]:
    """Resolve the files' offering references and add the live links, when any declared
    catalog manages its links (one listing of the offerings); else both unchanged, and no
    request is sent."""
    if not needed(desired):
        return desired, observed
    offerings = read_offerings(client)
    return resolve(desired, offerings), observe_links(observed, desired, offerings)
