"""`o`, the ordering of a listing, as django-filter's `OrderingFilter` reads it.

`o` is a comma-separated list of the names each kind declares, each optionally prefixed with `-`
(descending); any other value → 400 `Select a valid choice.`. Nullable columns sort as Postgres
does (NULLs last ascending, first descending). Without `o`, a listing is in natural-key order,
which the UNIQUE indexes serve directly; the row id breaks every tie.
"""

from __future__ import annotations

from dataclasses import dataclass

from waldur_sim.kinds import KindInfo
from waldur_sim.serializers import LEGACY


class QueryError(Exception):
    """Invalid query parameters; `errors` is the 400 body."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def invalid_choice(value: str) -> str:
    return f"Select a valid choice. {value} is not one of the available choices."


@dataclass(frozen=True, slots=True)
class Ordering:
    expr: str
    joins: str = ""
    nullable: bool = False


_TARGET_TO_PACKAGE = "JOIN version v ON v.id = t.version_id JOIN package p ON p.id = v.package_id"


def orderings(dialect: str) -> dict[str, dict[str, Ordering]]:
    """The `o` names of each kind in a dialect."""
    target = {
        "cpu_family": Ordering("t.target_name"),
        "cpu_microarchitecture": Ordering("t.target_subtype"),
        "package_name": Ordering("p.name", _TARGET_TO_PACKAGE),
        "created": Ordering("t.created"),
    }
    if dialect != LEGACY:
        target |= {
            "target_type": Ordering("t.target_type"),
            "target_name": Ordering("t.target_name"),
        }
    return {
        "catalog": {
            name: Ordering(f"c.{name}")
            for name in ("name", "version", "catalog_type", "created", "modified")
        },
        "package": {
            "name": Ordering("p.name"),
            "catalog_name": Ordering("c.name"),
            "catalog_version": Ordering("c.version"),
            "created": Ordering("p.created"),
            "modified": Ordering("p.modified"),
        },
        "version": {
            "version": Ordering("v.version"),
            "package_name": Ordering("p.name"),
            "release_date": Ordering("v.release_date", nullable=True),
            "created": Ordering("v.created"),
        },
        "target": target,
    }


#: Without `o`: natural-key order.
DEFAULT_ORDER = {
    "catalog": ("c.name", "c.version", "c.catalog_type"),
    "package": ("p.catalog_id", "p.name"),
    "version": ("v.package_id", "v.version", "v.module_version"),
    "target": ("t.version_id", "t.target_type", "t.target_name", "t.target_subtype"),
}


def order_by(kind: KindInfo, raw: str, choices: dict[str, Ordering]) -> tuple[list[str], str]:
    """The ORDER BY terms of `o` (its last value) and the joins they need, or QueryError."""
    items = [item for item in raw.split(",") if item]
    if not items:
        return [*DEFAULT_ORDER[kind.name], f"{kind.alias}.id"], ""
    order: list[str] = []
    joins: list[str] = []
    for item in items:
        descending = item.startswith("-")
        ordering = choices.get(item[1:] if descending else item)
        if ordering is None:
            raise QueryError({"o": [invalid_choice(item)]})
        direction = "DESC" if descending else "ASC"
        nulls = (" NULLS FIRST" if descending else " NULLS LAST") if ordering.nullable else ""
        order.append(f"{ordering.expr} {direction}{nulls}")
        if ordering.joins and ordering.joins not in joins:
            joins.append(ordering.joins)
    return [*order, f"{kind.alias}.id"], " ".join(joins)
