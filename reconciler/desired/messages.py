"""Pydantic's validation errors as readable ``FILE:LINE: FIELD.PATH: message`` lines.

The messages say what was found and what to write instead (``YAML read 2023.06 as a number;
quote it: "2023.06"``, the allowed keys with a close match for an unknown one); the line comes
from the YAML reader's position table (`yamlsrc.Document`).
"""

from __future__ import annotations

import datetime as dt
import difflib
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from reconciler.desired.schema import CHILD_MODELS, CatalogSpec, FileShape, Spec
from reconciler.desired.yamlsrc import Document, FieldPath


def explain(exc: ValidationError, doc: Document, prefix: FieldPath, data: Any) -> list[str]:
    """Turn pydantic's errors for `data` (found at `prefix` in `doc`) into readable
    ``FILE:LINE: FIELD.PATH: message`` lines."""
    problems = []
    for error in exc.errors(include_url=False):
        path = (*prefix, *_data_path(error["loc"], data))
        model = _model_at(FileShape if not prefix else CatalogSpec, error["loc"])
        problems.append(doc.problem(path, _message(error, doc.raw.get(path), model)))
    return problems


def _data_path(loc: tuple[str | int, ...], data: Any) -> FieldPath:
    """The part of pydantic's `loc` that names data (its type tags such as 'list' dropped)."""
    path: list[str | int] = []
    node = data
    for index, part in enumerate(loc):
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_list or (isinstance(node, dict) and part in node):
            node = node[part]
        elif not (index == len(loc) - 1 and isinstance(node, dict)):  # a missing key stays
            continue
        path.append(part)
    return tuple(path)


def _model_at(model: type[Spec] | None, loc: tuple[str | int, ...]) -> type[Spec] | None:
    """The model whose field the last part of `loc` names (for listing allowed keys)."""
    for part in loc[:-1]:
        if isinstance(part, str):
            model = CHILD_MODELS.get(model, {}).get(part) if model else None
    return model


def _message(error: ErrorDetails, raw: str | None, model: type[Spec] | None) -> str:
    kind, value, ctx = error["type"], error["input"], error.get("ctx") or {}
    if kind == "missing":
        return "required field is missing"
    if kind == "extra_forbidden":
        allowed = list(model.model_fields) if model else []
        hint = difflib.get_close_matches(str(error["loc"][-1]), allowed, n=1)
        guess = f"did you mean {hint[0]!r}? " if hint else ""
        return f"unknown field; {guess}allowed here: {', '.join(allowed)}"
    if kind == "string_type":
        return "must be a string" + _read_as(value, raw)
    if kind == "bool_type":
        return "must be true or false" + _read_as(value, raw)
    if kind == "list_type":
        return f"must be a list, got {_describe(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping (field: value), got {_describe(value)}"
    if kind == "literal_error":
        return f"must be one of {ctx['expected']}; got {_describe(value)}"
    if kind == "string_too_long":
        length = len(value.strip()) if isinstance(value, str) else "?"
        return f"is {length} characters long; at most {ctx['max_length']} allowed"
    if kind == "string_too_short":
        return "must not be empty" if ctx.get("min_length") == 1 else error["msg"]
    if kind == "invalid-json-value":
        return "metadata holds JSON values only (text, numbers, true/false, null, lists, mappings)"
    if kind in ("value_error", "assertion_error") and "error" in ctx:
        return str(ctx["error"])
    return str(error["msg"])


def _read_as(value: Any, raw: str | None) -> str:
    """`— YAML read 2023.06 as a number; quote it: "2023.06"`, or what was found instead."""
    if raw is not None and not isinstance(value, str | list | dict):
        kind = _describe(value).split(" (")[0]
        if value is None:
            return " — the value is empty (null)"
        return f' — YAML read {raw} as {kind}; quote it: "{raw}"'
    return f", got {_describe(value)}"


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, dt.date):
        return f"a date ({value})"
    if isinstance(value, str):
        return f"the text {value[:60]!r}"
    return "a list" if isinstance(value, list) else "a mapping"
