"""Names are shown, never obeyed: text from the server or the files, escaped for where it lands.

- `terminal`: control characters (C0, DEL, C1: ESC, CR, backspace…) and the Unicode
  characters that reorder or break lines (bidi overrides and isolates, line and paragraph
  separators) are written as visible escapes (``\\x1b``, ``\\r``, ``\\u202e``), so a name
  cannot move the cursor, erase a line, colour or hide text, or reorder what follows.
- `md`: one line of Markdown text (a table cell, a list item, a block quote): escaped for
  HTML and for Markdown's inline syntax, so a name cannot open a heading, a list, a fence, a
  link, emphasis or a table cell.
- `html_inline`: one line inside an HTML element in Markdown (``<summary>``): HTML-escaped and
  every Markdown special as a character reference, shown the same whether or not the forge
  reads Markdown there.
- `code`: an inline code span whose fence is longer than any run of backticks inside, and
  `fence`: a code block's fence, longer than any run of backticks in its lines.

JSON needs nothing more: `json.dumps` escapes what it must.
"""

from __future__ import annotations

import re

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNSAFE = "\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{_UNSAFE}]")
_CONTROL_BUT_NEWLINE = re.compile(f"[\x00-\x09\x0b-\x1f{_UNSAFE[3:]}]")
#: Markdown's inline syntax; `_` only where it could open or close emphasis (not inside a
#: word such as ``x86_64``, where the forges never read it as emphasis).
_MD_SPECIAL = re.compile(r"([\\`*\[\]|~#<>!]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9]))")
_HTML_TABLE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;"} | {c: f"&#{ord(c)};" for c in "\\`*[]|~#!:@"}
)
_LONE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_BACKTICKS = re.compile("`+")


def _visible(found: re.Match[str]) -> str:
    char = found.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def terminal(text: str, *, newlines: bool = False) -> str:
    """`text` with every control character shown escaped; with `newlines`, line breaks kept
    (a multi-line message), everything else (CR included) escaped."""
    pattern = _CONTROL_BUT_NEWLINE if newlines else _CONTROL
    if pattern.search(text) is None:
        return text
    return pattern.sub(_visible, text)


def md(text: str) -> str:
    """One line of Markdown text: controls escaped, HTML and Markdown syntax escaped."""
    import html

    return _MD_SPECIAL.sub(r"\\\1", html.escape(terminal(str(text)), quote=False))


def html_inline(text: str) -> str:
    """One line inside an HTML element of a Markdown document (a ``<summary>``)."""
    text = terminal(str(text)).translate(_HTML_TABLE)
    return _LONE_UNDERSCORE.sub("&#95;", text)


def longest_backticks(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def code(text: str, *, table: bool = False) -> str:
    """`text` as an inline code span, shown literally; in a table cell `|` is escaped (the
    forge splits cells before it reads code spans)."""
    text = terminal(str(text))
    fence = "`" * (longest_backticks(text) + 1)
    pad = " " if text.startswith(("`", " ")) or text.endswith(("`", " ")) else ""
    if table:
        text = text.replace("|", "\\|")
    return f"{fence}{pad}{text}{pad}{fence}"


def fence(lines: list[str], info: str = "") -> tuple[str, str]:
    """The opening and closing fence of a code block holding `lines`: at least three
    backticks, and more than the longest run inside, so no line can close it."""
    longest = max((longest_backticks(line) for line in lines), default=0)
    marks = "`" * max(3, longest + 1)
    return marks + info, marks
