"""Catalogs that Waldur's own loaders fill: their load state, the loads a plan makes, and the
test of a load (the file's expectations).

Pure: the catalog row's fields in, values out. Upstream has no task id; a load shows only on
the catalog row (`waldur-api.md` D.2):

- loaded ⇔ ``last_successful_update`` ≥ ``last_update_attempt`` and ``update_errors`` empty;
- failed ⇔ ``update_errors`` set and ``last_successful_update`` older than the attempt (or none);
- loading ⇔ an attempt newer than the last success and no error text;
- never loaded ⇔ neither timestamp.

A retry after a failure keeps the old error text until it succeeds, so while it runs it looks
failed; a waiter that sent the load tells them apart by the attempt time and the error text
moving (`settled`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.core.model import LOADERS, DesiredState, Expectations, Key, ObservedState
from reconciler.core.redact import redact


class LoadPhase(StrEnum):
    NEVER = "never loaded"
    LOADING = "loading"
    OK = "ok"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class LoadState:
    """The load fields of one catalog row."""

    uuid: str = ""
    url: str = ""
    attempt: str | None = None  # last_update_attempt
    success: str | None = None  # last_successful_update
    errors: str = ""  # update_errors
    packages: int = 0
    versions: int = 0
    targets: int = 0

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> LoadState:
        return cls(
            uuid=str(row.get("uuid") or ""),
            url=str(row.get("url") or ""),
            attempt=row.get("last_update_attempt") or None,
            success=row.get("last_successful_update") or None,
            errors=str(row.get("update_errors") or ""),
            packages=int(row.get("package_count") or 0),
            versions=int(row.get("version_count") or 0),
            targets=int(row.get("target_count") or 0),
        )

    def row(self) -> dict[str, Any]:
        """The row's fields this was read from (what a load change shows as `before`)."""
        return {
            "uuid": self.uuid,
            "url": self.url,
            "last_update_attempt": self.attempt,
            "last_successful_update": self.success,
            "update_errors": self.errors,
            "package_count": self.packages,
            "version_count": self.versions,
            "target_count": self.targets,
        }

    @property
    def phase(self) -> LoadPhase:
        attempt, success = parse_time(self.attempt), parse_time(self.success)
        if attempt is None and success is None:
            return LoadPhase.FAILED if self.errors else LoadPhase.NEVER
        if success is not None and (attempt is None or success >= attempt) and not self.errors:
            return LoadPhase.OK
        return LoadPhase.FAILED if self.errors else LoadPhase.LOADING

    def settled(self, before: LoadState | None) -> LoadPhase:
        """The phase of a load sent (or found running) after `before` was read (None: the row
        is new). LOADING until the row moves: a success, or an error text that was not there.
        A retry that fails again with the very same text stays LOADING (upstream shows no
        difference) until the waiter's time is up."""
        phase = self.phase
        if before is None:
            return LoadPhase.LOADING if phase is LoadPhase.NEVER else phase
        if before.phase is not LoadPhase.LOADING and (self.attempt, self.success) == (
            before.attempt,
            before.success,
        ):
            return LoadPhase.LOADING  # the worker has not started yet
        if phase is LoadPhase.FAILED and self.errors == before.errors:
            return LoadPhase.LOADING
        return LoadPhase.LOADING if phase is LoadPhase.NEVER else phase

    def counts(self) -> str:
        return (
            f"{self.packages:,} package{'s' if self.packages != 1 else ''}, "
            f"{self.versions:,} version{'s' if self.versions != 1 else ''}, "
            f"{self.targets:,} target{'s' if self.targets != 1 else ''}"
        )


MAX_TEXT = 600


def clean(text: str) -> str:
    """A server's text as it may be shown: one line, no control characters (escaped), not
    too long, and without any secret in force (the redactor, in every form it knows) should
    the server echo one: masked before it is cut, so no half of a token survives the cut."""
    text = redact(text)
    text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in text.replace("\n", " "))
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def show_time(text: str | None) -> str:
    """`2026-12-06 03:00 UTC` (as people read it), or "never"."""
    value = parse_time(text)
    if value is None:
        return "never"
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def show_duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def loader_label(name: str) -> str:
    return LOADERS[name][0]


def header(key: Key, loader: str, state: LoadState | None) -> str:
    """One line per loader catalog for the plan's head: what is there."""
    label = f"{key} is filled by Waldur's {loader_label(loader)} loader"
    if state is None:
        return f"{label}: not on the server yet"
    phase = state.phase
    last = show_time(state.success)
    if phase is LoadPhase.FAILED:
        tail = f"last load attempt {show_time(state.attempt)} failed: {clean(state.errors)}"
    elif phase is LoadPhase.LOADING:
        tail = f"loading since {show_time(state.attempt)}"
    elif phase is LoadPhase.NEVER:
        tail = "never loaded"
    else:
        tail = f"last load {last}, ok"
    return f"{label}: {state.counts()}; {tail}"


def load_reason(state: LoadState | None, refresh: float | None, now: str) -> str:
    """Why the catalog must be loaded ("" when it need not be)."""
    if state is None:
        return "new catalog: create the row at its declared version, then load it"
    phase = state.phase
    if phase is LoadPhase.NEVER:
        return "never loaded"
    if phase is LoadPhase.FAILED:
        return f"the last load failed ({clean(state.errors)})"
    if phase is LoadPhase.LOADING:
        return f"a load is running (since {show_time(state.attempt)}): wait for it"
    success, clock = parse_time(state.success), parse_time(now)
    if refresh is not None and success is not None and clock is not None:
        age = (clock - success).total_seconds()
        if age > refresh:
            return (
                f"the last load ({show_time(state.success)}) is older than refresh: "
                f"{show_duration(refresh)}"
            )
    return ""


def sync_note(key: Key, state: LoadState) -> str:
    """What a load of a catalog that holds something may delete."""
    return (
        f"the load of {key} syncs it with the {key.parts[0]} source: packages and versions no "
        f"longer in the source are deleted by the server (it holds {state.counts()} now; "
        "the source cannot be seen from here, so the plan cannot count them in advance)"
    )


def gaps(
    expect: Expectations, packages: int, contents: Mapping[str, frozenset[str]] | None
) -> list[str]:
    """The expectations a loaded catalog does not meet, one line each (empty: all met)."""
    found: list[str] = []
    if packages < expect.min_packages:
        found.append(f"{packages:,} packages, at least {expect.min_packages:,} expected")
    if contents is None:
        return found
    for name in expect.packages:
        archs = contents.get(name)
        if archs is None:
            found.append(f"package {name} is missing")
            continue
        missing = [arch for arch in expect.architectures if arch not in archs]
        if missing:
            found.append(f"package {name} has no build for {', '.join(missing)}")
    return found


def expectation_gaps(desired: DesiredState, observed: ObservedState) -> dict[Key, list[str]]:
    """Per loaded loader catalog (not loading, not failed), the expectations it misses."""
    found: dict[Key, list[str]] = {}
    for key, loader in desired.loaders().items():
        state = observed.loads.get(key)
        if state is None or state.phase is not LoadPhase.OK:
            continue
        missing = gaps(loader.expect, state.packages, observed.loader_contents.get(key))
        if missing:
            found[key] = missing
    return found
