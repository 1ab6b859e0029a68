"""A load as upstream's `BaseCatalogLoader._load_to_database` makes it: one transaction.

Inside the caller's write transaction (so the packages appear all at once, or not at all):

1. the catalog gets the loaded `version`, `last_successful_update` = now and, as upstream does
   with `SOFTWARE_CATALOG_UPDATE_EXISTING_PACKAGES` on (its default), `source_url`,
   `description` and `metadata`;
2. with `sync` (`update_catalog`): packages whose name the source no longer lists are deleted,
   and of each listed package the versions whose key (module version, else version) it no longer
   lists;
3. missing packages, versions and targets are inserted (upstream's `bulk_create(...,
   ignore_conflicts=True)`); rows that exist are never updated, and stale targets of a kept
   version are never deleted.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from waldur_sim.loaders.data import CatalogData


@dataclass(frozen=True, slots=True)
class LoadCounts:
    packages_created: int = 0
    versions_created: int = 0
    targets_created: int = 0
    packages_deleted: int = 0
    versions_deleted: int = 0


def write(
    conn: sqlite3.Connection,
    stamp: Callable[[], str],
    catalog_id: int,
    data: CatalogData,
    *,
    sync: bool,
) -> LoadCounts:
    now = stamp()
    conn.execute(
        "UPDATE catalog SET version = ?, source_url = ?, description = ?, metadata = ?, "
        "last_successful_update = ?, modified = ? WHERE id = ?",
        (
            data.version,
            data.source_url,
            data.description,
            _dumps(data.metadata),
            now,
            now,
            catalog_id,
        ),
    )
    incoming = {package.name: package for package in data.packages.values()}
    packages = _ids(conn, "SELECT name, id FROM package WHERE catalog_id = ?", (catalog_id,))
    packages_deleted = versions_deleted = 0
    if sync:
        gone = [row_id for name, row_id in packages.items() if name not in incoming]
        packages_deleted = _delete(conn, "package", gone)
    new_packages = [p for name, p in incoming.items() if name not in packages]
    _insert(
        conn,
        "package",
        ("catalog_id", "name", "description", "homepage", "is_extension"),
        [
            (catalog_id, p.name, p.description, p.homepage, int(p.is_extension))
            for p in new_packages
        ],
        stamp,
    )
    packages = _ids(conn, "SELECT name, id FROM package WHERE catalog_id = ?", (catalog_id,))
    versions: dict[tuple[int, str], int] = {}
    for row_id, package_id, number, module_version in conn.execute(
        "SELECT v.id, v.package_id, v.version, v.module_version FROM version v "
        "JOIN package p ON p.id = v.package_id WHERE p.catalog_id = ?",
        (catalog_id,),
    ):
        versions[(package_id, module_version or number)] = row_id
    if sync:
        wanted = {(packages[name], key) for name, p in incoming.items() for key in p.versions}
        gone = [row_id for key, row_id in versions.items() if key not in wanted]
        versions_deleted = _delete(conn, "version", gone)
    new_versions = [
        (packages[name], v.version, v.module_version)
        for name, p in incoming.items()
        for key, v in p.versions.items()
        if (packages[name], key) not in versions
    ]
    created = _insert(
        conn, "version", ("package_id", "version", "module_version"), new_versions, stamp
    )
    version_ids: dict[tuple[int, str], int] = {}
    for row_id, package_id, number, module_version in conn.execute(
        "SELECT v.id, v.package_id, v.version, v.module_version FROM version v "
        "JOIN package p ON p.id = v.package_id WHERE p.catalog_id = ?",
        (catalog_id,),
    ):
        version_ids[(package_id, module_version or number)] = row_id
    targets = [
        (
            version_ids[(packages[name], key)],
            t.target_type,
            t.target_name,
            t.target_subtype,
            t.location,
            _dumps(t.metadata),
            _dumps(t.gpu_architectures),
        )
        for name, p in incoming.items()
        for key, v in p.versions.items()
        for t in v.targets
    ]
    targets_created = _insert(
        conn,
        "target",
        (
            "version_id",
            "target_type",
            "target_name",
            "target_subtype",
            "location",
            "metadata",
            "gpu_architectures",
        ),
        targets,
        stamp,
    )
    return LoadCounts(
        len(new_packages), created, targets_created, packages_deleted, versions_deleted
    )


def _ids(conn: sqlite3.Connection, sql: str, params: tuple[Any, ...]) -> dict[Any, int]:
    return {key: row_id for key, row_id in conn.execute(sql, params)}


def _delete(conn: sqlite3.Connection, table: str, ids: list[int]) -> int:
    conn.executemany(f"DELETE FROM {table} WHERE id = ?", [(row_id,) for row_id in ids])
    return len(ids)


def _insert(
    conn: sqlite3.Connection,
    table: str,
    columns: tuple[str, ...],
    rows: Iterable[tuple[Any, ...]],
    stamp: Callable[[], str],
) -> int:
    """Insert what is not there yet (a row whose natural key exists is left as it is)."""
    names = ", ".join(("uuid", "created", "modified", *columns))
    marks = ", ".join("?" * (len(columns) + 3))
    sql = f"INSERT OR IGNORE INTO {table} ({names}) VALUES ({marks})"
    before = conn.total_changes
    conn.executemany(sql, [(uuid.uuid4().hex, s, s, *row) for row in rows for s in (stamp(),)])
    return conn.total_changes - before


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
