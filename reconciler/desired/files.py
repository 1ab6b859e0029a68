"""Which files a list of `-f` paths stands for (shared by the loader and its cache)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from reconciler.desired.environments import PROJECT_FILE

SUFFIXES = (".yaml", ".yml")
#: Never read as a catalog from a directory: the project file (`desired.project`).
NOT_CATALOGS = (PROJECT_FILE,)


def expand(paths: Sequence[Path], problems: list[str]) -> list[Path]:
    """Files to read, each once (by resolved path), in the order given; dotfiles skipped."""
    if not paths:
        problems.append("no desired-state file given")
    files: list[Path] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.suffix in SUFFIXES
                and not p.name.startswith(".")
                and p.name not in NOT_CATALOGS
                and not p.is_dir()
            )
            if not found:
                problems.append(f"{path}: directory has no *.yaml or *.yml file")
        else:
            found = [path]  # load_yaml reports a missing path or one that is not a file
        for file in found:
            real = file.resolve()
            if real not in seen:
                seen.add(real)
                files.append(file)
    return files
