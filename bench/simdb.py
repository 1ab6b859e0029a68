"""Write a desired state straight into a waldur-sim SQLite database (benchmark set-up only).

Every object goes through waldur-sim's own serializer (`validate` + `encode`, legacy dialect)
with the body the reconciler's apply would POST, and is stored with waldur-sim's `Store`; only
HTTP is skipped. One transaction, so a 100,000-target catalog is ready in seconds instead of
minutes of POSTs. `run.py` checks each database it writes with a `reconcile plan`, which must
come out empty.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from reconciler.core import dialect
from reconciler.core.model import PARENT_FIELD, DesiredState, Key, Kind
from waldur_sim.kinds import KINDS, detail_url
from waldur_sim.serializers import LEGACY, encode, schemas, validate
from waldur_sim.store import Store

_BASE = "http://waldur-sim.invalid"  # only the path of a hyperlink is resolved


def write_state(db: Path, desired: DesiredState) -> Counter[str]:
    """Store every declared object of `desired` in a new database at `db`; return counts."""
    rules = schemas(LEGACY)
    store = Store(db)
    ids: dict[str, int] = {}  # uuid → row id, for hyperlink lookups
    uuids: dict[Key, str] = {}
    counts: Counter[str] = Counter()

    def lookup(_kind: str, uuid_hex: str) -> int | None:
        return ids.get(uuid_hex)

    try:
        with store.writing() as conn:
            for key in sorted(desired.records, key=lambda k: k.kind):  # parents first
                if desired.policies[key.catalog].absent:
                    continue
                record = desired.records[key]
                own: dict[str, Any] = {**key.own(), **record.fields}
                body = dialect.target_to_wire(own, LEGACY) if key.kind is Kind.TARGET else own
                if key.parent is not None:
                    parent = KINDS[key.parent.kind.label]
                    body[PARENT_FIELD[key.kind]] = detail_url(_BASE, parent, uuids[key.parent])
                schema = rules[key.kind.label]
                values = validate(schema, body, creating=True, partial=False, lookup=lookup)
                uuid_hex = store.insert(conn, KINDS[key.kind.label], encode(schema, values))
                ids[uuid_hex] = int(conn.execute("SELECT last_insert_rowid()").fetchone()[0])
                uuids[key] = uuid_hex
                counts[key.kind.label] += 1
    finally:
        store.close()
    return counts
