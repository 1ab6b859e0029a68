"""A load as upstream's `BaseCatalogLoader._load_to_database` makes it: one transaction.

Inside the caller's write transaction (so the packages appear all at once, or not at all):

1. the catalog gets the loaded `version` and, as upstream does with
   `SOFTWARE_CATALOG_UPDATE_EXISTING_PACKAGES` on (its default), `source_url`, `description`
   and `metadata` (the caller, `worker`, stamps `last_successful_update` in the same
   transaction);
2. with `sync` (`update_catalog`): packages whose name the source no longer lists are deleted,
   and of each listed package the versions whose key (module version, else version) it no longer
   lists;
3. missing packages, versions and targets are inserted (upstream's `bulk_create(...,
   ignore_conflicts=True)`: of two packages with one name, the first wins); rows that exist are
   never updated, and stale targets of a kept version are never deleted;
4. the parents of extension packages are set anew (upstream's `parent_softwares.set()`).

The store brings every database to the current schema when it opens it, so the columns and
the `package_parent` table written here are always there.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from waldur_sim.loaders.data import CatalogData, PackageData
from waldur_sim.store import set_parents


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
    conn.execute(
        "UPDATE catalog SET version = ?, source_url = ?, description = ?, metadata = ? "
        "WHERE id = ?",
        (data.version, data.source_url, data.description, _dumps(data.metadata), catalog_id),
    )
    incoming: dict[str, PackageData] = {}
    for package in data.packages.values():
        incoming.setdefault(package.name, package)
    packages = _ids(conn, "SELECT name, id FROM package WHERE catalog_id = ?", (catalog_id,))
    packages_deleted = versions_deleted = 0
    if sync:
        gone = [row_id for name, row_id in packages.items() if name not in incoming]
        packages_deleted = _delete(conn, "package", gone)
    new_packages = [p for name, p in incoming.items() if name not in packages]
    _insert(
        conn,
        "package",
        (
            "catalog_id",
            "name",
            "description",
            "homepage",
            "is_extension",
            "categories",
            "licenses",
            "maintainers",
        ),
        [
            (
                catalog_id,
                p.name,
                p.description,
                p.homepage,
                int(p.is_extension),
                _dumps(p.categories),
                _dumps(p.licenses),
                _dumps(p.maintainers),
            )
            for p in new_packages
        ],
        stamp,
    )
    packages = _ids(conn, "SELECT name, id FROM package WHERE catalog_id = ?", (catalog_id,))
    versions = _version_ids(conn, catalog_id)
    if sync:
        wanted = {(packages[name], key) for name, p in incoming.items() for key in p.versions}
        gone = [row_id for key, row_id in versions.items() if key not in wanted]
        versions_deleted = _delete(conn, "version", gone)
    new_versions = [
        (
            packages[name],
            v.version,
            v.module_version,
            _dumps(v.dependencies),
            _dumps(v.metadata),
        )
        for name, p in incoming.items()
        for key, v in p.versions.items()
        if (packages[name], key) not in versions
    ]
    columns = ("package_id", "version", "module_version", "dependencies", "metadata")
    created = _insert(conn, "version", columns, new_versions, stamp)
    version_ids = _version_ids(conn, catalog_id)
    present = set(
        tuple(row)
        for row in conn.execute(
            "SELECT t.version_id, t.target_type, t.target_name, t.target_subtype FROM target t "
            "JOIN version v ON v.id = t.version_id JOIN package p ON p.id = v.package_id "
            "WHERE p.catalog_id = ?",
            (catalog_id,),
        )
    )
    targets = [
        (version_id, *t.key, t.location, _dumps(t.metadata), _dumps(t.gpu_architectures))
        for name, p in incoming.items()
        for key, v in p.versions.items()
        for version_id in (version_ids[(packages[name], key)],)
        for t in v.targets
        if (version_id, *t.key) not in present
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
    set_parents(  # each extension's parents, anew
        conn,
        {
            packages[p.name]: [packages[parent] for parent in p.parents if parent in packages]
            for p in incoming.values()
            if p.is_extension
        },
    )
    return LoadCounts(
        len(new_packages), created, targets_created, packages_deleted, versions_deleted
    )


def _version_ids(conn: sqlite3.Connection, catalog_id: int) -> dict[tuple[int, str], int]:
    """The catalog's versions by (package id, key): the module version, else the version."""
    rows = conn.execute(
        "SELECT v.id, v.package_id, v.version, v.module_version FROM version v "
        "JOIN package p ON p.id = v.package_id WHERE p.catalog_id = ?",
        (catalog_id,),
    )
    return {(package_id, module or number): row_id for row_id, package_id, number, module in rows}


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
    now = stamp()  # one bulk insert, one moment (as `bulk_create` stamps its batch)
    before = conn.total_changes
    conn.executemany(sql, [(uuid.uuid4().hex, now, now, *row) for row in rows])
    return conn.total_changes - before


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
