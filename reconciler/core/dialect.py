"""Target field names on the wire: the documented `legacy` dialect and Waldur ≥ 7.9.2's `current`.

The reconciler's own model of a target is (cpu_family, cpu_microarchitecture, path).

    legacy   cpu_family   cpu_microarchitecture   path
    current  target_name  target_subtype          location   (+ target_type "cpu_architecture")

`auto` decides from the targets the server returns. A server with no targets at all gives no
evidence either way; then the dialect stays `undetermined` and writes carry both sets of names:
a DRF serializer ignores fields it does not know, so the write is right on either server, and
the first answer settles the question.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

LEGACY = "legacy"
CURRENT = "current"
UNDETERMINED = "undetermined"
DIALECTS = (LEGACY, CURRENT)
CPU_TARGET_TYPE = "cpu_architecture"

_LEGACY_NAMES = {
    "cpu_family": "cpu_family",
    "cpu_microarchitecture": "cpu_microarchitecture",
    "path": "path",
}
_CURRENT_NAMES = {
    "cpu_family": "target_name",
    "cpu_microarchitecture": "target_subtype",
    "path": "location",
}


def dialect_of(target: Mapping[str, Any]) -> str | None:
    """Which dialect a target object (as the server returned it) speaks, or None if unclear."""
    if "target_name" in target or "target_subtype" in target:
        return CURRENT
    if "cpu_family" in target or "cpu_microarchitecture" in target:
        return LEGACY
    return None


def detect(targets: Iterable[Mapping[str, Any]]) -> str | None:
    """The dialect of the first target that shows one, or None when there is no evidence."""
    for target in targets:
        found = dialect_of(target)
        if found:
            return found
    return None


def target_from_wire(target: Mapping[str, Any], dialect: str | None = None) -> dict[str, Any]:
    """Read a target in either dialect into the model's names (absent fields stay absent).
    `dialect`: the target's own, when the caller has looked already (`dialect_of`)."""
    found = dialect_of(target) if dialect is None else dialect
    names = _CURRENT_NAMES if found == CURRENT else _LEGACY_NAMES
    out: dict[str, Any] = {}
    for model_name, wire_name in names.items():
        if wire_name in target:
            value = target[wire_name]
            out[model_name] = "" if value is None else value
    return out


def target_to_wire(fields: Mapping[str, Any], dialect: str) -> dict[str, Any]:
    """Write the model's target fields in `dialect` (both sets when undetermined)."""
    body: dict[str, Any] = {}
    if dialect in (LEGACY, UNDETERMINED):
        body.update({_LEGACY_NAMES[k]: v for k, v in fields.items() if k in _LEGACY_NAMES})
    if dialect in (CURRENT, UNDETERMINED):
        body.update({_CURRENT_NAMES[k]: v for k, v in fields.items() if k in _CURRENT_NAMES})
        if "cpu_family" in fields:
            body["target_type"] = CPU_TARGET_TYPE
    return body


def is_cpu_target(target: Mapping[str, Any]) -> bool:
    """Current servers also hold targets of other types (GPU, the default `architecture`); the
    reconciler manages `cpu_architecture` targets only and leaves every other one alone."""
    if dialect_of(target) != CURRENT:
        return True
    return target.get("target_type") == CPU_TARGET_TYPE
