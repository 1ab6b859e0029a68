"""One writer at a time per server on a machine: an advisory lock file (flock).

`reconcile apply` and the daemon hold it while they observe, plan and apply; a second one
waits up to `wait` seconds and then refuses. The kernel drops the lock when its holder dies
(even by SIGKILL), so a crashed run never leaves a stale lock behind.

The lock is keyed on the server, not on how its URL is spelled (`server_key`): the scheme, the
lower-cased host with ``localhost``, ``127.0.0.1`` and ``::1`` as one, the port (default ports
filled in) and the path. It lives in ``--lock-dir``, else ``$XDG_RUNTIME_DIR``, else a
directory of this user's own under the temp directory (created 0700, refused if it is a link,
another user's, or open to others), so no other local user can hold it or plant a file there.
The file is opened with ``O_NOFOLLOW``: a symbolic link planted at its path is refused, never
followed (it could make an apply truncate another file), as is a file another user owns.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

from reconciler.core.errors import GuardRefused
from reconciler.core.urls import public_url

LOOPBACK = {"localhost", "127.0.0.1", "::1"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def server_key(api_url: str) -> str:
    """The server `api_url` names, spelled one way: ``scheme://host:port/path/``."""
    parts = urlsplit(api_url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    host = "localhost" if host in LOOPBACK else host
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    except ValueError:
        port = 0
    path = "/" + "/".join(p for p in parts.path.split("/") if p)
    return f"{scheme}://{host}:{port}{path.rstrip('/')}/"


def _own_directory() -> Path:
    """This user's lock directory under the temp directory: made 0700, checked to be a real
    directory that is this user's alone."""
    path = Path(tempfile.gettempdir()) / f"waldur-reconcile-{os.geteuid()}"
    with suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = path.lstat()
    if (
        not stat.S_ISDIR(info.st_mode)
        or info.st_uid != os.geteuid()
        or stat.S_IMODE(info.st_mode) & 0o077
    ):
        raise GuardRefused(
            f"the lock directory {path} is not a directory of this user's alone (a link, "
            "another user's, or open to others); remove it, or set --lock-dir. Nothing was "
            "written."
        )
    return path


def lock_path(api_url: str, directory: str = "") -> Path:
    digest = hashlib.sha256(server_key(api_url).encode()).hexdigest()[:16]
    if directory:
        base = Path(directory)
    elif os.environ.get("XDG_RUNTIME_DIR"):
        base = Path(os.environ["XDG_RUNTIME_DIR"])
    else:
        base = _own_directory()
    return base / f"waldur-reconcile-{digest}.lock"


def _open(path: Path) -> int:
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise GuardRefused(
                f"the lock file {path} is a symbolic link: not followed (it could make the "
                "apply overwrite another file); remove it. Nothing was written."
            ) from None
        raise GuardRefused(
            f"cannot open the lock file {path}: {exc.strerror}. Nothing was written."
        ) from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_uid != os.geteuid():
        os.close(fd)
        raise GuardRefused(
            f"the lock file {path} is not a file of this user's: refusing to use it (another "
            "user could hold it); remove it, or set --lock-dir. Nothing was written."
        )
    return fd


@contextmanager
def exclusive(api_url: str, *, wait: float = 30.0, directory: str = "") -> Iterator[Path]:
    path = lock_path(api_url, directory)
    fd = _open(path)
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                    raise GuardRefused(
                        f"another reconcile (pid {holder}) is applying to {public_url(api_url)} "
                        f"(lock {path}); waited {wait:g}s. Nothing was written."
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing drops the lock
