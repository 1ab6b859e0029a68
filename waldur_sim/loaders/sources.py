"""The loaders' sources: local files in upstream's formats standing in for upstream's URLs.

Upstream's loaders download `{SOFTWARE_CATALOG_EESSI_API_URL}/eessi_api_metadata_software.json`
(and `eessi_api_metadata_ext-<type>.json` for extensions) and one Spack `repology.json`. The sim
reads the same formats from local files (plain or `.xz`), named by `--eessi-source` (a directory
holding `eessi_api_metadata_software.json[.xz]`, or that file itself) and `--spack-source`, while
the catalogs it fills name the URLs of `--eessi-url` / `--spack-url` (upstream's defaults), as
upstream's do.

What a test changes at runtime lives here too (`Sources.configure`, served at
`/api/_sim/loaders/`): the source files, packages to hide from a source ("the source dropped a
package"), sources to make unreachable, the duration of a load and a hold on loads.
"""

from __future__ import annotations

import json
import lzma
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from waldur_sim.loaders.data import EESSI, SPACK

EESSI_MAIN = "eessi_api_metadata_software.json"
#: upstream's `_fetch_extensions_data`: the extension files it asks for, in order.
EXTENSION_TYPES = ("python", "r", "perl", "ruby", "octave", "component")
#: upstream's defaults (constance `SOFTWARE_CATALOG_EESSI_API_URL`, `…_SPACK_DATA_URL`).
EESSI_URL = "https://www.eessi.io/api_data/data/"
SPACK_URL = "https://raw.githubusercontent.com/spack/packages.spack.io/refs/heads/gh-pages/data/repology.json"
LOADERS = (EESSI, SPACK)
_DATA = Path(__file__).resolve().parents[2] / "data"
DEFAULT_EESSI_SOURCE = _DATA / "eessi" / "api_format"
DEFAULT_SPACK_SOURCE = _DATA / "spack" / "repology.json.xz"


class SourceError(Exception):
    """A source cannot be read; the text is what upstream's loader would say after
    "Failed to fetch EESSI data: " (an unreachable source) or "Invalid JSON in … data: "."""

    def __init__(self, message: str, *, invalid_json: bool = False) -> None:
        super().__init__(message)
        self.invalid_json = invalid_json


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """Everything about the sources and the loads that a test may change at runtime."""

    eessi_source: Path = DEFAULT_EESSI_SOURCE
    spack_source: Path = DEFAULT_SPACK_SOURCE
    eessi_url: str = EESSI_URL
    spack_url: str = SPACK_URL
    unreachable: frozenset[str] = frozenset()  # loader names whose source cannot be reached
    drop: dict[str, frozenset[str]] = field(default_factory=dict)  # packages hidden per loader
    load_seconds: float = 2.0  # how long a load takes before it commits; 0: in the request
    hold: bool = False  # loads wait (after their first step) until released

    def public(self) -> dict[str, Any]:
        """The configuration as `/api/_sim/loaders/` shows it."""
        return {
            "eessi_source": str(self.eessi_source),
            "spack_source": str(self.spack_source),
            "eessi_url": self.eessi_url,
            "spack_url": self.spack_url,
            "fail": sorted(self.unreachable),
            "drop": {name: sorted(names) for name, names in sorted(self.drop.items()) if names},
            "load_seconds": self.load_seconds,
            "hold": self.hold,
        }


class Sources:
    """The current `SourceConfig` (swapped atomically) and the files it names."""

    def __init__(self, config: SourceConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int, int], Any] = {}

    @property
    def config(self) -> SourceConfig:
        return self._config

    def configure(self, **changes: Any) -> SourceConfig:
        with self._lock:
            self._config = replace(self._config, **changes)
            return self._config

    # -- reading ---------------------------------------------------------------------------------

    def eessi(self) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The main EESSI file and the extension files found next to it (by type)."""
        config = self._config
        main_url = f"{config.eessi_url.rstrip('/')}/{EESSI_MAIN}"
        self._reachable(EESSI, main_url)
        source = config.eessi_source
        main = _find(source / EESSI_MAIN) if source.is_dir() else source
        data = self._read(main, main_url)
        extensions = {}
        folder = source if source.is_dir() else source.parent
        for ext_type in EXTENSION_TYPES:
            path = _find(folder / f"eessi_api_metadata_ext-{ext_type}.json")
            if path.exists():  # upstream skips an extension file it cannot fetch
                extensions[ext_type] = self._read(path, main_url)
        dropped = config.drop.get(EESSI)
        extensions = {kind: _without(ext, "software", dropped) for kind, ext in extensions.items()}
        return _without(data, "software", dropped), extensions

    def spack(self) -> dict[str, Any]:
        config = self._config
        self._reachable(SPACK, config.spack_url)
        data = self._read(_find(config.spack_source), config.spack_url)
        return _without(data, "packages", config.drop.get(SPACK))

    def _reachable(self, loader: str, url: str) -> None:
        if loader in self._config.unreachable:
            raise SourceError(connection_refused(url))

    def _read(self, path: Path, url: str) -> Any:
        try:
            stat = path.stat()
        except OSError as exc:  # a misconfigured sim: say which file
            raise SourceError(f"{url}: cannot read {path}: {exc.strerror}") from None
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        try:
            raw = lzma.decompress(path.read_bytes()) if path.suffix == ".xz" else path.read_bytes()
            data = json.loads(raw)
        except (OSError, lzma.LZMAError) as exc:
            raise SourceError(f"{url}: cannot read {path}: {exc}") from None
        except ValueError as exc:
            raise SourceError(str(exc), invalid_json=True) from None
        with self._lock:  # the newest parse of each file
            self._cache = {k: v for k, v in self._cache.items() if k[0] != key[0]} | {key: data}
        return data


def _find(path: Path) -> Path:
    """`path`, or its `.xz` sibling when only that exists."""
    compressed = path.with_name(path.name + ".xz")
    return compressed if not path.exists() and compressed.exists() else path


def _without(data: Any, key: str, names: frozenset[str] | None) -> Any:
    """`data` with the packages `names` removed from `data[key]` (a copy; the cache stays)."""
    if not names or not isinstance(data, dict) or not isinstance(data.get(key), dict):
        return data
    return data | {key: {k: v for k, v in data[key].items() if k not in names}}


def connection_refused(url: str) -> str:
    """What `requests` says when nothing listens at `url` (upstream's recorded failure text)."""
    parts = urlsplit(url)
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    pool = "HTTPSConnectionPool" if https else "HTTPConnectionPool"
    connection = "HTTPSConnection" if https else "HTTPConnection"
    return (
        f"{pool}(host='{parts.hostname}', port={port}): Max retries exceeded with url: "
        f"{parts.path or '/'} (Caused by NewConnectionError('<urllib3.connection.{connection} "
        "object at 0x7f3a5c1d2e50>: Failed to establish a new connection: "
        "[Errno 111] Connection refused'))"
    )
