"""Saved plans: `reconcile plan --out plan.json`, then `reconcile apply plan.json`.

A saved plan is the reviewed plan plus the fingerprints that tell whether it still holds:

- the sha256 of every desired-state file it was made from (and the ``-f`` arguments, so a
  file added to a directory is noticed too);
- the API URL it was made against (without credentials; the file never holds a token);
- for every change, the state of the object it touches as observed then: ``"absent"`` for a
  create (plus the uuid of the live parent it goes under), the uuid and every field for an
  update or delete (plus how many objects a delete takes with it).

`reconcile apply plan.json` re-reads the files and the server, recomputes the plan, and
refuses (exit 4, naming every difference) unless the recomputed plan is exactly the saved one
(`savedapply`): an edited plan file can neither add, widen nor change a change.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.core.errors import ConfigError
from reconciler.core.model import DesiredState, Key, Kind, key_json, key_names
from reconciler.core.plan import Action, Change, FieldChange, Plan
from reconciler.core.urls import public_url, uuid_of

FORMAT = "waldur-catalog-reconciler saved plan"
FORMAT_VERSION = "1"
ABSENT = "absent"


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def plain(value: Any) -> Any:
    """`value` as it reads back from JSON (tuples become lists, mappings dicts)."""
    return json.loads(json.dumps(value, default=str))


def _observed(change: Change) -> Any:
    if change.action is Action.CREATE or (change.action is Action.LOAD and change.uuid is None):
        return ABSENT
    return {"uuid": change.uuid, "fields": plain(change.before)}


def change_document(change: Change) -> dict[str, Any]:
    item: dict[str, Any] = {
        "action": change.action.value,
        "kind": change.kind.label,
        "key": key_json(change.key),
        "observed": _observed(change),
    }
    if change.after is not None:
        item["after"] = plain(change.after)
    if change.action is Action.CREATE:
        item["parent_uuid"] = uuid_of(change.parent_url) if change.parent_url else None
    if change.fields:
        item["fields"] = [
            {"name": f.name, "old": plain(f.old), "new": plain(f.new)} for f in change.fields
        ]
    if change.action is Action.DELETE:
        item["cascade"] = change.cascade
    if change.action is Action.LOAD:
        item["reason"] = change.reason
        item["running"] = change.running
    return item


def to_document(
    plan: Plan, desired: DesiredState, inputs: Sequence[Path], api_url: str
) -> dict[str, Any]:
    """The saved-plan document (plain JSON data) for `plan`."""
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "api_url": public_url(api_url),
        "api_dialect": plan.dialect,
        "inputs": [str(p) for p in inputs],
        "files": [{"path": s, "sha256": file_digest(Path(s))} for s in desired.sources],
        "summary": plan.summary(),
        "changes": [change_document(c) for c in plan.changes],
    }


def dumps(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


@dataclass(frozen=True)
class SavedChange:
    """One change as saved, with what its object looked like when the plan was made."""

    change: Change
    observed: Any  # ABSENT, or {"uuid": …, "fields": {…}}
    parent_uuid: str | None = None


@dataclass(frozen=True)
class SavedPlan:
    path: Path
    api_url: str
    dialect: str
    inputs: tuple[Path, ...]
    files: tuple[tuple[str, str], ...]  # (path, sha256)
    changes: tuple[SavedChange, ...]
    environment: str = ""  # the project file's environment it was made for ("" for none)
    values: dict[str, str] | None = None  # that environment's values
    documents: tuple[dict[str, Any], ...] = ()  # the changes as the file holds them


def read(path: Path) -> SavedPlan:
    """Parse a saved plan; `ConfigError` naming what is wrong with it."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the saved plan: {exc}") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        doc = None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ConfigError(
            f"{path} is not a saved plan (those come from `reconcile plan --out FILE`); "
            f"to apply desired-state files, use `reconcile apply -f {path}`"
        )
    if doc.get("format_version") != FORMAT_VERSION:
        raise ConfigError(
            f"{path}: saved plan format {doc.get('format_version')!r} is not supported "
            f"(this reconciler reads {FORMAT_VERSION!r}); plan again"
        )
    try:
        return SavedPlan(
            path=path,
            api_url=str(doc["api_url"]),
            dialect=str(doc["api_dialect"]),
            inputs=tuple(Path(p) for p in doc["inputs"]),
            files=tuple((str(f["path"]), str(f["sha256"])) for f in doc["files"]),
            changes=tuple(_saved_change(item) for item in doc["changes"]),
            environment=str(doc.get("environment") or ""),
            values=_values(doc.get("values")),
            documents=tuple(dict(item) for item in doc["changes"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: the saved plan is damaged ({type(exc).__name__}: {exc})"
        ) from None


def _values(data: Any) -> dict[str, str] | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise TypeError("values is not a mapping")
    return {str(k): str(v) for k, v in data.items()}


def _key(kind: Kind, data: Mapping[str, Any]) -> Key:
    return Key(kind, tuple(str(data[name]) for name in key_names(kind)))


def _saved_change(item: Mapping[str, Any]) -> SavedChange:
    kind = Kind[str(item["kind"]).upper()]
    action = Action(item["action"])
    observed = item["observed"]
    if action is not Action.LOAD and (action is Action.CREATE) != (observed == ABSENT):
        raise ValueError(f"a {action.value} whose object was observed as {observed!r}")
    fields = tuple(FieldChange(f["name"], f["old"], f["new"]) for f in item.get("fields", []))
    change = Change(
        action,
        _key(kind, item["key"]),
        before=None if observed == ABSENT else dict(observed["fields"]),
        after=item.get("after"),
        fields=fields,
        uuid=None if observed == ABSENT else str(observed["uuid"]),
        cascade=int(item.get("cascade", 0)),
        reason=str(item.get("reason", "")),
        running=bool(item.get("running", False)),
    )
    return SavedChange(change, observed, item.get("parent_uuid"))
