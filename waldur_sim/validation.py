"""Field validation with Django REST framework's rules and its exact error messages.

Each writable field is a `Field`; `to_internal` turns one value of a request body into the value
stored, or raises `FieldError` carrying the messages DRF would give. The rules follow DRF's
field classes as Waldur's model serializers build them:

- char: numbers are accepted and turned into strings, surrounding whitespace is trimmed, "" or
  whitespace only is "blank", and the validators (length, NUL, surrogates) all report;
- url: a char field with Django's `URLValidator` (http, https, ftp, ftps);
- choice, bool, JSON, date (ISO 8601 as Django's `parse_date` reads it), list of strings;
- link: a hyperlink resolved like `HyperlinkedRelatedField` (only the URL's path counts);
  links: a list of them, as DRF's `ManyRelatedField` reads it.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import unquote, urlsplit

from waldur_sim.kinds import View, resolve

Detail = list[str] | dict[str, list[str]]


class FieldError(Exception):
    """One field's errors, in DRF's shape (a list of messages, or index → messages for lists)."""

    def __init__(self, detail: Detail) -> None:
        super().__init__(detail)
        self.detail = detail


class ValidationFailed(Exception):
    """A whole request body failed: `errors` is the 400 body."""

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__(errors)
        self.errors = errors


class FieldType(Enum):
    CHAR = "char"
    URL = "url"
    CHOICE = "choice"
    BOOL = "bool"
    JSON = "json"
    DATE = "date"
    LINK = "link"
    LINKS = "links"  # a list of hyperlinks (a many-to-many relation)
    STRLIST = "strlist"


class _NoDefault:
    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


@dataclass(frozen=True, slots=True)
class Field:
    """A writable field: its wire name, its storage column and DRF's options for it."""

    name: str
    type: FieldType
    column: str = ""
    required: bool = False
    max_length: int | None = None
    allow_blank: bool = False
    allow_null: bool = False
    default: Any = NO_DEFAULT  # stored on create when absent (a model default)
    choices: tuple[tuple[str, str], ...] = ()
    link: str | None = None  # the kind a LINK field points to
    help_text: str = ""  # the model field's help text, published by OPTIONS
    nested: bool = True  # also a field of the kind's nested serializer (embedded in a parent)

    def __post_init__(self) -> None:
        if not self.column:
            object.__setattr__(self, "column", self.name)

    def default_value(self) -> Any:
        """A fresh copy of the default (never share a mutable default)."""
        value = self.default
        return json.loads(json.dumps(value)) if isinstance(value, dict | list) else value


#: Resolves (kind name, uuid hex) to the stored row id, or None when no such object exists.
LinkLookup = Callable[[str, str], int | None]

REQUIRED = "This field is required."
NULL = "This field may not be null."
BLANK = "This field may not be blank."


def to_internal(field: Field, data: Any, lookup: LinkLookup) -> Any:
    """Validate one present value of `field`; return the value to store or raise FieldError."""
    if field.type is FieldType.LINK and data == "":
        data = None  # DRF's relational fields treat "" as null
    if field.type in (FieldType.CHAR, FieldType.URL):
        text = _blank_or_none(field, data)
        if text is not None:
            return text
    if data is None:
        if field.allow_null:
            return None
        raise FieldError([NULL])
    return _CONVERTERS[field.type](field, data, lookup)


def _blank_or_none(field: Field, data: Any) -> str | None:
    """DRF's CharField test for "" before anything else: "" (or only whitespace) is blank."""
    if data == "" or str(data).strip() == "":
        if not field.allow_blank:
            raise FieldError([BLANK])
        return ""
    return None


def _to_string(data: Any) -> str:
    if isinstance(data, bool) or not isinstance(data, str | int | float):
        raise FieldError(["Not a valid string."])
    return str(data).strip()


def _char_validators(field: Field, value: str) -> list[str]:
    """Every message of CharField's validators, in DRF's order (all of them run)."""
    errors = []
    if field.max_length is not None and len(value) > field.max_length:
        errors.append(f"Ensure this field has no more than {field.max_length} characters.")
    if "\x00" in value:
        errors.append("Null characters are not allowed.")
    surrogate = next((ch for ch in value if 0xD800 <= ord(ch) <= 0xDFFF), None)
    if surrogate is not None:
        errors.append(f"Surrogate characters are not allowed: U+{ord(surrogate):X}.")
    return errors


def _char(field: Field, data: Any, _lookup: LinkLookup) -> str:
    value = _to_string(data)
    _raise_if(_char_validators(field, value))
    return value


def _url(field: Field, data: Any, _lookup: LinkLookup) -> str:
    value = _to_string(data)
    errors = _char_validators(field, value)
    if not is_valid_url(value):
        errors.append("Enter a valid URL.")
    _raise_if(errors)
    return value


def _raise_if(errors: list[str]) -> None:
    if errors:
        raise FieldError(errors)


def _choice(field: Field, data: Any, _lookup: LinkLookup) -> str:
    value = str(data)
    if value not in dict(field.choices):
        raise FieldError([f'"{data}" is not a valid choice.'])
    return value


# DRF's BooleanField values; 1 == 1.0 == True and 0 == 0.0 == False, so the numbers are covered.
_TRUE = frozenset({"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE"}) | frozenset(
    {"on", "On", "ON", "1", True}
)
_FALSE = frozenset({"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE"}) | frozenset(
    {"off", "Off", "OFF", "0", False}
)


def _bool(_field: Field, data: Any, _lookup: LinkLookup) -> bool:
    try:
        if data in _TRUE:
            return True
        if data in _FALSE:
            return False
    except TypeError:  # unhashable: a list or an object
        pass
    raise FieldError(["Must be a valid boolean."])


def _json(_field: Field, data: Any, _lookup: LinkLookup) -> Any:
    """Any JSON value a JSON column can store (no NUL, lone surrogate or Infinity)."""
    try:
        json.dumps(data, ensure_ascii=False, allow_nan=False).encode("utf-8")
    except ValueError:  # Infinity from a huge number, or a lone surrogate
        raise FieldError(["Value must be valid JSON."]) from None
    if "\\u0000" in json.dumps(data):
        raise FieldError(["Value must be valid JSON."])
    return data


_DATE_RE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})$")


def _date(_field: Field, data: Any, _lookup: LinkLookup) -> str:
    """Django's parse_date: `date.fromisoformat`, then the loose `Y-m-d` pattern."""
    if isinstance(data, str):
        try:
            return datetime.date.fromisoformat(data).isoformat()
        except ValueError:
            match = _DATE_RE.match(data)
            if match:
                try:
                    return datetime.date(*(int(part) for part in match.groups())).isoformat()
                except ValueError:
                    pass
    raise FieldError(["Date has wrong format. Use one of these formats instead: YYYY-MM-DD."])


def _strlist(field: Field, data: Any, lookup: LinkLookup) -> list[str]:
    if not isinstance(data, list):
        raise FieldError([f'Expected a list of items but got type "{type(data).__name__}".'])
    child = Field(name=field.name, type=FieldType.CHAR)
    values: list[str] = []
    errors: dict[str, list[str]] = {}
    for index, item in enumerate(data):
        try:
            value = to_internal(child, item, lookup)
        except FieldError as exc:
            errors[str(index)] = exc.detail  # type: ignore[assignment]
        else:
            values.append(value)
    if errors:
        raise FieldError(errors)
    return values


def _link(field: Field, data: Any, lookup: LinkLookup) -> int:
    """HyperlinkedRelatedField.to_internal_value: only the path of the URL is resolved."""
    if not isinstance(data, str):
        raise FieldError([f"Incorrect type. Expected URL string, received {type(data).__name__}."])
    path = data
    if data.startswith(("http:", "https:")):
        try:
            path = urlsplit(data).path
        except ValueError:
            raise FieldError(["Invalid hyperlink - No URL match."]) from None
    route = resolve(unquote(path))
    if route is None:
        raise FieldError(["Invalid hyperlink - No URL match."])
    if route.view is not View.DETAIL or route.kind is None or route.kind.name != field.link:
        raise FieldError(["Invalid hyperlink - Incorrect URL match."])
    uuid_hex = parse_uuid(route.lookup)
    if uuid_hex is None:
        raise FieldError([f"\u201c{route.lookup}\u201d is not a valid UUID."])
    row_id = lookup(field.link, uuid_hex)
    if row_id is None:
        raise FieldError(["Invalid hyperlink - Object does not exist."])
    return row_id


def _links(field: Field, data: Any, lookup: LinkLookup) -> list[int]:
    """DRF's ManyRelatedField: a list, each item a hyperlink; the first bad item answers."""
    if isinstance(data, str) or not isinstance(data, list):
        raise FieldError([f'Expected a list of items but got type "{type(data).__name__}".'])
    return [_link(field, item, lookup) for item in data]


_CONVERTERS: dict[FieldType, Callable[[Field, Any, LinkLookup], Any]] = {
    FieldType.CHAR: _char,
    FieldType.URL: _url,
    FieldType.CHOICE: _choice,
    FieldType.BOOL: _bool,
    FieldType.JSON: _json,
    FieldType.DATE: _date,
    FieldType.LINK: _link,
    FieldType.LINKS: _links,
    FieldType.STRLIST: _strlist,
}


def parse_uuid(text: str) -> str | None:
    """32 lowercase hex digits for any form `uuid.UUID(hex=...)` takes (hyphens…), or None."""
    try:
        return uuid.UUID(hex=text).hex
    except (ValueError, TypeError):
        return None


# Django's URLValidator, rebuilt: scheme, optional user:password@, host (IPv4, [IPv6], a
# dotted domain name with a TLD, or localhost), optional port, then path/query/fragment.
_UL = "\u00a1-\uffff"
_IPV4 = r"(?:0|25[0-5]|2[0-4]\d|1\d?\d?|[1-9]\d?)(?:\.(?:0|25[0-5]|2[0-4]\d|1\d?\d?|[1-9]\d?)){3}"
_IPV6 = r"\[[0-9a-f:.]+\]"
_HOSTNAME = rf"[a-z{_UL}0-9](?:[a-z{_UL}0-9-]{{0,61}}[a-z{_UL}0-9])?"
_DOMAIN = rf"(?:\.(?!-)[a-z{_UL}0-9-]{{1,63}}(?<!-))*"
_TLD = rf"\.(?!-)(?:[a-z{_UL}-]{{2,63}}|xn--[a-z0-9]{{1,59}})(?<!-)\.?"
_URL_RE = re.compile(
    r"^(?:[a-z0-9.+-]*)://"
    r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"
    rf"(?:{_IPV4}|{_IPV6}|(?:{_HOSTNAME}{_DOMAIN}{_TLD}|localhost))"
    r"(?::\d{1,5})?"
    r"(?:[/?#][^\s]*)?"
    r"\Z",
    re.IGNORECASE,
)
_URL_SCHEMES = frozenset({"http", "https", "ftp", "ftps"})


def is_valid_url(value: str) -> bool:
    if len(value) > 2048 or any(ch in value for ch in "\t\r\n"):
        return False
    if value.split("://")[0].lower() not in _URL_SCHEMES:
        return False
    try:
        netloc = urlsplit(value).netloc
    except ValueError:
        return False
    if not _URL_RE.match(value):
        return False
    host = netloc.rpartition("@")[2]
    host = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
    return len(host) <= 253
