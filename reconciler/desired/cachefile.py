"""One entry of the desired-state cache: data, never code, and trusted only if we wrote it.

An entry is JSON of the validated state (rows of kind, key parts, fields and source, the
catalog policies, the source files) with a format name and version, preceded by one line: an
HMAC-SHA256 of the JSON under a key of this user's that lives outside the cache
(``$XDG_STATE_HOME/waldur-catalog-reconciler/cache-key``, else ``~/.local/state/…``, 0600 in a
0700 directory, made on first use). CI caches restore ``~/.cache`` across trust boundaries; an
entry planted there — even well-formed JSON of a state that was never in the files — does not
carry this machine's signature, so it is ignored.

An entry is also ignored (and the files read afresh) when it is not a regular file of this
user's, when its group or others may write it, when it is reached through a symbolic link, or
when it does not parse as this format. The cache directory is made 0700 (an existing one of
this user's is put back to 0700); a directory that is a link or another user's is not used.
"""

from __future__ import annotations

import contextlib
import hmac
import json
import os
import secrets
import stat
import tempfile
from hashlib import sha256
from pathlib import Path
from typing import Any

import orjson

from reconciler.core.model import (
    CatalogPolicy,
    DesiredState,
    Expectations,
    Key,
    Kind,
    LoaderPolicy,
    make_record,
)

NAME = "waldur-catalog-reconciler desired-state cache"
VERSION = 5
SUFFIX = ".json"
KEY_BYTES = 32


def key_path() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "waldur-catalog-reconciler" / "cache-key"


def _open_private(path: Path, flags: int, others: int = 0o022) -> int | None:
    """`path` opened with `flags` (never through a link) if it is a regular file of this
    user's that grants its group and others none of the `others` mode bits; else None."""
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError:
        return None
    info = os.fstat(fd)
    if (
        stat.S_ISREG(info.st_mode)
        and info.st_uid == os.geteuid()
        and not stat.S_IMODE(info.st_mode) & others
    ):
        return fd
    os.close(fd)
    return None


def signing_key(create: bool) -> bytes | None:
    """This user's cache key (made when `create` and there is none), or None."""
    path = key_path()
    fd = _open_private(path, os.O_RDONLY, 0o077)
    if fd is None and create and private_directory(path.parent):
        with contextlib.suppress(OSError):
            made = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(made, "wb") as out:
                out.write(secrets.token_bytes(KEY_BYTES))
        fd = _open_private(path, os.O_RDONLY, 0o077)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as stream:
        key = stream.read(KEY_BYTES + 1)
    return key if len(key) == KEY_BYTES else None


def private_directory(path: Path) -> bool:
    """Make `path` this user's 0700 directory (an existing one of this user's is put back to
    0700); False when it is a link, another user's, or cannot be made."""
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            return False
        if stat.S_IMODE(info.st_mode) != 0o700:
            path.chmod(0o700)
    except OSError:
        return False
    return True


def _pack(state: DesiredState) -> dict[str, Any]:
    """Rows of [kind, parent row (-1: none), own key parts, fields, source]: a key's parts
    are its parent's plus its own, so a name is stored once and shared again on reading."""
    rows: list[list[Any]] = []
    index: dict[Key, int] = {}
    for key, record in state.records.items():
        parent = key.parent
        at = index.get(parent, -1) if parent is not None else -1
        own = key.parts[len(parent.parts) :] if at >= 0 and parent is not None else key.parts
        index[key] = len(rows)
        rows.append([key.kind.value, at, list(own), dict(record.fields), record.source])
    return {
        "format": NAME,
        "version": VERSION,
        "records": rows,
        "policies": [[list(key.parts), _policy(p)] for key, p in state.policies.items()],
        "sources": list(state.sources),
    }


def _policy(policy: CatalogPolicy) -> dict[str, Any]:
    """`policy` as JSON: every field by name (a field added to `CatalogPolicy` is packed too;
    `_unpolicy` and the round-trip test say where it must be read back)."""
    loader = policy.loader
    return {
        **{name: getattr(policy, name) for name in CatalogPolicy.__dataclass_fields__},
        "ignore_fields": sorted(policy.ignore_fields),
        "loader": None
        if loader is None
        else {
            "loader": loader.loader,
            "refresh": loader.refresh,
            "expect": {
                "packages": list(loader.expect.packages),
                "architectures": list(loader.expect.architectures),
                "min_packages": loader.expect.min_packages,
            },
        },
    }


def _unpolicy(data: dict[str, Any]) -> CatalogPolicy:
    loader = data.pop("loader")
    if loader is not None:
        expect = loader["expect"]
        loader = LoaderPolicy(
            loader["loader"],
            Expectations(
                tuple(expect["packages"]), tuple(expect["architectures"]), expect["min_packages"]
            ),
            loader["refresh"],
        )
    return CatalogPolicy(
        **{**data, "ignore_fields": frozenset(data["ignore_fields"]), "loader": loader}
    )


def _unpack(data: Any) -> DesiredState | None:
    """The state `data` holds, or None when it is not this format."""
    if not isinstance(data, dict) or (data.get("format"), data.get("version")) != (NAME, VERSION):
        return None
    try:
        kinds = {kind.value: kind for kind in Kind}
        records = {}
        parts_of: list[tuple[str, ...]] = []
        for kind, parent, own, fields, source in data["records"]:
            parts = parts_of[parent] + tuple(own) if parent >= 0 else tuple(own)
            parts_of.append(parts)
            key = Key.trusted(kinds[kind], parts)  # signed, by this code: lengths are right
            records[key] = make_record(key, fields, source=source)
        policies = {
            Key(Kind.CATALOG, tuple(parts)): _unpolicy(policy) for parts, policy in data["policies"]
        }
        return DesiredState(records=records, policies=policies, sources=tuple(data["sources"]))
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _parse(body: bytes) -> Any:
    """The entry's JSON: orjson (a third of the standard library's time on a large state),
    the standard library for what orjson refuses (an integer beyond 64 bits)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return json.loads(body)


def _signature(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, sha256).hexdigest().encode()


def read(entry: Path) -> DesiredState | None:
    """The state of `entry`, or None when it is missing or not to be trusted (see above)."""
    fd = _open_private(entry, os.O_RDONLY)
    if fd is None:
        return None
    try:
        with os.fdopen(fd, "rb") as stream:
            signature, body = stream.readline(200).rstrip(b"\n"), stream.read()
        key = signing_key(create=False)
        if key is None or not hmac.compare_digest(signature, _signature(key, body)):
            return None
        state = _unpack(_parse(body))
    except (OSError, ValueError, RecursionError):
        return None
    if state is not None:
        with contextlib.suppress(OSError):
            os.utime(entry)  # recently used: kept by `_prune`
    return state


def write(entry: Path, state: DesiredState, keep: int) -> None:
    """Store `state` at `entry` (atomically; nothing when the directory or the key is not
    usable, or when JSON would not give the state back exactly); keep `keep` entries."""
    if not private_directory(entry.parent):
        return
    key = signing_key(create=True)
    document = _pack(state)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    if key is None or json.loads(text) != document:
        return
    body = text.encode("utf-8")
    part: str | None = None
    try:
        with tempfile.NamedTemporaryFile(dir=entry.parent, delete=False, suffix=".part") as out:
            part = out.name
            out.write(_signature(key, body) + b"\n" + body)
        os.replace(part, entry)
        _prune(entry.parent, keep)
    except OSError:  # no cache this time; the state was loaded all the same
        if part is not None:
            Path(part).unlink(missing_ok=True)


def _prune(directory: Path, keep: int) -> None:
    for old in directory.glob("*.pickle"):  # entries of older versions: code, never read
        old.unlink(missing_ok=True)
    entries = sorted(directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[keep:]:
        old.unlink(missing_ok=True)
