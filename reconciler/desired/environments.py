"""Environments as a command uses them, and the ``{{ values.NAME }}`` placeholders.

The plain half of the project file (`reconciler.desired.project` reads and validates it with
pydantic): what a run needs on every start — where the project file is, an environment's
server, files and values, and the substitution of values into the desired files — without
importing the validation library, so a run without a project file pays nothing for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reconciler.core.errors import ConfigError

if TYPE_CHECKING:  # yamlsrc imports YAML: not at run time, where only the alias is used
    from reconciler.desired.yamlsrc import FieldPath

#: The project file's name at the root of a catalog repository (never read as a catalog).
PROJECT_FILE = "reconcile.yaml"
#: ``{{ values.NAME }}`` in a desired file's text value.
PLACEHOLDER = re.compile(r"\{\{\s*values\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Environment:
    """One environment as a command uses it: paths resolved, values merged."""

    name: str
    api_url: str
    files: tuple[Path, ...]
    values: dict[str, str] = field(default_factory=dict)
    token_env: str | None = None
    token_file: str | None = None
    where: str = ""  # FILE:LINE of its declaration


@dataclass(frozen=True)
class Project:
    path: Path
    environments: dict[str, Environment]

    def select(self, name: str) -> Environment:
        if name not in self.environments:
            known = ", ".join(self.environments)
            raise ConfigError(f"{self.path}: no environment {name!r}; it declares: {known}")
        return self.environments[name]


def find_project(root: Path, given: str = "") -> Path | None:
    """The project file: `given` (relative to `root`), else ``reconcile.yaml`` in `root`."""
    if given:
        path = Path(given)
        path = path if path.is_absolute() else root / path
        if not path.is_file():
            raise ConfigError(f"the project file {path} does not exist")
        return path
    found = root / PROJECT_FILE
    return found if found.is_file() else None


def substitute(data: Any, values: dict[str, str], unknown: list[tuple[FieldPath, str]]) -> Any:
    """`data` with ``{{ values.NAME }}`` replaced in every text; placeholders without a value
    are added to `unknown` with their path (and left as they are)."""
    return _walk(data, (), values, unknown)


def _walk(
    node: Any, path: FieldPath, values: dict[str, str], unknown: list[tuple[FieldPath, str]]
) -> Any:
    if isinstance(node, str):
        if "{{" not in node:
            return node

        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if name in values:
                return values[name]
            unknown.append((path, name))
            return match.group(0)

        return PLACEHOLDER.sub(value, node)
    if isinstance(node, dict):
        return {k: _walk(v, (*path, k), values, unknown) for k, v in node.items()}
    if isinstance(node, list):
        return [_walk(v, (*path, i), values, unknown) for i, v in enumerate(node)]
    return node
