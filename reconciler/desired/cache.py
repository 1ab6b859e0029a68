"""A cache of validated desired states, so an unchanged file is not validated again.

Validating the full EESSI catalog (18,606 objects) costs about 0.1 s and the import of YAML
and pydantic as much again; a scheduled `reconcile plan` of an unchanged repository pays that
on every run for the same answer. `load_cached` keys the result by a digest of everything it
depends on: each file's path as given and its bytes, and the source of the code that reads
them (so upgrading the reconciler invalidates every entry). Only a valid state is stored;
files with problems are read (and reported) afresh every time.

The cache lives in ``$XDG_CACHE_HOME/waldur-catalog-reconciler`` (else ``~/.cache/…``), in a
directory only its owner may read, with at most `KEEP` entries; deleting it is always safe. A
cache that cannot be read or written (a read-only root file system in a container) is simply
not used. `RECONCILE_NO_CACHE=1` turns it off. A long-running process (the daemon) also keeps
the last state in memory, so an unchanged file costs one digest per run.

The state is shared, not copied: callers must not modify it (nothing does: plans are built
from it, never into it).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections.abc import Sequence
from pathlib import Path

from reconciler.core.memory import bulk
from reconciler.core.model import DesiredState, Key, Kind, Record
from reconciler.desired.files import expand

FORMAT = b"desired-cache-2"
KEEP = 16
_MEMO: dict[str, DesiredState] = {}
_CODE = (
    "desired/files.py",
    "desired/loader.py",
    "desired/loadersrc.py",
    "desired/schema.py",
    "desired/yamlsrc.py",
    "core/model.py",
    "core/fieldrules.py",
)


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "waldur-catalog-reconciler"


def digest(files: Sequence[Path]) -> str | None:
    """The key of `files` as they are now (None when one cannot be read)."""
    package = Path(__file__).resolve().parents[1]
    hasher = hashlib.sha256(FORMAT)
    try:
        for name in _CODE:
            hasher.update((package / name).read_bytes())
        for path in files:
            hasher.update(b"\0" + str(path).encode("utf-8", "surrogateescape") + b"\0")
            hasher.update(path.read_bytes())
    except OSError:
        return None
    return hasher.hexdigest()


def load_cached(paths: Sequence[Path]) -> DesiredState:
    """`load_desired(paths)`, answered from the cache when nothing it depends on changed
    (a hit imports neither YAML nor pydantic)."""
    key = None
    if not os.environ.get("RECONCILE_NO_CACHE"):
        problems: list[str] = []
        files = expand(paths, problems)
        key = None if problems else digest(files)
    if key is not None and key in _MEMO:
        return _MEMO[key]  # a long-running process (the daemon): not even unpickled again
    entry = cache_dir() / f"{key}.pickle" if key else None
    with bulk():
        state = _read(entry) if entry else None
        if state is None:
            from reconciler.desired.loader import load_desired

            state = load_desired(paths)
            if entry is not None:
                _write(entry, state)
    if key is not None:
        _MEMO.clear()  # one state is all a process reuses
        _MEMO[key] = state
    return state


def _pack(state: DesiredState) -> tuple[object, ...]:
    """Plain tuples (half the time to load back of pickled dataclasses)."""
    rows = [(key.kind.value, key.parts, r.fields, r.source) for key, r in state.records.items()]
    return (FORMAT, rows, state.policies, state.sources)


def _unpack(data: object) -> DesiredState | None:
    if not (isinstance(data, tuple) and len(data) == 4 and data[0] == FORMAT):
        return None
    _, rows, policies, sources = data
    kinds = {kind.value: kind for kind in Kind}
    records = {}
    for kind, parts, fields, source in rows:
        key = Key(kinds[kind], parts)
        records[key] = Record(key, fields, source=source)
    return DesiredState(records=records, policies=policies, sources=sources)


def _read(entry: Path) -> DesiredState | None:
    try:
        with entry.open("rb") as stream:
            state = _unpack(pickle.load(stream))
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, ValueError):
        return None
    if state is not None:
        with contextlib.suppress(OSError):
            os.utime(entry)  # recently used: kept by `_prune`
    return state


def _write(entry: Path, state: DesiredState) -> None:
    part: str | None = None
    try:
        entry.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=entry.parent, delete=False, suffix=".part") as out:
            part = out.name
            pickle.dump(_pack(state), out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(part, entry)
        _prune(entry.parent)
    except OSError:  # no cache this time; the state was loaded all the same
        if part is not None:
            Path(part).unlink(missing_ok=True)


def _prune(directory: Path) -> None:
    entries = sorted(directory.glob("*.pickle"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        old.unlink(missing_ok=True)
