"""The background worker: upstream's Celery tasks `import_software_catalog` and
`update_single_software_catalog`, each load on its own thread.

Import (`import_catalog`): the version is the configured one (`--eessi-version`,
`--spack-version`; upstream's `SOFTWARE_CATALOG_*_VERSION`) or the detected one ("unknown" /
"latest" when the source cannot be read); the row is created at once and `last_update_attempt`
set; the load follows without `sync`. Update (`update_catalog`): `last_update_attempt` is set and
the row is loaded at its own version with `sync`.

A load takes `load_seconds` (the time upstream spends downloading and parsing) before its one
write transaction; with `hold` on, it waits for a release first. `load_seconds = 0` without a
hold runs the task inside the request, before the 202, as the recorded Celery-eager build did.
Success: `last_successful_update` = now, `update_errors` = "". Failure: `update_errors` =
"Catalog import failed: …" / "Catalog update failed: …" (upstream's texts), everything else as
it was — so the text of an earlier failure stays on the row while a retry runs.
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from waldur_sim.loaders import eessi, spack
from waldur_sim.loaders.data import CATALOG_TYPES, EESSI, SPACK, CatalogData
from waldur_sim.loaders.sources import SourceError, Sources
from waldur_sim.loaders.writer import write
from waldur_sim.store import Store, StoreError

IMPORT = "import"
UPDATE = "update"
_HISTORY = 50


class LoadError(Exception):
    """upstream's `CatalogLoadError` ("Catalog loading failed: …")."""


@dataclass(frozen=True, slots=True)
class Job:
    kind: str  # IMPORT or UPDATE
    name: str  # the loader: "EESSI" or "Spack"
    catalog_uuid: str = ""  # UPDATE: the catalog to load


class Worker:
    def __init__(
        self,
        store: Store,
        sources: Sources,
        versions: dict[str, str] | None = None,
    ) -> None:
        self.store = store
        self.sources = sources
        self.versions = dict(versions or {})  # configured import versions by loader name
        self.stopping = threading.Event()
        self._released = threading.Condition()
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._history: deque[dict[str, Any]] = deque(maxlen=_HISTORY)

    # -- what the actions and the control endpoint use -------------------------------------------

    def submit(self, job: Job) -> None:
        config = self.sources.config
        with self._lock:
            self._counts["started"] += 1
            self._counts["running"] += 1
        if config.load_seconds <= 0 and not config.hold:
            self._run(job)  # Celery eager: the task runs before the view answers
            return
        threading.Thread(target=self._run, args=(job,), name="waldur-sim-load", daemon=True).start()

    def release(self) -> None:
        """Wake loads held back (call after turning `hold` off or changing `load_seconds`)."""
        with self._released:
            self._released.notify_all()

    def stop(self) -> None:
        self.stopping.set()
        self.release()

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            names = ("started", "running", "succeeded", "failed")
            counts = {name: self._counts[name] for name in names}
            return {"loads": counts, "history": list(self._history)}

    # -- the tasks --------------------------------------------------------------------------------

    def _run(self, job: Job) -> None:
        outcome: dict[str, Any] = {"kind": job.kind, "name": job.name}
        try:
            outcome |= self._import(job) if job.kind == IMPORT else self._update(job)
        except StoreError:  # the server is stopping
            outcome["status"] = "abandoned"
        except Exception as exc:  # never let a task take the worker down; say what happened
            print(f"waldur-sim: {job.kind} of {job.name} failed: {exc!r}", file=sys.stderr)
            outcome["status"] = "abandoned"
        with self._lock:
            self._counts["running"] -= 1
            status = outcome.get("status")
            if status in ("succeeded", "failed"):
                self._counts[status] += 1
            self._history.append(outcome)

    def _import(self, job: Job) -> dict[str, Any]:
        version = self.versions.get(job.name) or self._detect_for_import(job.name)
        catalog_type = CATALOG_TYPES[job.name]
        with self.store.writing() as conn:
            created = self.store.stamp()
            attempt = self.store.stamp()
            row_uuid = uuid.uuid4().hex
            conn.execute(
                "INSERT INTO catalog (uuid, created, modified, name, version, catalog_type, "
                "source_url, description, metadata, auto_update_enabled, update_errors, "
                "last_update_attempt) VALUES (?, ?, ?, ?, ?, ?, '', '', '{}', 1, '', ?)",
                (row_uuid, created, attempt, job.name, version, catalog_type, attempt),
            )
        return self._load(job, row_uuid, version, sync=False, failure="Catalog import failed")

    def _update(self, job: Job) -> dict[str, Any]:
        with self.store.writing() as conn:
            row = conn.execute(
                "SELECT version FROM catalog WHERE uuid = ?", (job.catalog_uuid,)
            ).fetchone()
            if row is None:  # deleted between the 202 and the task
                return {"status": "abandoned", "catalog_uuid": job.catalog_uuid}
            attempt = self.store.stamp()
            conn.execute(
                "UPDATE catalog SET last_update_attempt = ?, modified = ? WHERE uuid = ?",
                (attempt, attempt, job.catalog_uuid),
            )
        version = str(row["version"])
        return self._load(
            job, job.catalog_uuid, version, sync=True, failure="Catalog update failed"
        )

    def _load(
        self, job: Job, row_uuid: str, version: str, *, sync: bool, failure: str
    ) -> dict[str, Any]:
        outcome: dict[str, Any] = {"catalog_uuid": row_uuid, "version": version}
        self._wait()
        if self.stopping.is_set():  # the server stops: the load never happened
            return outcome | {"status": "abandoned"}
        try:
            data = self._fetch(job.name, version)
            with self.store.writing() as conn:
                row = conn.execute("SELECT id FROM catalog WHERE uuid = ?", (row_uuid,)).fetchone()
                if row is None:
                    return outcome | {"status": "abandoned"}
                try:
                    counts = write(conn, self.store.stamp, row["id"], data, sync=sync)
                except Exception as exc:
                    raise LoadError(f"Catalog loading failed: {exc}") from exc
                done = self.store.stamp()
                conn.execute(
                    "UPDATE catalog SET last_successful_update = ?, update_errors = '', "
                    "modified = ? WHERE id = ?",
                    (done, done, row["id"]),
                )
        except LoadError as exc:
            self._fail(row_uuid, f"{failure}: {exc}")
            return outcome | {"status": "failed", "error": f"{failure}: {exc}"}
        return outcome | {"status": "succeeded", "counts": asdict(counts)}

    def _fail(self, row_uuid: str, message: str) -> None:
        with self.store.writing() as conn:
            stamp = self.store.stamp()
            conn.execute(
                "UPDATE catalog SET update_errors = ?, modified = ? WHERE uuid = ?",
                (message, stamp, row_uuid),
            )

    def _fetch(self, name: str, version: str) -> CatalogData:
        """upstream's `fetch_catalog_data`, its errors wrapped as `load_catalog` wraps them."""
        build: Callable[[Sources, str], CatalogData] = eessi.build if name == EESSI else spack.build
        try:
            return build(self.sources, version)
        except SourceError as exc:
            reason = "Invalid JSON in" if exc.invalid_json else "Failed to fetch"
            message = f"{reason} {name} data: {exc}"
        except Exception as exc:  # a source in the right format but with the wrong shapes
            message = f"Error processing {name} data: {exc}"
        raise LoadError(f"Catalog loading failed: {message}")

    def _detect_for_import(self, name: str) -> str:
        if name == EESSI:
            return eessi.detect(self.sources) or "unknown"
        return spack.detect(self.sources) or "latest"

    def _wait(self) -> None:
        """The time a load takes before it writes (`load_seconds`, re-read whenever the
        configuration changes); a held load waits for its release."""
        started = time.monotonic()
        with self._released:
            while not self.stopping.is_set():
                config = self.sources.config
                left = config.load_seconds - (time.monotonic() - started)
                if not config.hold and left <= 0:
                    return
                self._released.wait(None if config.hold else left)


def detected(sources: Sources) -> dict[str, str | None]:
    """What `discover` reports as the latest version of each loader (None: unreadable)."""
    return {EESSI: eessi.detect(sources), SPACK: spack.detect(sources)}
