"""Offerings, their software-catalog links and a catalog's CPU targets as upstream shows them.

An offering of the sim is a fresh Marketplace.Basic offering as upstream serializes it (sample
33): every field in upstream's order, with the values upstream gives an offering nobody has
described, priced or ordered yet; only its name, slug, organisation, creation time and
software catalogs differ. Offerings look the same in both target dialects (they exist only on
current upstream servers). Links have no partition in the sim (see `offerings.py`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from sqlite3 import Row
from typing import Any

from waldur_sim.kinds import OFFERINGS_SEGMENT
from waldur_sim.render import iso
from waldur_sim.serializers import CPU_RESTRICTABLE

#: The marketplace category of every offering of the sim.
CATEGORY_TITLE = "HPC"
CATEGORY_UUID = uuid.uuid5(uuid.NAMESPACE_URL, "waldur-sim:category:HPC").hex
OFFERING_TYPE = "Marketplace.Basic"

_EMPTY_TEXT = ("description", "full_description", "terms_of_service", "terms_of_service_link")
#: Upstream computes these for a retrieve only (a list leaves them out).
_DETAIL_ONLY = ("total_customers", "total_cost", "total_cost_estimated")


def _strings(text: str) -> list[str]:
    value = json.loads(text)
    return value if isinstance(value, list) else []


def embedded_link(link: Row) -> dict[str, Any]:
    """A link as an offering embeds it in `software_catalogs`."""
    return {
        "uuid": link["uuid"],
        "catalog": {
            "uuid": link["catalog_uuid"],
            "name": link["catalog_name"],
            "version": link["catalog_version"],
            "description": link["catalog_description"],
            "supports_cpu_target_restrictions": link["catalog_type"] == CPU_RESTRICTABLE,
        },
        "enabled_cpu_family": _strings(link["enabled_cpu_family"]),
        "enabled_cpu_microarchitectures": _strings(link["enabled_cpu_microarchitectures"]),
        "package_count": link["package_count"],
        "partition": None,
    }


def link_object(link: Row) -> dict[str, Any]:
    """The answer of `update_software_catalog` (samples 46 to 48): the link itself. Upstream
    adds `partition_name` after `partition` only when the link has a partition."""
    return {
        "uuid": link["uuid"],
        "created": iso(link["created"]),
        "modified": iso(link["modified"]),
        "offering": link["offering_uuid"],
        "catalog": link["catalog_uuid"],
        "offering_name": link["offering_name"],
        "catalog_name": link["catalog_name"],
        "catalog_version": link["catalog_version"],
        "enabled_cpu_family": _strings(link["enabled_cpu_family"]),
        "enabled_cpu_microarchitectures": _strings(link["enabled_cpu_microarchitectures"]),
        "partition": None,
    }


def offering(
    base: str, row: Row, links: Sequence[Row], *, detail: bool, selected: Sequence[str] = ()
) -> dict[str, Any]:
    """An offering's body; `selected` (the `field` query parameters) keeps only those fields,
    in the serializer's order, as Waldur's RestrictedSerializerMixin does."""
    body: dict[str, Any] = {
        "url": f"{base}/api/{OFFERINGS_SEGMENT}/{row['uuid']}/",
        "uuid": row["uuid"],
        "created": iso(row["created"]),
        "name": row["name"],
        "slug": row["slug"],
    }
    body |= dict.fromkeys(_EMPTY_TEXT, "")
    body |= {
        "privacy_policy_link": "",
        "endpoints": [],
        "software_catalogs": [embedded_link(link) for link in links],
        "roles": [],
        "customer": f"{base}/api/customers/{row['customer_uuid']}/",
        "customer_uuid": row["customer_uuid"],
        "customer_name": row["customer_name"],
        "project": None,
        "category": f"{base}/api/marketplace-categories/{CATEGORY_UUID}/",
        "category_uuid": CATEGORY_UUID,
        "category_title": CATEGORY_TITLE,
        "rating": None,
        "attributes": {},
        "options": {},
        "resource_options": {},
        "components": [],
        "plugin_options": {},
        "secret_options": {},
        "service_attributes": {},
        "state": "Active",
        "native_name": "",
        "native_description": "",
        "vendor_details": "",
        "getting_started": "",
        "integration_guide": "",
        "thumbnail": None,
        "order_count": 0,
        "plans": [],
        "screenshots": [],
        "type": OFFERING_TYPE,
    }
    body |= dict(shared=True, billable=True)  # (keyword form: see tests/unit/test_self_contained)
    body |= {
        "scope": None,
        "files": [],
        "paused_reason": "",
        "datacite_doi": "",
        "citation_count": -1,
        "latitude": None,
        "longitude": None,
        "country": "",
        "backend_id": "",
        "organization_groups": [],
        "image": None,
    }
    if detail:
        body |= dict.fromkeys(_DETAIL_ONLY, 0)
    body |= {
        "backend_metadata": {},
        "integration_status": [],
        "google_calendar_is_public": None,
        "google_calendar_link": None,
    }
    if selected:
        return {name: value for name, value in body.items() if name in selected}
    return body


def cpu_targets(version: str, metadata: str) -> list[dict[str, str]]:
    """`GET …/marketplace-software-catalogs/<uuid>/cpu_targets/` (samples 61 to 68): the
    entries of `metadata.architectures_map[<catalog version>]`, sorted by name (`full_arch`),
    each with the family and microarchitecture of the architecture it maps to (split at the
    first `/`). Nothing else counts: a catalog without such a map has no CPU targets, whatever
    its targets are."""
    data = json.loads(metadata)
    archmap = data.get("architectures_map") if isinstance(data, Mapping) else None
    entries = archmap.get(version) if isinstance(archmap, Mapping) else None
    if not isinstance(entries, Mapping):
        return []
    targets = []
    for full_arch in sorted(entries):
        mapped = entries[full_arch]
        if not isinstance(mapped, str):
            continue
        family, _, micro = mapped.partition("/")
        targets.append(
            {"cpu_family": family, "cpu_microarchitecture": micro, "full_arch": full_arch}
        )
    return targets
