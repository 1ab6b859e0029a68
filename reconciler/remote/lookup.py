"""Find one live object by its natural key: used before resending a write whose outcome is
unknown, and to adopt an object that a duplicate-key answer says exists already."""

from __future__ import annotations

from typing import Any

from reconciler.core import dialect as dialects
from reconciler.core.model import DEFAULT_CATALOG_TYPE, Key, Kind
from reconciler.core.urls import uuid_of
from reconciler.remote.client import WaldurClient


def _params(key: Key, parent_uuid: str | None) -> dict[str, Any]:
    own = key.own()
    if key.kind is Kind.CATALOG:
        return {"name": own["name"], "version": own["version"]}
    if key.kind is Kind.PACKAGE:
        return {"catalog_uuid": parent_uuid, "name_exact": own["name"]}
    if key.kind is Kind.VERSION:
        return {"package_uuid": parent_uuid, "version_exact": own["version"]}
    return {
        "version_uuid": parent_uuid,
        "cpu_family": own["cpu_family"],
        "cpu_microarchitecture": own["cpu_microarchitecture"],
    }


def _matches(key: Key, obj: dict[str, Any]) -> bool:
    own = key.own()
    if key.kind is Kind.TARGET:
        fields = dialects.target_from_wire(obj)
        return all(fields.get(k) == v for k, v in own.items()) and dialects.is_cpu_target(obj)
    if key.kind is Kind.CATALOG:
        obj = {**obj, "catalog_type": obj.get("catalog_type") or DEFAULT_CATALOG_TYPE}
    if key.kind is Kind.VERSION:
        obj = {**obj, "module_version": obj.get("module_version") or ""}
    return all(obj.get(k) == v for k, v in own.items())


def find(client: WaldurClient, key: Key, parent_url: str | None) -> dict[str, Any] | None:
    """The live object with `key` under the parent at `parent_url`, or None.

    The server's filters narrow the listing (some are substring matches); the exact match is
    made here, on the natural key.
    """
    parent_uuid = uuid_of(parent_url) if parent_url else None
    listing = client.list_all(key.kind, _params(key, parent_uuid))
    for obj in listing.items:
        if _matches(key, obj):
            return obj
    return None
