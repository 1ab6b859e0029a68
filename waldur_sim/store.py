"""SQLite storage of waldur-sim: connections, transactions and the SQL of the four kinds.

- The tables are `schema.py`'s; a database of an older waldur-sim is upgraded when opened.
- WAL journal: readers never block the writer; each request reads one consistent snapshot.
- Writes are serialised by one lock and run in `BEGIN IMMEDIATE` transactions: a request's
  checks (hyperlinks, uniqueness) and its write are atomic, so concurrent creates of one key
  give exactly one success. Anything raised inside `writing()` rolls the whole request back.
- SQLite's journal makes a kill at any moment safe; `close()` waits for the write in flight.
- Case-insensitive matching uses `pyupper()` (Python's `str.upper`, as Postgres `UPPER` does
  beyond ASCII), because SQLite's own `upper()`/`LIKE` fold ASCII only.
- Provider offerings and their links to catalogs (`offering_catalog`, deleted with either end)
  live here too; their statements are in `offering_store.py`.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import threading
import uuid
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from waldur_sim.kinds import KINDS, KindInfo
from waldur_sim.schema import MIGRATIONS, SCHEMA, SCHEMA_VERSION

# What a response needs besides the row itself: parent names and counts.
_SELECT = {
    "catalog": """SELECT c.*,
        (SELECT COUNT(*) FROM package p2 WHERE p2.catalog_id = c.id) AS package_count,
        (SELECT COUNT(*) FROM version v2 JOIN package p2 ON p2.id = v2.package_id
            WHERE p2.catalog_id = c.id) AS version_count,
        (SELECT COUNT(*) FROM target t2 JOIN version v2 ON v2.id = t2.version_id
            JOIN package p2 ON p2.id = v2.package_id WHERE p2.catalog_id = c.id) AS target_count
        FROM catalog c""",
    "package": """SELECT p.*, c.uuid AS catalog_uuid, c.name AS catalog_name,
        c.version AS catalog_version, c.catalog_type AS catalog_type,
        (SELECT COUNT(*) FROM version v2 WHERE v2.package_id = p.id) AS version_count
        FROM package p JOIN catalog c ON c.id = p.catalog_id""",
    "version": """SELECT v.*, p.name AS package_name, c.catalog_type AS catalog_type,
        (SELECT COUNT(*) FROM target t2 WHERE t2.version_id = v.id) AS target_count
        FROM version v JOIN package p ON p.id = v.package_id
        JOIN catalog c ON c.id = p.catalog_id""",
    "target": "SELECT t.* FROM target t",
}


class StoreError(Exception):
    """The database cannot be opened or is not a waldur-sim database."""


@dataclass(slots=True)
class ListQuery:
    """A filtered, ordered listing of one kind (built by `filters.py`)."""

    kind: KindInfo
    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    joins: str = ""  # extra joins the ordering needs


#: Columns of the embedded trees of packages, in order.
TREE_VERSION = (
    "id",
    "package_id",
    "uuid",
    "version",
    "module_version",
    "release_date",
    "metadata",
)
TREE_TARGET = (
    "version_id",
    "uuid",
    "target_type",
    "target_name",
    "target_subtype",
    "location",
    "metadata",
    "gpu_architectures",
)

#: Versions embedded in a package: (version, its targets), each in natural-key order.
Tree = list[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


class Store:
    """The database: a pool of connections, one writer at a time."""

    def __init__(self, path: Path | None = None) -> None:
        self._tmpdir: Path | None = None
        if path is None:  # a private database, removed on close
            self._tmpdir = Path(tempfile.mkdtemp(prefix="waldur-sim-"))
            path = self._tmpdir / "sim.sqlite3"
        self.path = path
        self._write_lock = threading.Lock()
        self._pool_lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._last_stamp: datetime | None = None
        try:
            conn = self._connect()
            conn.execute("PRAGMA journal_mode = WAL")
            self._init_schema(conn)
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use {self.path} as a waldur-sim database: {exc}") from None
        self._idle.append(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.create_function("pyupper", 1, _upper, deterministic=True)
        return conn

    def _init_schema(self, conn: sqlite3.Connection) -> None:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == SCHEMA_VERSION:
            return
        if version in MIGRATIONS:  # a database of an older waldur-sim: upgrade it in place
            steps = "".join(MIGRATIONS[v] for v in range(version, SCHEMA_VERSION))
            conn.executescript(f"BEGIN;{steps}PRAGMA user_version = {SCHEMA_VERSION};COMMIT;")
            return
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()
        if version != 0 or tables[0]:
            raise sqlite3.DatabaseError(f"unknown schema (user_version {version})")
        conn.executescript(f"BEGIN;{SCHEMA}COMMIT;")

    # -- connections and transactions -------------------------------------------------------

    def _acquire(self) -> sqlite3.Connection:
        with self._pool_lock:
            if self._closed:
                raise StoreError("the database is closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def _release(self, conn: sqlite3.Connection) -> None:
        with self._pool_lock:
            if not self._closed:
                self._idle.append(conn)
                return
        conn.close()

    @contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a read transaction: one consistent snapshot."""
        conn = self._acquire()
        try:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")
        finally:
            self._release(conn)

    @contextmanager
    def writing(self) -> Iterator[sqlite3.Connection]:
        """The only way to write: serialised, atomic, rolled back on any exception."""
        with self._write_lock:
            conn = self._acquire()
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
            finally:
                self._release(conn)

    def close(self, timeout: float = 10.0) -> None:
        """Wait for the write in flight, then close; no write can start afterwards."""
        self._write_lock.acquire(timeout=timeout)  # held for good: the store is finished
        with self._pool_lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)

    # -- writes (call inside `writing()`) ----------------------------------------------------

    def stamp(self) -> str:
        """Now, strictly after every earlier stamp (so `modified` always moves on a write)."""
        now = datetime.now(UTC)
        if self._last_stamp is not None and now <= self._last_stamp:
            now = self._last_stamp + timedelta(microseconds=1)
        self._last_stamp = now
        return now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def insert(self, conn: sqlite3.Connection, kind: KindInfo, values: Mapping[str, Any]) -> str:
        """Insert a new object; return its uuid (hex)."""
        stamp = self.stamp()
        columns, parents = _split_parents(values)
        row = {"uuid": uuid.uuid4().hex, "created": stamp, "modified": stamp, **columns}
        names = ", ".join(row)
        marks = ", ".join("?" * len(row))
        cursor = conn.execute(
            f"INSERT INTO {kind.table} ({names}) VALUES ({marks})", tuple(row.values())
        )
        if parents is not None and cursor.lastrowid is not None:
            set_parents(conn, {cursor.lastrowid: parents})
        return str(row["uuid"])

    def update(
        self, conn: sqlite3.Connection, kind: KindInfo, row_id: int, values: Mapping[str, Any]
    ) -> None:
        """Set `values` and move `modified` (Django's auto_now moves it on every save)."""
        columns, parents = _split_parents(values)
        row = {**columns, "modified": self.stamp()}
        assignments = ", ".join(f"{column} = ?" for column in row)
        sql = f"UPDATE {kind.table} SET {assignments} WHERE id = ?"
        conn.execute(sql, (*row.values(), row_id))
        if parents is not None:
            set_parents(conn, {row_id: parents})

    def delete(self, conn: sqlite3.Connection, kind: KindInfo, row_id: int) -> None:
        conn.execute(f"DELETE FROM {kind.table} WHERE id = ?", (row_id,))

    # -- reads --------------------------------------------------------------------------------

    def lookup_id(self, conn: sqlite3.Connection, kind_name: str, uuid_hex: str) -> int | None:
        row = conn.execute(
            f"SELECT id FROM {KINDS[kind_name].table} WHERE uuid = ?", (uuid_hex,)
        ).fetchone()
        return None if row is None else int(row[0])

    def get(self, conn: sqlite3.Connection, kind: KindInfo, uuid_hex: str) -> sqlite3.Row | None:
        """One object with everything its response needs."""
        sql = f"{_SELECT[kind.name]} WHERE {kind.alias}.uuid = ?"
        row: sqlite3.Row | None = conn.execute(sql, (uuid_hex,)).fetchone()
        return row

    def key_taken(
        self,
        conn: sqlite3.Connection,
        kind: KindInfo,
        key: Mapping[str, Any],
        exclude_id: int | None,
    ) -> bool:
        """Whether another object already has this natural key."""
        where = " AND ".join(f"{column} = ?" for column in key)
        sql = f"SELECT 1 FROM {kind.table} WHERE {where} AND id IS NOT ? LIMIT 1"
        return conn.execute(sql, (*key.values(), exclude_id)).fetchone() is not None

    def count(self, conn: sqlite3.Connection, query: ListQuery) -> int:
        kind = query.kind
        sql = f"SELECT COUNT(*) FROM {kind.table} {kind.alias}{_where(query)}"
        return int(conn.execute(sql, query.params).fetchone()[0])

    def page(
        self, conn: sqlite3.Connection, query: ListQuery, limit: int, offset: int
    ) -> list[sqlite3.Row]:
        order = ", ".join(query.order)
        sql = (
            f"{_SELECT[query.kind.name]} {query.joins}{_where(query)} "
            f"ORDER BY {order} LIMIT ? OFFSET ?"
        )
        return conn.execute(sql, (*query.params, limit, offset)).fetchall()

    def trees(self, conn: sqlite3.Connection, package_ids: Sequence[int]) -> dict[int, Tree]:
        """Every version and target of these packages in two index-ordered queries (not one
        per package), as plain tuples of TREE_VERSION / TREE_TARGET columns."""
        if not package_ids:
            return {}
        marks = ", ".join("?" * len(package_ids))
        cursor = conn.cursor()
        cursor.row_factory = None  # tuples: ~7,500 targets on a page of 300 EESSI packages
        versions = cursor.execute(
            f"SELECT {', '.join(TREE_VERSION)} FROM version WHERE package_id IN ({marks}) "
            "ORDER BY package_id, version, module_version",
            package_ids,
        ).fetchall()
        targets = cursor.execute(
            f"SELECT {', '.join(TREE_TARGET)} FROM target WHERE version_id IN "
            f"(SELECT id FROM version WHERE package_id IN ({marks})) "
            "ORDER BY version_id, target_type, target_name, target_subtype",
            package_ids,
        ).fetchall()
        by_version: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        for target in targets:
            by_version[target[0]].append(target)
        trees: dict[int, Tree] = defaultdict(list)
        for version in versions:
            trees[version[1]].append((version, by_version.get(version[0], [])))
        return trees

    def relatives(
        self, conn: sqlite3.Connection, package_ids: Sequence[int]
    ) -> dict[int, Relatives]:
        """The parents and extensions of these packages, each as (uuid, name, its version
        strings), by name: upstream's `parent_softwares` and `extensions`."""
        if not package_ids:
            return {}
        marks = ", ".join("?" * len(package_ids))
        sql = f"""SELECT pp.package_id, pp.parent_id, o.uuid, o.name,
            (SELECT json_group_array(version) FROM (SELECT DISTINCT v.version FROM version v
                WHERE v.package_id = o.id ORDER BY v.version)) AS versions
            FROM package_parent pp JOIN package o ON o.id = {{other}}
            WHERE {{own}} IN ({marks}) ORDER BY o.name, o.id"""
        found: dict[int, Relatives] = {pid: ([], []) for pid in package_ids}
        # (the package's own column, the relative's column, where the relative goes)
        directions = (("package_id", "parent_id", 0), ("parent_id", "package_id", 1))
        for own, other, slot in directions:
            query = sql.format(own=f"pp.{own}", other=f"pp.{other}")
            for row in conn.execute(query, package_ids):
                found[row[own]][slot].append((row[2], row[3], json.loads(row[4])))
        return found


#: A package's parents and extensions: (uuid, name, version strings) each.
Relatives = tuple[list[tuple[str, str, list[str]]], list[tuple[str, str, list[str]]]]

#: The pseudo-column of a package's parents (ids), written to `package_parent`.
PARENTS = "parent_softwares"


def _split_parents(values: Mapping[str, Any]) -> tuple[dict[str, Any], list[int] | None]:
    columns = dict(values)
    return columns, columns.pop(PARENTS, None)


def set_parents(conn: sqlite3.Connection, parents: Mapping[int, Sequence[int]]) -> None:
    """Each of these packages' parents, anew (`package_parent`; upstream's
    `parent_softwares.set()`): one DELETE over the packages, one INSERT over the pairs."""
    conn.executemany(
        "DELETE FROM package_parent WHERE package_id = ?", [(row_id,) for row_id in parents]
    )
    conn.executemany(
        "INSERT OR IGNORE INTO package_parent (package_id, parent_id) VALUES (?, ?)",
        [(row_id, parent) for row_id, ids in parents.items() for parent in ids],
    )


def _where(query: ListQuery) -> str:
    return f" WHERE {' AND '.join(query.where)}" if query.where else ""
