"""List filters and `o` ordering: the contract's filter table turned into SQL.

Behaviour follows django-filter as Waldur declares its filter sets:
- an empty value (`?name=`) and an unknown parameter are ignored;
- a parameter given twice uses its last value, except the repeatable `cpu_family` and
  `cpu_microarchitecture`, whose values are OR-ed;
- `*_uuid` parameters take any form `uuid.UUID` accepts, else 400 "Enter a valid UUID.";
  `offering_uuid` (packages, versions, targets) matches the objects of the offering's linked
  catalogs, an unknown offering nothing;
  a choice filter answers 400 on an unknown choice; a boolean filter ignores junk;
- `o` is a comma-separated list of fields, each optionally prefixed with `-`; any unknown
  value → 400. Nullable columns sort as Postgres does (NULLs last ascending).

Filters on parents and children are subqueries on indexed columns, so counting a filtered
listing never joins more than it needs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from waldur_sim.kinds import KindInfo
from waldur_sim.serializers import CATALOG_TYPES, CPU_ARCHITECTURE, LEGACY
from waldur_sim.store import ListQuery
from waldur_sim.validation import parse_uuid

#: Query parameters: every value of each name, in order.
Params = Mapping[str, Sequence[str]]


class QueryError(Exception):
    """Invalid query parameters; `errors` is the 400 body."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class Match(Enum):
    ICONTAINS = "icontains"  # case-insensitive substring
    IEXACT = "iexact"  # case-insensitive equality
    EXACT = "exact"
    ANY_IEXACT = "any_iexact"  # repeatable, OR-ed
    ANY_EXACT = "any_exact"  # repeatable, OR-ed
    UUID = "uuid"
    CHOICE = "choice"
    BOOL = "bool"


@dataclass(frozen=True, slots=True)
class Filter:
    param: str
    match: Match
    column: str
    template: str = "{cond}"  # where the condition on `column` goes (e.g. inside EXISTS)


def _condition(match: Match, column: str, count: int) -> str:
    if match is Match.ICONTAINS:
        return f"instr(pyupper({column}), pyupper(?)) > 0"
    if match is Match.IEXACT:
        return f"pyupper({column}) = pyupper(?)"
    if match is Match.ANY_IEXACT:
        return f"pyupper({column}) IN ({', '.join(['pyupper(?)'] * count)})"
    if match is Match.ANY_EXACT:
        return f"{column} IN ({', '.join('?' * count)})"
    return f"{column} = ?"


def _has_target(owner: str, current: bool) -> str:
    """EXISTS a target of the package/version (`owner`) whose `column` matches."""
    cpu_only = f" AND t2.target_type = '{CPU_ARCHITECTURE}'" if current else ""
    join = "version v2 JOIN target t2 ON t2.version_id = v2.id"
    link = "v2.package_id = p.id" if owner == "package" else "v2.id = v.id"
    return f"EXISTS (SELECT 1 FROM {join} WHERE {link}{cpu_only} AND {{cond}})"


_SUB_CATALOG = "p.catalog_id IN (SELECT id FROM catalog WHERE {cond})"
_VERSIONS_OF_CATALOG = (
    "v.package_id IN (SELECT p2.id FROM package p2 JOIN catalog c2 ON c2.id = p2.catalog_id "
    "WHERE {cond})"
)
_TARGETS_OF = "t.version_id IN (SELECT v2.id FROM version v2 {joins} WHERE {{cond}})"
_TO_PACKAGE = "JOIN package p2 ON p2.id = v2.package_id"
_TO_CATALOG = f"{_TO_PACKAGE} JOIN catalog c2 ON c2.id = p2.catalog_id"
# `offering_uuid`: the objects of the catalogs an offering links (its links' CPU lists are not
# applied, as upstream does not apply them).
_LINKED = (
    "SELECT oc2.catalog_id FROM offering_catalog oc2 JOIN offering o2 ON o2.id = oc2.offering_id "
    "WHERE {cond}"
)
_PACKAGES_OF_OFFERING = f"p.catalog_id IN ({_LINKED})"
_VERSIONS_OF_OFFERING = (
    f"v.package_id IN (SELECT p3.id FROM package p3 WHERE p3.catalog_id IN ({_LINKED}))"
)
_TARGETS_OF_OFFERING = (
    "t.version_id IN (SELECT v3.id FROM version v3 JOIN package p3 ON p3.id = v3.package_id "
    f"WHERE p3.catalog_id IN ({_LINKED}))"
)


def _filters(dialect: str) -> dict[str, tuple[Filter, ...]]:
    current = dialect != LEGACY
    target_cpu = f"t.target_type = '{CPU_ARCHITECTURE}' AND {{cond}}" if current else "{cond}"
    targets = (
        Filter("catalog_uuid", Match.UUID, "c2.uuid", _TARGETS_OF.format(joins=_TO_CATALOG)),
        Filter("package_uuid", Match.UUID, "p2.uuid", _TARGETS_OF.format(joins=_TO_PACKAGE)),
        Filter("version_uuid", Match.UUID, "v2.uuid", _TARGETS_OF.format(joins="")),
        Filter("offering_uuid", Match.UUID, "o2.uuid", _TARGETS_OF_OFFERING),
        Filter("cpu_family", Match.ANY_IEXACT, "t.target_name", target_cpu),
        Filter("cpu_microarchitecture", Match.ANY_IEXACT, "t.target_subtype", target_cpu),
        Filter("path", Match.ICONTAINS, "t.location"),
    )
    if current:
        targets += (
            Filter("target_type", Match.IEXACT, "t.target_type"),
            Filter("target_name", Match.ICONTAINS, "t.target_name"),
            Filter("target_subtype", Match.ICONTAINS, "t.target_subtype"),
        )
    return {
        "catalog": (
            Filter("name", Match.ICONTAINS, "c.name"),
            Filter("version", Match.ICONTAINS, "c.version"),
            Filter("description", Match.ICONTAINS, "c.description"),
            Filter("catalog_type", Match.CHOICE, "c.catalog_type"),
            Filter("auto_update_enabled", Match.BOOL, "c.auto_update_enabled"),
        ),
        "package": (
            Filter("catalog_uuid", Match.UUID, "uuid", _SUB_CATALOG),
            Filter("offering_uuid", Match.UUID, "o2.uuid", _PACKAGES_OF_OFFERING),
            Filter("name", Match.ICONTAINS, "p.name"),
            Filter("name_exact", Match.IEXACT, "p.name"),
            Filter("catalog_name", Match.ICONTAINS, "name", _SUB_CATALOG),
            Filter("catalog_version", Match.ICONTAINS, "version", _SUB_CATALOG),
            Filter(
                "cpu_family",
                Match.ANY_EXACT,
                "t2.target_name",
                _has_target("package", current),
            ),
            Filter(
                "cpu_microarchitecture",
                Match.ANY_EXACT,
                "t2.target_subtype",
                _has_target("package", current),
            ),
            Filter(
                "has_version",
                Match.EXACT,
                "v2.version",
                "EXISTS (SELECT 1 FROM version v2 WHERE v2.package_id = p.id AND {cond})",
            ),
        ),
        "version": (
            Filter(
                "package_uuid",
                Match.UUID,
                "uuid",
                "v.package_id IN (SELECT id FROM package WHERE {cond})",
            ),
            Filter("catalog_uuid", Match.UUID, "c2.uuid", _VERSIONS_OF_CATALOG),
            Filter("offering_uuid", Match.UUID, "o2.uuid", _VERSIONS_OF_OFFERING),
            Filter("version", Match.ICONTAINS, "v.version"),
            Filter("version_exact", Match.EXACT, "v.version"),
            Filter(
                "package_name",
                Match.ICONTAINS,
                "name",
                "v.package_id IN (SELECT id FROM package WHERE {cond})",
            ),
            Filter(
                "cpu_family",
                Match.ANY_EXACT,
                "t2.target_name",
                _has_target("version", current),
            ),
            Filter(
                "cpu_microarchitecture",
                Match.ANY_EXACT,
                "t2.target_subtype",
                _has_target("version", current),
            ),
        ),
        "target": targets,
    }


@dataclass(frozen=True, slots=True)
class Ordering:
    expr: str
    joins: str = ""
    nullable: bool = False


_TARGET_TO_PACKAGE = "JOIN version v ON v.id = t.version_id JOIN package p ON p.id = v.package_id"


def _orderings(dialect: str) -> dict[str, dict[str, Ordering]]:
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


#: Without `o`: natural-key order, which the UNIQUE indexes serve directly.
_DEFAULT_ORDER = {
    "catalog": ("c.name", "c.version", "c.catalog_type"),
    "package": ("p.catalog_id", "p.name"),
    "version": ("v.package_id", "v.version", "v.module_version"),
    "target": ("t.version_id", "t.target_type", "t.target_name", "t.target_subtype"),
}

_VALID_UUID = "Enter a valid UUID."
_CATALOG_TYPE_VALUES = frozenset(value for value, _label in CATALOG_TYPES)
_BOOLEANS = {"1": 1, "true": 1, "0": 0, "false": 0}


class QueryBuilder:
    """Builds the ListQuery of a listing request for one dialect."""

    def __init__(self, dialect: str) -> None:
        self._filters = _filters(dialect)
        self._orderings = _orderings(dialect)

    def build(self, kind: KindInfo, params: Params) -> ListQuery:
        query = ListQuery(kind)
        errors: dict[str, list[str]] = {}
        for spec in self._filters[kind.name]:
            try:
                args = _arguments(spec, params.get(spec.param, ()))
            except QueryError as exc:
                errors.update(exc.errors)
                continue
            if args is not None:
                query.where.append(
                    spec.template.format(cond=_condition(spec.match, spec.column, len(args)))
                )
                query.params.extend(args)
        try:
            self._order(query, params)
        except QueryError as exc:
            errors.update(exc.errors)
        if errors:
            raise QueryError(errors)
        return query

    def _order(self, query: ListQuery, params: Params) -> None:
        kind = query.kind
        raw = params.get("o", [""])[-1]
        items = [item for item in raw.split(",") if item]
        if not items:
            query.order = [*_DEFAULT_ORDER[kind.name], f"{kind.alias}.id"]
            return
        choices = self._orderings[kind.name]
        joins: list[str] = []
        for item in items:
            descending = item.startswith("-")
            ordering = choices.get(item[1:] if descending else item)
            if ordering is None:
                raise QueryError({"o": [_invalid_choice(item)]})
            direction = "DESC" if descending else "ASC"
            nulls = (" NULLS FIRST" if descending else " NULLS LAST") if ordering.nullable else ""
            query.order.append(f"{ordering.expr} {direction}{nulls}")
            if ordering.joins and ordering.joins not in joins:
                joins.append(ordering.joins)
        query.order.append(f"{kind.alias}.id")
        query.joins = " ".join(joins)


def _arguments(spec: Filter, values: Sequence[str]) -> list[Any] | None:
    """The SQL arguments of a filter, None to ignore it, or QueryError. An empty value is
    ignored; a single-value filter given twice takes the last value (Django's QueryDict)."""
    if spec.match in (Match.ANY_IEXACT, Match.ANY_EXACT):
        return [value for value in values if value] or None
    value = values[-1] if values else ""
    if not value:
        return None
    if spec.match is Match.UUID:
        parsed = parse_uuid(value)
        if parsed is None:
            raise QueryError({spec.param: [_VALID_UUID]})
        return [parsed]
    if spec.match is Match.CHOICE and value not in _CATALOG_TYPE_VALUES:
        raise QueryError({spec.param: [_invalid_choice(value)]})
    if spec.match is Match.BOOL:
        flag = _BOOLEANS.get(value.lower())
        return None if flag is None else [flag]
    return [value]


def _invalid_choice(value: str) -> str:
    return f"Select a valid choice. {value} is not one of the available choices."
