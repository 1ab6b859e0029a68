"""SQL of provider offerings and their links to software catalogs (tables in `store.py`).

Every function takes a connection from `Store.reading()` or `Store.writing()`. Offerings are
created only at start (`--offering`, `--other-offering`); links are created, changed and
removed through the offering actions, and disappear with their catalog or offering
(`ON DELETE CASCADE`).
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from waldur_sim.auth import Organisation, User
from waldur_sim.filters import QueryError
from waldur_sim.validation import parse_uuid

#: Upstream's offering states (`state` filter choices); every offering of the sim is Active.
OFFERING_STATES = ("Draft", "Active", "Paused", "Archived")
ACTIVE = "Active"
#: The `o` values upstream's offering filter accepts; the sim's offerings differ only by name
#: and creation time (type, state and the totals are the same for all of them).
_ORDERINGS = {
    "name": "o.name",
    "created": "o.created",
    "type": None,
    "state": None,
    "total_customers": None,
    "total_cost": None,
    "total_cost_estimated": None,
}

_LINK_SELECT = """SELECT l.*, o.uuid AS offering_uuid, o.name AS offering_name,
    c.uuid AS catalog_uuid, c.name AS catalog_name, c.version AS catalog_version,
    c.description AS catalog_description, c.catalog_type AS catalog_type,
    (SELECT COUNT(*) FROM package p WHERE p.catalog_id = c.id) AS package_count
    FROM offering_catalog l JOIN offering o ON o.id = l.offering_id
    JOIN catalog c ON c.id = l.catalog_id"""


@dataclass(slots=True)
class OfferingQuery:
    """A filtered, ordered listing of the offerings a user may see."""

    where: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)
    order: list[str] = field(default_factory=list)


def slugify(text: str) -> str:
    """Django's `slugify`: ASCII, lower case, words joined by `-`."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text.lower())
    return re.sub(r"[-\s]+", "-", text).strip("-_")


def ensure_offering(conn: sqlite3.Connection, stamp: str, name: str, owner: Organisation) -> None:
    """Create the organisation's offering `name` unless the database already holds it."""
    found = conn.execute(
        "SELECT 1 FROM offering WHERE customer_uuid = ? AND name = ?", (owner.uuid, name)
    ).fetchone()
    if found is not None:
        return
    # Upstream's slug: the first 8 characters of the slugified name and a counter.
    prefix = slugify(name)[:8] or "offering"
    taken = {row[0] for row in conn.execute("SELECT slug FROM offering")}
    number = 1
    while f"{prefix}-{number}" in taken:
        number += 1
    conn.execute(
        "INSERT INTO offering (uuid, created, name, slug, customer_uuid, customer_name) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (uuid.uuid4().hex, stamp, name, f"{prefix}-{number}", owner.uuid, owner.name),
    )


def _visible(user: User) -> tuple[str, list[Any]]:
    """Staff see every offering; other users those of the organisations they own."""
    if user.staff:
        return "1", []
    owned = sorted(user.owns)
    return f"o.customer_uuid IN ({', '.join('?' * len(owned))})", list(owned)


def build_query(params: Mapping[str, Sequence[str]], user: User) -> OfferingQuery:
    """Upstream's `OfferingFilter` for what the sim has: `name` (contains, any case),
    `name_exact` (case-sensitive), `customer_uuid`, `uuid_list`, `state` and `o`. Other
    parameters are ignored, an empty value too."""
    query = OfferingQuery()
    visible, args = _visible(user)
    query.where.append(visible)
    query.params.extend(args)
    errors: dict[str, list[str]] = {}

    def last(name: str) -> str:
        return params.get(name, [""])[-1]

    if last("name"):
        query.where.append("instr(pyupper(o.name), pyupper(?)) > 0")
        query.params.append(last("name"))
    if last("name_exact"):
        query.where.append("o.name = ?")
        query.params.append(last("name_exact"))
    if last("customer_uuid"):
        customer = parse_uuid(last("customer_uuid"))
        if customer is None:
            errors["customer_uuid"] = ["Enter a valid UUID."]
        query.where.append("o.customer_uuid = ?")
        query.params.append(customer)
    if last("uuid_list"):
        uuids = [parse_uuid(part.strip()) for part in last("uuid_list").split(",")]
        wanted = sorted({u for u in uuids if u is not None})
        query.where.append(f"o.uuid IN ({', '.join('?' * len(wanted))})" if wanted else "0")
        query.params.extend(wanted)
    states = [value for value in params.get("state", ()) if value]
    for value in states:
        if value not in OFFERING_STATES:
            errors["state"] = [_invalid_choice(value)]
    if states and ACTIVE not in states:
        query.where.append("0")
    try:
        query.order = _order(last("o"))
    except QueryError as exc:
        errors.update(exc.errors)
    if errors:
        raise QueryError(errors)
    return query


def _order(raw: str) -> list[str]:
    """`o` as django-filter's OrderingFilter reads it; by name without it."""
    order: list[str] = []
    for item in (part for part in raw.split(",") if part):
        name = item[1:] if item.startswith("-") else item
        if name not in _ORDERINGS:
            raise QueryError({"o": [_invalid_choice(item)]})
        column = _ORDERINGS[name]
        if column is not None:
            order.append(f"{column} {'DESC' if item.startswith('-') else 'ASC'}")
    return [*(order or ["o.name ASC"]), "o.id ASC"]


def _invalid_choice(value: str) -> str:
    return f"Select a valid choice. {value} is not one of the available choices."


def count(conn: sqlite3.Connection, query: OfferingQuery) -> int:
    sql = f"SELECT COUNT(*) FROM offering o WHERE {' AND '.join(query.where)}"
    return int(conn.execute(sql, query.params).fetchone()[0])


def page(
    conn: sqlite3.Connection, query: OfferingQuery, limit: int, offset: int
) -> list[sqlite3.Row]:
    sql = (
        f"SELECT o.* FROM offering o WHERE {' AND '.join(query.where)} "
        f"ORDER BY {', '.join(query.order)} LIMIT ? OFFSET ?"
    )
    return conn.execute(sql, (*query.params, limit, offset)).fetchall()


def get_offering(conn: sqlite3.Connection, uuid_hex: str, user: User) -> sqlite3.Row | None:
    """The offering, if it exists and `user` may see it."""
    visible, args = _visible(user)
    sql = f"SELECT o.* FROM offering o WHERE o.uuid = ? AND {visible}"
    row: sqlite3.Row | None = conn.execute(sql, (uuid_hex, *args)).fetchone()
    return row


def links_of(conn: sqlite3.Connection, offering_ids: Iterable[int]) -> dict[int, list[sqlite3.Row]]:
    """The links of these offerings with their catalogs, in the order they were made."""
    ids = list(offering_ids)
    if not ids:
        return {}
    sql = f"{_LINK_SELECT} WHERE l.offering_id IN ({', '.join('?' * len(ids))}) ORDER BY l.id"
    links: dict[int, list[sqlite3.Row]] = defaultdict(list)
    for row in conn.execute(sql, ids):
        links[row["offering_id"]].append(row)
    return links


def get_link(
    conn: sqlite3.Connection, link_uuid: str, offering_id: int | None = None
) -> sqlite3.Row | None:
    """A link by uuid, of the given offering (or of any offering when None)."""
    sql = f"{_LINK_SELECT} WHERE l.uuid = ?"
    args: list[Any] = [link_uuid]
    if offering_id is not None:
        sql += " AND l.offering_id = ?"
        args.append(offering_id)
    row: sqlite3.Row | None = conn.execute(sql, args).fetchone()
    return row


def catalog_id(conn: sqlite3.Connection, uuid_hex: str) -> int | None:
    row = conn.execute("SELECT id FROM catalog WHERE uuid = ?", (uuid_hex,)).fetchone()
    return None if row is None else int(row[0])


def link_exists(conn: sqlite3.Connection, offering_id: int, catalog: int) -> bool:
    sql = "SELECT 1 FROM offering_catalog WHERE offering_id = ? AND catalog_id = ?"
    return conn.execute(sql, (offering_id, catalog)).fetchone() is not None


def insert_link(
    conn: sqlite3.Connection, stamp: str, offering_id: int, values: Mapping[str, Any]
) -> str:
    """Link a catalog (`values`: catalog_id and the CPU lists); return the link's uuid."""
    row = {
        "uuid": uuid.uuid4().hex,
        "created": stamp,
        "modified": stamp,
        "offering_id": offering_id,
        **_encoded(values),
    }
    sql = f"INSERT INTO offering_catalog ({', '.join(row)}) VALUES ({', '.join('?' * len(row))})"
    conn.execute(sql, tuple(row.values()))
    return str(row["uuid"])


def update_link(
    conn: sqlite3.Connection, stamp: str, link_id: int, values: Mapping[str, Any]
) -> None:
    row = {**_encoded(values), "modified": stamp}
    assignments = ", ".join(f"{column} = ?" for column in row)
    conn.execute(
        f"UPDATE offering_catalog SET {assignments} WHERE id = ?", (*row.values(), link_id)
    )


def delete_link(conn: sqlite3.Connection, link_id: int) -> None:
    conn.execute("DELETE FROM offering_catalog WHERE id = ?", (link_id,))


def _encoded(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: json.dumps(v) if isinstance(v, list) else v for k, v in values.items()}


def catalog_architectures(conn: sqlite3.Connection, uuid_hex: str) -> sqlite3.Row | None:
    """A catalog's version and metadata (what `cpu_targets` is built from)."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT version, metadata FROM catalog WHERE uuid = ?", (uuid_hex,)
    ).fetchone()
    return row
