"""The real data the repository carries (`data/`, see data/README.md), decompressed on demand.

Files are stored as ``.xz``; `data_file` decompresses one into a per-user cache directory the
first time it is asked for (written to a temporary name, then renamed, so an interrupted run
never leaves half a file) and returns the plain path. A missing file is a failed assertion:
tests never skip for want of data.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
CACHE = Path(tempfile.gettempdir()) / f"waldur-catalog-reconciler-data-{os.getuid()}"

#: The EESSI snapshots, by the names the tests and benchmarks use.
EESSI_FULL = ("eessi", "json_data_detail_2026-02-21.json")


def data_file(*parts: str) -> Path:
    """The decompressed file `data/<parts>.xz` (e.g. ``data_file("eessi", "history",
    "json_data_detail_2025-03-03.json")``)."""
    packed = DATA.joinpath(*parts[:-1], parts[-1] + ".xz")
    assert packed.is_file(), f"test data missing: {packed} (the repository carries it: git status?)"
    content = packed.read_bytes()
    digest = hashlib.sha256(content).hexdigest()[:12]
    target = CACHE / digest / parts[-1]
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as part:
            part.write(lzma.decompress(content))
        os.replace(part.name, target)
    return target
