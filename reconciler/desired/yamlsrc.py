"""Safe YAML reading with positions: plain data plus a table of line numbers by field path.

`load_yaml` reads one file and returns a `Document`: the data as plain Python values (dict,
list, str, int, float, bool, None, datetime.date) and `lines`, which maps every field path
(``("catalogs", 0, "packages", 3, "name")``) to its 1-based line, so later stages can say
``file:line: catalogs[0].packages[3].name: …`` without keeping YAML nodes around.

Guards, each reported as a clear problem naming the file and (where there is one) the line:

- the path must be a regular file (not a directory, FIFO or device; opened non-blocking so a
  FIFO never hangs) of at most `MAX_BYTES` (20 MiB; a full EESSI release is about 2 MiB);
- the bytes must be UTF-8 (a UTF-8 BOM is allowed); the first bad byte is named;
- no control characters other than tab, newline and carriage return (C0, DEL, C1, and the
  Unicode line/paragraph separators, which would shift line numbers);
- **aliases are refused**: a desired file never needs ``*name``, and refusing them outright
  makes alias bombs ("billion laughs") impossible. Data is built straight from the parser's
  events, so the first alias event stops the load before anything is expanded. Anchors
  alone (``&name``) are harmless and ignored; merge keys (``<<``) are refused too;
- nesting is bounded at `MAX_DEPTH` levels (libyaml also stops at 1000 while parsing), and
  the number of values (scalars, lists, mappings) at `MAX_NODES`: a million, about 7 times
  the full EESSI 2023.06 catalog with every target written out (~150,000), so that the
  worst file within the size limit costs at most ~2 s and ~200 MB rather than 1 GB;
- only the plain YAML tags (string, int, float, bool, null, timestamp, map, seq).

Duplicate mapping keys (which PyYAML accepts silently, keeping the last) are reported with
both lines; they and non-string keys are *non-fatal* (`Document.problems`): the first value
is kept, so the rest of the file can still be checked. Everything else above is fatal
(`YamlError`). Time and memory are linear in the file size, which is bounded.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.events import (
    AliasEvent,
    Event,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode

_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 1_000_000

FieldPath = tuple[str | int, ...]

_TAG = "tag:yaml.org,2002:"
_STR, _MAP, _SEQ, _MERGE = _TAG + "str", _TAG + "map", _TAG + "seq", _TAG + "merge"
_TIMESTAMP = _TAG + "timestamp"
_SCALAR_TAGS = frozenset(_TAG + t for t in ("null", "bool", "int", "float", "timestamp"))
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]")
_KIND_OF = {_TAG + "null": "null", _TAG + "bool": "a boolean", _TAG + "timestamp": "a date"}


class YamlError(Exception):
    """A file could not be read as YAML at all; `problems` are formatted lines."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def format_path(path: FieldPath) -> str:
    """``("catalogs", 0, "name")`` → ``catalogs[0].name``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def format_problem(name: str, line: int | None, path: FieldPath, message: str) -> str:
    """``FILE:LINE: FIELD.PATH: message`` (the line or the path left out when unknown)."""
    where = name if line is None else f"{name}:{line}"
    return f"{where}: {format_path(path)}: {message}" if path else f"{where}: {message}"


@dataclass(slots=True)
class Document:
    """One parsed file: `data`, the line of every field path, and the raw text of every
    scalar that YAML typed as something other than a string (for "quote it" hints)."""

    name: str
    data: Any
    lines: dict[FieldPath, int] = field(default_factory=dict)
    raw: dict[FieldPath, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    # Whether a string of it can hold "{{" (a placeholder): only if its text has "{{", or a
    # backslash (an escape in a double-quoted scalar, "\x7b", can make a "{"). No YAML folding
    # joins two braces without one.
    templated: bool = True

    def line(self, path: FieldPath) -> int:
        """The line of `path`, or of its nearest ancestor that has one (1 at worst)."""
        found = _nearest(self.lines, path)
        return 1 if found is None else found

    def where(self, path: FieldPath) -> str:
        return f"{self.name}:{self.line(path)}"

    def problem(self, path: FieldPath, message: str) -> str:
        return format_problem(self.name, self.line(path), path, message)


class _Fatal(Exception):
    def __init__(self, line: int | None, path: FieldPath, message: str) -> None:
        super().__init__(message)
        self.line, self.path, self.message = line, path, message


class PositionLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """A SafeLoader that builds plain data and a line table straight from the parser's
    events (no node graph, no recursive constructor), refusing what the module docstring
    lists. Implicit scalar types are resolved with the loader's own resolver table."""

    def __init__(self, stream: str, name: str, max_nodes: int = MAX_NODES) -> None:
        super().__init__(stream)
        self.name = name
        self.max_nodes = self.nodes_left = max_nodes
        self.lines: dict[FieldPath, int] = {}
        self.raw: dict[FieldPath, str] = {}
        self.problems: list[str] = []

    def build(self) -> Any:
        """The single document of the stream as plain data (None for an empty stream)."""
        self.get_event()  # StreamStart
        if type(self.get_event()) is StreamEndEvent:
            return None
        data = self._value(self.get_event(), (), 0)
        self.get_event()  # DocumentEnd
        event = self.get_event()
        if type(event) is not StreamEndEvent:
            line = event.start_mark.line + 1
            raise _Fatal(line, (), "a second YAML document (---) starts here; use one per file")
        return data

    def _value(self, event: Event, path: FieldPath, depth: int) -> Any:
        self.nodes_left -= 1
        if self.nodes_left < 0:
            line = event.start_mark.line + 1
            raise _Fatal(line, path[:8], f"more than {self.max_nodes:,} values in one file")
        kind = type(event)
        if kind is ScalarEvent:
            return self._scalar(event, path)
        line = event.start_mark.line + 1
        if kind is AliasEvent:
            raise _Fatal(line, path, _ALIAS)
        if depth >= MAX_DEPTH:  # named by its first few levels: the full path is long
            raise _Fatal(line, path[:8], f"nested deeper than {MAX_DEPTH} levels")
        if kind is SequenceStartEvent and event.tag in (None, "!", _SEQ):
            items: list[Any] = []
            get = self.get_event
            while type(event := get()) is not SequenceEndEvent:
                item_path = (*path, len(items))
                self.lines[item_path] = event.start_mark.line + 1
                items.append(self._value(event, item_path, depth + 1))
            return items
        if kind is MappingStartEvent and event.tag in (None, "!", _MAP):
            return self._mapping(path, depth)
        raise _Fatal(line, path, f"YAML tag {event.tag} is not supported")

    def _mapping(self, path: FieldPath, depth: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        get = self.get_event
        while type(event := get()) is not MappingEndEvent:
            line = event.start_mark.line + 1
            if type(event) is ScalarEvent and event.value == "<<" and self._tag(event) == _MERGE:
                raise _Fatal(line, path, "merge keys (<<) are not allowed: write the fields out")
            key = self._value(event, (*path, "<key>"), depth + 1)
            if not isinstance(key, str):
                self.problems.append(format_problem(self.name, line, path, self._bad_key(event)))
                self._value(get(), (*path, "<value>"), depth + 1)
                continue
            key_path = (*path, key)
            if key in out:
                message = f"duplicate key {key!r} (first at line {self.lines[key_path]})"
                self.problems.append(format_problem(self.name, line, key_path, message))
                self._value(get(), (*path, "<value>"), depth + 1)
                continue
            self.lines[key_path] = line
            out[key] = self._value(get(), key_path, depth + 1)
        return out

    def _tag(self, event: ScalarEvent) -> str:
        if event.tag not in (None, "!"):
            return str(event.tag)
        value = event.value
        if event.tag is None and event.implicit[0]:  # plain: resolve like PyYAML does
            for tag, regexp in self.yaml_implicit_resolvers.get(value[:1], ()):
                if regexp.match(value):
                    return str(tag)
        return _STR

    def _bad_key(self, event: Event) -> str:
        if not isinstance(event, ScalarEvent):
            return "a key must be a plain string, not a list or mapping"
        kind = _KIND_OF.get(self._tag(event), "a number")
        return f'key {event.value!r} was read by YAML as {kind}; quote it: "{event.value}"'

    def _scalar(self, event: ScalarEvent, path: FieldPath) -> Any:
        tag = self._tag(event)
        if tag == _STR:
            return event.value
        line = event.start_mark.line + 1
        if tag not in _SCALAR_TAGS:
            raise _Fatal(line, path, f"YAML tag {tag} is not supported")
        node = ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            value = self.yaml_constructors[tag](self, node)
        except (ValueError, OverflowError, yaml.YAMLError):
            if tag == _TIMESTAMP:  # e.g. 2024-13-01: left as text for the field to judge
                return event.value
            message = f"cannot read {event.value[:40]!r} as {_KIND_OF.get(tag, 'a number')}"
            raise _Fatal(line, path, message) from None
        self.raw[path] = event.value
        return value


_ALIAS = (
    "aliases (*name) are not allowed in desired-state files (they are how YAML "
    "'billion laughs' bombs work): write the value out"
)


def read_text(path: Path, name: str, max_bytes: int = MAX_BYTES) -> str:
    """The file's text, after the file-type, size, UTF-8 and control-character guards."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except FileNotFoundError:
        raise YamlError([f"{name}: no such file or directory"]) from None
    except OSError as exc:
        raise YamlError([f"{name}: cannot open: {exc.strerror}"]) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise YamlError([f"{name}: is {_file_kind(info.st_mode)}, not a regular file"])
        if info.st_size > max_bytes:
            raise YamlError([f"{name}: {_too_big(info.st_size, max_bytes)}"])
        with os.fdopen(fd, "rb", closefd=False) as handle:
            data = handle.read(info.st_size + 1)  # read(n) allocates n bytes up front
            if len(data) > info.st_size:  # the file grew since fstat
                data += handle.read(max_bytes + 1 - len(data))
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise YamlError([f"{name}: {_too_big(len(data), max_bytes)}"])
    return decode(data, name)


def decode(data: bytes, name: str) -> str:
    """UTF-8 text of `data` (a UTF-8 BOM dropped), with no control characters."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise YamlError([f"{name}:1: the file is UTF-16 (byte-order mark); save it as UTF-8"])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"not valid UTF-8: byte 0x{data[exc.start]:02x} at column {column}"
        raise YamlError([f"{name}:{line}: {message}; save the file as UTF-8"]) from None
    bad = _CONTROL.search(text)
    if bad is not None:
        pos = bad.start()
        line = text.count("\n", 0, pos) + 1
        column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        count = len(_CONTROL.findall(text))
        more = f" ({count} such characters in the file)" if count > 1 else ""
        raise YamlError(
            [
                f"{name}:{line}: control character U+{ord(bad.group()):04X} at column "
                f"{column} is not allowed (only tab, newline and carriage return){more}"
            ]
        )
    return text


def parse_text(text: str, name: str, max_nodes: int = MAX_NODES) -> Document:
    """Parse already-decoded text (see `load_yaml`)."""
    loader = PositionLoader(text, name, max_nodes)
    try:
        data = loader.build()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = None if mark is None else mark.line + 1
        detail = " ".join(part for part in (exc.context, exc.problem) if part)
        raise YamlError([format_problem(name, line, (), f"not valid YAML: {detail}")]) from None
    except yaml.YAMLError as exc:
        raise YamlError([format_problem(name, None, (), f"not valid YAML: {exc}")]) from None
    except _Fatal as exc:
        line = exc.line if exc.line is not None else _nearest(loader.lines, exc.path)
        raise YamlError([format_problem(name, line, exc.path, exc.message)]) from None
    finally:
        loader.dispose()
    templated = "{{" in text or "\\" in text
    return Document(name, data, loader.lines, loader.raw, loader.problems, templated)


def load_yaml(
    path: Path, *, name: str | None = None, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES
) -> Document:
    """Read and parse one desired-state file. Raises `YamlError` for anything fatal;
    non-fatal problems (duplicate or non-string keys) are in `Document.problems`."""
    name = str(path) if name is None else name
    return parse_text(read_text(path, name, max_bytes), name, max_nodes)


def _nearest(lines: dict[FieldPath, int], path: FieldPath) -> int | None:
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def _too_big(size: int, limit: int) -> str:
    unit, scale = ("MiB", 2**20) if limit >= 2**20 else ("KiB", 2**10)
    return f"the file is {size / scale:.1f} {unit}, over the {limit / scale:g} {unit} limit"


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "something other than a file"
