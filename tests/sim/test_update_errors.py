"""`update_errors`: a catalog field current upstream lets a client write (its OPTIONS says
`"read_only": false`, sample 97), absent from the documented API; and the database upgrade that
stores it."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from tests.sim.helpers import AS_SCHEMA_3, Api
from waldur_sim.launcher import SimProcess
from waldur_sim.store import SCHEMA_VERSION, Store


def test_current_catalogs_store_update_errors(current_api: Api) -> None:
    catalog = current_api.catalog()
    assert catalog["update_errors"] == ""
    response = current_api.request("PATCH", catalog["url"], json={"update_errors": "boom\n"})
    assert (response.status_code, response.json()["update_errors"]) == (200, "boom")  # trimmed
    created = current_api.catalog(update_errors="x" * 5000)  # a text field: no limit
    assert current_api.get(created["url"])["update_errors"] == "x" * 5000
    response = current_api.post("catalog", {"name": "n", "version": "1", "update_errors": {}})
    assert response.json() == {"update_errors": ["Not a valid string."]}


def test_legacy_catalogs_neither_show_nor_take_it(api: Api) -> None:
    catalog = api.catalog(update_errors="ignored")
    assert "update_errors" not in catalog


def test_a_database_of_the_first_schema_is_upgraded(tmp_path: Path) -> None:
    db = tmp_path / "old.sqlite3"
    Store(db).close()
    with sqlite3.connect(db) as conn:  # what waldur-sim wrote before the column existed
        conn.executescript(
            f"{AS_SCHEMA_3} DROP TABLE offering_catalog; DROP TABLE offering;"  # version 3
            "ALTER TABLE catalog DROP COLUMN update_errors; PRAGMA user_version = 1;"
            "INSERT INTO catalog (uuid, created, modified, name, version, catalog_type,"
            " source_url, description, metadata, auto_update_enabled) VALUES ("
            "'0123456789abcdef0123456789abcdef', '2026-01-01T00:00:00.000000Z',"
            " '2026-01-01T00:00:00.000000Z', 'EESSI', '2023.06', 'binary_runtime', '', '',"
            " '{}', 1);"
        )
    conn.close()
    with SimProcess("--dialect", "current", db=db) as sim:
        api = Api(sim)
        (catalog,) = api.items("catalog")
        expected: dict[str, Any] = {"name": "EESSI", "update_errors": ""}
        assert {key: catalog[key] for key in expected} == expected
        response = api.request("PATCH", catalog["url"], json={"update_errors": "e"})
        assert response.json()["update_errors"] == "e"
        api.close()
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
