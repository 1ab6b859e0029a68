"""A cache of validated desired states, so an unchanged file is not validated again.

Validating the full EESSI catalog (18,606 objects) costs about 0.1 s and the import of YAML
and pydantic as much again; a scheduled `reconcile plan` of an unchanged repository pays that
on every run for the same answer. `load_cached` keys the result by a digest of everything it
depends on: each file's path as given and its bytes, and the source of the code that reads
them (so upgrading the reconciler invalidates every entry). Only a valid state is stored;
files with problems are read (and reported) afresh every time.

The cache lives in ``$XDG_CACHE_HOME/waldur-catalog-reconciler`` (else ``~/.cache/…``), in a
directory only its owner may use (made, or put back to, 0700), with at most `KEEP` entries;
deleting it is always safe. A cache that cannot be read or written (a read-only root file
system in a container) is simply not used. `RECONCILE_NO_CACHE=1` turns it off.

An entry is data, never code, and is used only if this machine's user wrote it
(`cachefile`): CI caches restore ``~/.cache`` across trust boundaries.

A long-running process (the daemon) also keeps the last state in memory, so an unchanged file
costs one digest per run.

The state is shared, not copied: callers must not modify it (nothing does: plans are built
from it, never into it).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from reconciler.core.memory import bulk
from reconciler.core.model import DesiredState
from reconciler.desired import cachefile
from reconciler.desired.cachefile import SUFFIX
from reconciler.desired.files import expand

FORMAT = b"desired-cache-5"
KEEP = 16
_MEMO: dict[str, DesiredState] = {}
_CODE = (
    "desired/files.py",
    "desired/loader.py",
    "desired/loadersrc.py",
    "desired/schema.py",
    "desired/yamlsrc.py",
    "desired/project.py",
    "desired/cachefile.py",
    "core/model.py",
    "core/fieldrules.py",
)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "waldur-catalog-reconciler"


def digest(files: Sequence[Path], values: dict[str, str] | None = None) -> str | None:
    """The key of `files` as they are now, with the environment's `values` (None when a
    file cannot be read)."""
    package = Path(__file__).resolve().parents[1]
    hasher = hashlib.sha256(FORMAT)
    if values is not None:
        hasher.update(repr(sorted(values.items())).encode("utf-8", "surrogateescape"))
    try:
        for name in _CODE:
            hasher.update((package / name).read_bytes())
        for path in files:
            hasher.update(b"\0" + str(path).encode("utf-8", "surrogateescape") + b"\0")
            hasher.update(path.read_bytes())
    except OSError:
        return None
    return hasher.hexdigest()


def load_cached(paths: Sequence[Path], values: dict[str, str] | None = None) -> DesiredState:
    """`load_desired(paths)`, answered from the cache when nothing it depends on changed
    (a hit imports neither YAML nor pydantic)."""
    key = None
    if not os.environ.get("RECONCILE_NO_CACHE"):
        problems: list[str] = []
        files = expand(paths, problems)
        key = None if problems else digest(files, values)
    if key is not None and key in _MEMO:
        return _MEMO[key]  # a long-running process (the daemon): not even parsed again
    entry = cache_dir() / f"{key}{SUFFIX}" if key else None
    with bulk():
        state = cachefile.read(entry) if entry else None
        if state is None:
            from reconciler.desired.loader import load_desired

            state = load_desired(paths, values=values)
            if entry is not None:
                cachefile.write(entry, state, KEEP)
    if key is not None:
        _MEMO.clear()  # one state is all a process reuses
        _MEMO[key] = state
    return state
