"""List filters and `o` ordering turned into one SQL query, the way django-filter reads them.

Which filters each kind has is `filter_table.py`'s; `ordering.py` reads `o`. Here, the values:

- an unknown parameter is ignored; a known one is never ignored unless its value is empty;
- a parameter given twice uses its last value (Django's QueryDict), except the repeatable
  `cpu_family` and `cpu_microarchitecture`, whose values are OR-ed; in the current dialect an
  empty one among them counts (upstream matches an empty name), the legacy one drops it;
- text values are stripped of surrounding whitespace (Django's `CharField`), so a value of
  spaces only is empty; a choice is taken as sent;
- `*_uuid` takes any form `uuid.UUID` accepts, else 400 `Enter a valid UUID.`;
  `offering_uuid` (packages, versions, targets) matches the objects of the offering's linked
  catalogs, an unknown offering nothing;
- a choice filter answers 400 on an unknown choice; a boolean (django-filter's
  `BooleanWidget`: true/false/1/0, any case) ignores anything else;
- a date (`release_date_after` / `_before`) is read as Django's `DateField` reads it (ISO
  `2024-01-31`, `01/31/2024`, `Jan 31 2024`, …), else 400 under `release_date`
  `Enter a valid date.`.

Filters on parents and children are subqueries on indexed columns, so counting a filtered
listing never joins more than it needs.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from waldur_sim.filter_table import Filter, Match, filters
from waldur_sim.kinds import KindInfo
from waldur_sim.ordering import QueryError, invalid_choice, order_by, orderings
from waldur_sim.serializers import CATALOG_TYPES, LEGACY
from waldur_sim.store import ListQuery
from waldur_sim.validation import parse_uuid

__all__ = ["Params", "QueryBuilder", "QueryError"]

#: Query parameters: every value of each name, in order.
Params = Mapping[str, Sequence[str]]

_VALID_UUID = "Enter a valid UUID."
_VALID_DATE = "Enter a valid date."
_CATALOG_TYPE_VALUES = frozenset(value for value, _label in CATALOG_TYPES)
_BOOLEANS = {"1": 1, "true": 1, "0": 0, "false": 0}
#: Django's DATE_INPUT_FORMATS for English.
_DATE_FORMATS = (
    "%Y-%m-%d",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%b %d %Y",
    "%b %d, %Y",
    "%d %b %Y",
    "%d %b, %Y",
    "%B %d %Y",
    "%B %d, %Y",
    "%d %B %Y",
    "%d %B, %Y",
)
#: Values Django reads with a `CharField` (stripped); a choice and a boolean are taken as sent.
_STRIPPED = frozenset(
    {
        Match.ICONTAINS,
        Match.IEXACT,
        Match.EXACT,
        Match.TEXT,
        Match.UUID,
        Match.DATE_FROM,
        Match.DATE_TO,
    }
)


def _condition(spec: Filter, count: int) -> str:
    """The SQL condition of a filter with `count` values (its `?` in order)."""
    column, match = spec.column, spec.match
    if match in (Match.TEXT, Match.FLAG):
        return spec.template
    if match is Match.ICONTAINS:
        cond = f"instr(pyupper({column}), pyupper(?)) > 0"
    elif match is Match.IEXACT:
        cond = f"pyupper({column}) = pyupper(?)"
    elif match is Match.ANY_IEXACT:
        cond = f"pyupper({column}) IN ({', '.join(['pyupper(?)'] * count)})"
    elif match is Match.ANY_EXACT:
        cond = f"{column} IN ({', '.join('?' * count)})"
    elif match is Match.DATE_FROM:
        cond = f"{column} >= ?"
    elif match is Match.DATE_TO:
        cond = f"{column} <= ?"
    else:
        cond = f"{column} = ?"
    return spec.template.format(cond=cond)


class QueryBuilder:
    """Builds the ListQuery of a listing request for one dialect."""

    def __init__(self, dialect: str) -> None:
        self._filters = filters(dialect)
        self._orderings = orderings(dialect)
        self._keep_empty = dialect != LEGACY

    def build(self, kind: KindInfo, params: Params) -> ListQuery:
        query = ListQuery(kind)
        errors: dict[str, list[str]] = {}
        for spec in self._filters[kind.name]:
            if spec.param not in params:
                continue
            try:
                args = self._arguments(spec, params[spec.param])
            except QueryError as exc:
                for key, messages in exc.errors.items():
                    known = errors.setdefault(key, [])
                    known += [message for message in messages if message not in known]
                continue
            if args is None:
                continue
            condition = _condition(spec, len(args))
            if spec.match is Match.FLAG:  # true: the condition holds; false: it does not
                query.where.append(condition if args[0] else f"NOT {condition}")
            elif spec.match is Match.TEXT:  # the value, wherever the template asks for it
                query.where.append(condition)
                query.params.extend(args * condition.count("?"))
            else:
                query.where.append(condition)
                query.params.extend(args)
        try:
            query.order, query.joins = order_by(
                kind, params.get("o", [""])[-1], self._orderings[kind.name]
            )
        except QueryError as exc:
            errors.update(exc.errors)
        if errors:
            raise QueryError(errors)
        return query

    def _arguments(self, spec: Filter, values: Sequence[str]) -> list[Any] | None:
        """The SQL arguments of a filter, None to ignore it, or QueryError."""
        if spec.match in (Match.ANY_IEXACT, Match.ANY_EXACT):
            kept = list(values) if self._keep_empty else [value for value in values if value]
            return kept or None
        value = values[-1] if values else ""
        if spec.match in _STRIPPED:
            value = value.strip()
        if not value:
            return None
        key = spec.error_key or spec.param
        if spec.match is Match.UUID:
            parsed = parse_uuid(value)
            if parsed is None:
                raise QueryError({key: [_VALID_UUID]})
            return [parsed]
        if spec.match is Match.CHOICE and value not in _CATALOG_TYPE_VALUES:
            raise QueryError({key: [invalid_choice(value)]})
        if spec.match in (Match.BOOL, Match.FLAG):
            flag = _BOOLEANS.get(value.lower())
            return None if flag is None else [flag]
        if spec.match in (Match.DATE_FROM, Match.DATE_TO):
            return [_date(value, key)]
        return [value]


def _date(value: str, key: str) -> str:
    for pattern in _DATE_FORMATS:
        try:
            return datetime.datetime.strptime(value, pattern).date().isoformat()
        except ValueError:
            continue
    raise QueryError({key: [_VALID_DATE]})
