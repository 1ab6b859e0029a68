"""The SQLite schema of waldur-sim and the upgrades of databases written by older versions.

One table per kind, parents referenced by id with `ON DELETE CASCADE`, natural keys as UNIQUE
constraints (their leading parent column also serves every "children of" lookup and filter).
JSON fields are stored as text (`'[]'`, `'{}'` when empty). A package's parents (upstream's
`parent_softwares`, many-to-many) are rows of `package_parent`, deleted with either package.
Provider offerings and their links to catalogs (`offering_catalog`) are deleted with either end.

`PRAGMA user_version` holds the schema version; `MIGRATIONS[n]` upgrades version n to n + 1.
"""

from __future__ import annotations

SCHEMA_VERSION = 5

_COMMON = """
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,"""

# Offerings (created at start by `--offering`) and their links to catalogs (schema version 3).
_OFFERINGS = """
CREATE TABLE offering (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    customer_uuid TEXT NOT NULL,
    customer_name TEXT NOT NULL,
    UNIQUE (customer_uuid, name)
);
CREATE TABLE offering_catalog (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL,
    modified TEXT NOT NULL,
    offering_id INTEGER NOT NULL REFERENCES offering (id) ON DELETE CASCADE,
    catalog_id INTEGER NOT NULL REFERENCES catalog (id) ON DELETE CASCADE,
    enabled_cpu_family TEXT NOT NULL DEFAULT '[]',
    enabled_cpu_microarchitectures TEXT NOT NULL DEFAULT '[]',
    UNIQUE (offering_id, catalog_id)
);
CREATE INDEX offering_catalog_catalog ON offering_catalog (catalog_id);
"""

# When the sim's loaders last ran a catalog (schema version 4).
_LOADER_STAMPS = """
ALTER TABLE catalog ADD COLUMN last_update_attempt TEXT;
ALTER TABLE catalog ADD COLUMN last_successful_update TEXT;
"""

# What upstream's loaders store besides the published fields (schema version 5).
_PARENTS = """
CREATE TABLE package_parent (
    package_id INTEGER NOT NULL REFERENCES package (id) ON DELETE CASCADE,
    parent_id INTEGER NOT NULL REFERENCES package (id) ON DELETE CASCADE,
    PRIMARY KEY (package_id, parent_id)
);
CREATE INDEX package_parent_parent ON package_parent (parent_id);
"""
_LOADER_COLUMNS = """
ALTER TABLE package ADD COLUMN categories TEXT NOT NULL DEFAULT '[]';
ALTER TABLE package ADD COLUMN licenses TEXT NOT NULL DEFAULT '[]';
ALTER TABLE package ADD COLUMN maintainers TEXT NOT NULL DEFAULT '[]';
ALTER TABLE version ADD COLUMN dependencies TEXT NOT NULL DEFAULT '[]';
ALTER TABLE version ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';
"""

SCHEMA = f"""
CREATE TABLE catalog ({_COMMON}
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    catalog_type TEXT NOT NULL,
    source_url TEXT NOT NULL,
    description TEXT NOT NULL,
    metadata TEXT NOT NULL,
    auto_update_enabled INTEGER NOT NULL,
    update_errors TEXT NOT NULL DEFAULT '',
    last_update_attempt TEXT,
    last_successful_update TEXT,
    UNIQUE (name, version, catalog_type)
);
CREATE TABLE package ({_COMMON}
    catalog_id INTEGER NOT NULL REFERENCES catalog (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    homepage TEXT,
    is_extension INTEGER NOT NULL,
    categories TEXT NOT NULL DEFAULT '[]',
    licenses TEXT NOT NULL DEFAULT '[]',
    maintainers TEXT NOT NULL DEFAULT '[]',
    UNIQUE (catalog_id, name)
);
CREATE TABLE version ({_COMMON}
    package_id INTEGER NOT NULL REFERENCES package (id) ON DELETE CASCADE,
    version TEXT NOT NULL,
    module_version TEXT NOT NULL,
    release_date TEXT,
    dependencies TEXT NOT NULL DEFAULT '[]',
    metadata TEXT NOT NULL DEFAULT '{{}}',
    UNIQUE (package_id, version, module_version)
);
CREATE TABLE target ({_COMMON}
    version_id INTEGER NOT NULL REFERENCES version (id) ON DELETE CASCADE,
    target_type TEXT NOT NULL,
    target_name TEXT NOT NULL,
    target_subtype TEXT NOT NULL,
    location TEXT NOT NULL,
    metadata TEXT NOT NULL DEFAULT '{{}}',
    gpu_architectures TEXT NOT NULL DEFAULT '[]',
    UNIQUE (version_id, target_type, target_name, target_subtype)
);
{_PARENTS}
{_OFFERINGS}
PRAGMA user_version = {SCHEMA_VERSION};
"""

#: Upgrades of an older database, by the schema version they start from.
MIGRATIONS = {
    1: "ALTER TABLE catalog ADD COLUMN update_errors TEXT NOT NULL DEFAULT '';",
    2: _OFFERINGS,
    3: _LOADER_STAMPS,
    4: _LOADER_COLUMNS + _PARENTS,
}
