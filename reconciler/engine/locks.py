"""One writer at a time per API URL on a machine: an advisory lock file (flock).

`reconcile apply` and the daemon hold it while they observe, plan and apply; a second one
waits up to `wait` seconds and then refuses. The kernel drops the lock when its holder dies
(even by SIGKILL), so a crashed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reconciler.core.errors import GuardRefused


def lock_path(api_url: str, directory: str = "") -> Path:
    digest = hashlib.sha256(api_url.encode()).hexdigest()[:16]
    base = Path(directory or os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    return base / f"waldur-reconcile-{digest}.lock"


@contextmanager
def exclusive(api_url: str, *, wait: float = 30.0, directory: str = "") -> Iterator[Path]:
    path = lock_path(api_url, directory)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
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
                        f"another reconcile (pid {holder}) is applying to {api_url} "
                        f"(lock {path}); waited {wait:g}s. Nothing was written."
                    ) from None
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield path
    finally:
        os.close(fd)  # closing drops the lock
