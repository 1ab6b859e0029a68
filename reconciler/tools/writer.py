"""Write desired-state documents (plain data) as readable YAML files.

Used by `reconcile export` and `reconcile import`: keys in the order given (name first, then
fields, then children), multi-line text as ``|`` blocks, anything YAML would read as another
type quoted (``"2023.06"``), no aliases, no line wrapping of long paths. A header comment goes
first. Files are written atomically (a temporary file beside the target, then renamed), so an
interrupted export never leaves half a file behind for Git to pick up.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

import yaml

from reconciler.core.errors import ConfigError
from reconciler.core.redact import redact

SCHEMA_HINT = [
    "Editor completion and checking: `reconcile schema > catalog.schema.json`, then point",
    "the YAML language server at it with a $schema modeline (see the README).",
]


class _Dumper(yaml.SafeDumper):
    """SafeDumper that never emits aliases and writes multi-line strings as blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # list items indented under their key


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and value == value.strip() else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def comment(lines: list[str]) -> str:
    """`lines` as YAML comment lines (each prefixed with ``# ``)."""
    return "".join(f"# {line}".rstrip() + "\n" for line in lines)


def to_yaml(doc: Any, header: list[str] | None = None) -> str:
    """The document as YAML text, preceded by `header` as comment lines."""
    body = yaml.dump(
        doc,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=10_000,
        default_flow_style=False,
        indent=2,
    )
    return comment(header or []) + body


def write_text(text: str, target: Path | None, stdout: TextIO | None = None) -> None:
    """Write `text` to `target` atomically, or to `stdout` when `target` is None or ``-``;
    every secret in force masked (URLs are data here: their userinfo is kept)."""
    text = redact(text, userinfo=False)
    if target is None or str(target) == "-":
        out = stdout or sys.stdout
        out.write(text)
        out.flush()
        return
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write {target}: {exc.strerror}") from None
