"""The server's rules for a single value, checked offline: URLs and forbidden characters.

What `reconcile validate` accepts, the server must accept, so these rebuild what Waldur's
serializers run on a write:

- URL fields (a catalog's ``source_url``, a package's ``homepage``) are Django ``URLField``s:
  `is_valid_url` is Django's ``URLValidator`` (schemes http, https, ftp, ftps; an optional
  ``user:password@``; a host that is an IPv4 address, a bracketed IPv6 address, ``localhost``
  or a dotted domain name with a top-level domain; an optional port; then path, query and
  fragment without white space). The length limit (200) is the schema's.
- Text goes into PostgreSQL, which refuses NUL in text and JSON, and DRF refuses lone
  surrogates. We refuse every C0 and C1 control character and DEL besides (as the file
  reader refuses them raw), since none of them means anything in a name or a path and all of
  them garble a terminal or a log: `bad_character` finds the first one (tab and newline are
  allowed where a text may span lines).
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlsplit

URL_SCHEMES = frozenset({"http", "https", "ftp", "ftps"})
MAX_URL = 2048  # Django's URLValidator.max_length (the field's own limit is lower)
URL_FIELD_LENGTH = 200  # the max_length of Waldur's URL fields (source_url, homepage)

_UL = "\u00a1-\uffff"  # Django's "unicode letters" range
_IPV4 = r"(?:0|25[0-5]|2[0-4]\d|1\d?\d?|[1-9]\d?)(?:\.(?:0|25[0-5]|2[0-4]\d|1\d?\d?|[1-9]\d?)){3}"
_IPV6 = r"\[[0-9a-f:.]+\]"
_HOSTNAME = rf"[a-z{_UL}0-9](?:[a-z{_UL}0-9-]{{0,61}}[a-z{_UL}0-9])?"
_DOMAIN = rf"(?:\.(?!-)[a-z{_UL}0-9-]{{1,63}}(?<!-))*"
_TLD = rf"\.(?!-)(?:[a-z{_UL}-]{{2,63}}|xn--[a-z0-9]{{1,59}})(?<!-)\.?"
_URL = re.compile(
    r"^(?:[a-z0-9.+-]*)://"
    r"(?:[^\s:@/]+(?::[^\s:@/]*)?@)?"
    rf"(?:{_IPV4}|{_IPV6}|(?:{_HOSTNAME}{_DOMAIN}{_TLD}|localhost))"
    r"(?::\d{1,5})?"
    r"(?:[/?#][^\s]*)?"
    r"\Z",
    re.IGNORECASE,
)
_MULTILINE_OK = frozenset("\t\n")


def is_valid_url(value: str) -> bool:
    """True when Django's ``URLValidator`` (default schemes plus ftp, ftps) accepts `value`."""
    if len(value) > MAX_URL or any(ch in value for ch in "\t\r\n"):
        return False
    if value.split("://")[0].lower() not in URL_SCHEMES:
        return False
    try:
        netloc = urlsplit(value).netloc
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    if not _URL.match(value):
        return False
    host = netloc.rpartition("@")[2]
    host = host[1:].partition("]")[0] if host.startswith("[") else host.partition(":")[0]
    return len(host) <= 253


def acceptable_url(value: str) -> bool:
    """True for a URL a Waldur URL field stores: valid, short enough, no control character."""
    return len(value) <= URL_FIELD_LENGTH and bad_character(value) is None and is_valid_url(value)


def url_problem(value: str) -> str | None:
    """Why the server would refuse `value` as a URL, with what to write instead; or None."""
    if is_valid_url(value):
        return None
    scheme, sep, _ = value.partition("://")
    if sep and scheme.lower() not in URL_SCHEMES:
        why = f"the scheme {scheme!r} is not one of http, https, ftp, ftps"
    elif not sep:
        why = "it has no scheme and host (scheme://host/…)"
    else:
        why = "it has no valid host, or white space"
    return (
        f"{value[:80]!r} is not a URL the server accepts: {why}. Write a full URL such as "
        "https://example.org/, or null for none"
    )


def bad_character(value: str, *, multiline: bool = False) -> str | None:
    """A description of the first character the server (or its database) would refuse or
    that has no business in a value: C0 controls, DEL, lone surrogates; or None."""
    for index, char in enumerate(value):
        code = ord(char)
        control = code < 0x20 or 0x7F <= code <= 0x9F  # C0, DEL and C1
        if control and not (multiline and char in _MULTILINE_OK):
            name = unicodedata.name(char, "") or _CONTROL_NAMES.get(code, "control character")
            where = "" if multiline else " (only descriptions may span lines)"
            hint = where if char in _MULTILINE_OK else ""
            return (
                f"contains the control character U+{code:04X} ({name}) at position {index + 1}"
                f"{hint}; remove it (a YAML escape such as \\0 or \\x07 in a quoted string?)"
            )
        if 0xD800 <= code <= 0xDFFF:
            return (
                f"contains a lone surrogate U+{code:04X} at position {index + 1}, which is not "
                "a character; write the character itself"
            )
    return None


_CONTROL_NAMES = {0x00: "NUL", 0x09: "TAB", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN", 0x7F: "DEL"}
