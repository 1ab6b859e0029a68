"""Load desired-state files into a `DesiredState`: read, validate, expand, key, merge.

The flow per file: `yamlsrc.load_yaml` (safe YAML, line table) → the top-level shape, then
each catalog validated by the pydantic models of `desired_schema` → records built in plain
Python (defaults expansion and path templates happen here, after validation, so a catalog
of 16,000 targets costs 1,200 validated versions, not 16,000 validated targets).

Rules beyond the per-field checks of the models:

- Keys: catalog (name, version, catalog_type) → package (+ name) → version (+ version,
  module_version) → target (+ cpu_family, cpu_microarchitecture). The same key declared twice,
  in one file or across files, is an error naming both places; the second one's subtree is
  skipped.
- Only fields the file gives are managed (in `Record.fields`). ``ignore_fields`` drops fields
  from the level where it is given and everything below (catalog level also goes into
  `CatalogPolicy.ignore_fields`); at package level, catalog-only fields are an error.
- ``null`` for description / source_url becomes "" and for homepage / release_date None, as
  the server stores them; an empty homepage becomes None. URLs must be URLs the server
  accepts (`fieldrules`), surrounding whitespace stripped, and trailing slashes are left to
  the diff, which compares without them.
- Targets: a version's ``targets:`` list replaces the catalog's ``target_defaults``
  (``targets: []`` means none); a version without one gets every default architecture. A
  target's path is its explicit ``path`` (literal), else ``target_defaults.path`` expanded
  for it, else unmanaged. An expanded path over 500 characters is an error.
- ``state: absent``: a record with no fields and `CatalogPolicy(absent=True)`; listing
  packages under it is an error.

Every problem of every file is collected and raised at the end as one `InputError`, each
formatted ``FILE:LINE: FIELD.PATH: message``; at most `MAX_PROBLEMS` are listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.core.errors import InputError
from reconciler.core.model import (
    LOADERS,
    VALUE_FIELDS,
    CatalogPolicy,
    DesiredState,
    Key,
    Kind,
    Record,
    catalog_key,
    split_architecture,
)
from reconciler.desired.environments import PROJECT_FILE, substitute
from reconciler.desired.files import expand
from reconciler.desired.loadersrc import loader_policy
from reconciler.desired.messages import explain
from reconciler.desired.schema import (
    CatalogSpec,
    FileShape,
    PackageSpec,
    Spec,
    TargetSpec,
    VersionSpec,
    desired_json_schema,
)
from reconciler.desired.yamlsrc import MAX_BYTES, Document, FieldPath, YamlError, load_yaml

__all__ = ["MAX_PROBLEMS", "desired_json_schema", "load_desired"]

MAX_PROBLEMS = 200
MAX_PATH = 500
_NULL_AS = {"description": "", "source_url": ""}
_EMPTY_AS_NULL = frozenset({"homepage"})
_PACKAGE_IGNORABLE = frozenset(
    VALUE_FIELDS[Kind.PACKAGE] + VALUE_FIELDS[Kind.VERSION] + VALUE_FIELDS[Kind.TARGET]
)


def load_desired(
    paths: Sequence[Path], *, max_bytes: int = MAX_BYTES, values: dict[str, str] | None = None
) -> DesiredState:
    """Read every file (a directory stands for its ``*.yaml``/``*.yml`` files, in name order,
    not recursive), merge them, and return the desired state; or raise `InputError` with
    every problem found. `values` are the selected environment's (`project.substitute`)."""
    problems: list[str] = []
    files = expand(paths, problems)
    builder = _Builder(problems)
    for path in files:
        try:
            doc = load_yaml(path, max_bytes=max_bytes)
        except YamlError as exc:
            problems.extend(exc.problems)
            continue
        problems.extend(doc.problems)
        _substitute(doc, values, problems)
        builder.add_file(doc)
    if problems:
        extra = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS] + ([f"… and {extra} more"] if extra > 0 else [])
        raise InputError(shown)
    state = builder.state
    state.sources = tuple(str(path) for path in files)
    return state


def _substitute(doc: Document, values: dict[str, str] | None, problems: list[str]) -> None:
    """``{{ values.NAME }}`` placeholders replaced by the environment's values (a file that
    cannot hold one is not walked: its tree stays as parsed)."""
    if not doc.templated:
        return
    unknown: list[tuple[FieldPath, str]] = []
    doc.data = substitute(doc.data, values or {}, unknown)
    for path, name in unknown:
        if values is None:
            message = (
                f"{{{{ values.{name} }}}} needs an environment: select one with --env NAME "
                f"(or RECONCILE_ENV) from the project file {PROJECT_FILE}"
            )
        else:
            known = ", ".join(sorted(values)) or "none"
            message = f"no value {name!r} in the environment (its values: {known})"
        problems.append(doc.problem(path, message))


def _fields(spec: Spec, kind: Kind, ignore: frozenset[str]) -> dict[str, Any]:
    """The value fields `spec` gives (the managed ones), normalised, minus the ignored."""
    given = spec.model_fields_set
    fields: dict[str, Any] = {}
    for name in VALUE_FIELDS[kind]:
        if name in given and name not in ignore:
            value = getattr(spec, name)
            if value is None:
                value = _NULL_AS.get(name)
            elif value == "" and name in _EMPTY_AS_NULL:
                value = None
            fields[name] = value
    return fields


class _Builder:
    """Turns validated catalogs into records, checking keys across all files."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        self.state = DesiredState()
        self.claimed: dict[Key, str] = {}

    def add_file(self, doc: Document) -> None:
        if not isinstance(doc.data, dict):
            found = {type(None): "is empty", list: "is a list"}.get(type(doc.data), "is one value")
            message = f"the file {found}; expected a mapping with 'catalogs:' and a list"
            self.problems.append(doc.problem((), message))
            return
        try:
            shape = FileShape.model_validate(doc.data)
        except ValidationError as exc:
            self.problems.extend(explain(exc, doc, (), doc.data))
            return
        for index, item in enumerate(shape.catalogs):
            path = ("catalogs", index)
            try:
                catalog = CatalogSpec.model_validate(item)
            except ValidationError as exc:
                found = explain(exc, doc, path, item)
                self.problems.extend(sorted(found, key=lambda text: _line_of(doc, text)))
                continue
            self._catalog(doc, path, catalog)

    def _claim(self, doc: Document, path: FieldPath, key: Key, fields: dict[str, Any]) -> bool:
        """Record `key` declared at `path`, unless it was declared before (then an error)."""
        where = doc.where(path)
        first = self.claimed.get(key)
        if first is not None:
            message = f"{key.kind.label} {key} is declared twice: first at {first}"
            self.problems.append(doc.problem(path, message))
            return False
        self.claimed[key] = where
        self.state.records[key] = Record(key, fields, source=where)
        return True

    def _catalog(self, doc: Document, path: FieldPath, spec: CatalogSpec) -> None:
        loader = loader_policy(doc, path, spec, self.problems)
        catalog_type = spec.catalog_type
        if spec.loader is not None and "catalog_type" not in spec.model_fields_set:
            catalog_type = LOADERS[spec.loader][1]
        key = catalog_key(spec.name, spec.version, catalog_type)
        ignore = frozenset(spec.ignore_fields)
        absent = spec.state == "absent"
        fields = {} if absent else _fields(spec, Kind.CATALOG, ignore)
        if not self._claim(doc, path, key, fields):
            return
        self.state.policies[key] = CatalogPolicy(
            prune=spec.prune,
            absent=absent,
            allow_empty=spec.allow_empty,
            ignore_fields=ignore,
            offerings=spec.offerings is not None,
            loader=loader,
        )
        if absent:
            for name in ("packages", "offerings"):
                if getattr(spec, name):
                    message = f"a catalog with state: absent is deleted whole; list no {name}"
                    self.problems.append(doc.problem((*path, name), message))
            return
        for index, link in enumerate(spec.offerings or ()):
            fields = {
                "enabled_cpu_family": list(link.enabled_cpu_family),
                "enabled_cpu_microarchitectures": list(link.enabled_cpu_microarchitectures),
            }
            self._claim(doc, (*path, "offerings", index), key.link(link.offering), fields)
        defaults = spec.target_defaults
        scope = _Scope(
            ignore=ignore,
            architectures=self._architectures(doc, path, spec),
            template=None if defaults is None or "path" in ignore else defaults.path,
            values={"catalog_version": spec.version},
        )
        for index, package in enumerate(spec.packages):
            self._package(doc, (*path, "packages", index), key, package, scope)

    def _architectures(
        self, doc: Document, path: FieldPath, spec: CatalogSpec
    ) -> tuple[tuple[str, str], ...]:
        if spec.target_defaults is None:
            return ()
        seen: dict[tuple[str, str], int] = {}
        for index, text in enumerate(spec.target_defaults.architectures):
            arch = split_architecture(text)
            item = (*path, "target_defaults", "architectures", index)
            if arch in seen:
                first = doc.line((*item[:-1], seen[arch]))
                message = f"architecture {text} is listed twice (first at line {first})"
                self.problems.append(doc.problem(item, message))
            seen.setdefault(arch, index)
        return tuple(seen)

    def _package(
        self, doc: Document, path: FieldPath, catalog: Key, spec: PackageSpec, scope: _Scope
    ) -> None:
        for index, name in enumerate(spec.ignore_fields):
            if name not in _PACKAGE_IGNORABLE:
                allowed = ", ".join(sorted(_PACKAGE_IGNORABLE))
                message = f"{name} is a catalog field; at package level: {allowed}"
                self.problems.append(doc.problem((*path, "ignore_fields", index), message))
        ignore = scope.ignore | frozenset(spec.ignore_fields)
        key = catalog.child(spec.name)
        if not self._claim(doc, path, key, _fields(spec, Kind.PACKAGE, ignore)):
            return
        scope = replace(
            scope,
            ignore=ignore,
            template=None if "path" in ignore else scope.template,
            values={**scope.values, "package": spec.name},
        )
        for index, version in enumerate(spec.versions):
            self._version(doc, (*path, "versions", index), key, version, scope)

    def _version(
        self, doc: Document, path: FieldPath, package: Key, spec: VersionSpec, scope: _Scope
    ) -> None:
        key = package.child(spec.version, spec.module_version)
        if not self._claim(doc, path, key, _fields(spec, Kind.VERSION, scope.ignore)):
            return
        values = {**scope.values, "version": spec.version, "module_version": spec.module_version}
        if spec.targets is None:  # the catalog's defaults: unique by construction
            where = doc.where(path)
            for family, micro in scope.architectures:
                fields = self._path(doc, path, scope.template, values, family, micro)
                target = key.child(family, micro)
                self.state.records[target] = Record(target, fields, source=where)
            return
        for index, target in enumerate(spec.targets):
            target_path = (*path, "targets", index)
            family, micro = _target_arch(target)
            if target.path is not None and "path" not in scope.ignore:
                fields = {"path": target.path}
            else:
                fields = self._path(doc, target_path, scope.template, values, family, micro)
            self._claim(doc, target_path, key.child(family, micro), fields)

    def _path(
        self,
        doc: Document,
        path: FieldPath,
        template: str | None,
        values: dict[str, str],
        family: str,
        micro: str,
    ) -> dict[str, Any]:
        """``{"path": …}`` from the template, or ``{}`` (unmanaged) without one."""
        if template is None:
            return {}
        expanded = template.format_map(
            {**values, "cpu_family": family, "cpu_microarchitecture": micro}
        )
        if len(expanded) > MAX_PATH:
            message = (
                f"the path template gives a {len(expanded)}-character path for "
                f"{family}/{micro}; at most {MAX_PATH} allowed"
            )
            self.problems.append(doc.problem(path, message))
        return {"path": expanded}


@dataclass(frozen=True, slots=True)
class _Scope:
    """What a catalog (then a package) hands down to the objects below it."""

    ignore: frozenset[str]
    architectures: tuple[tuple[str, str], ...]  # target_defaults, split
    template: str | None  # target_defaults.path, None if absent or "path" is ignored
    values: dict[str, str]  # template placeholders known so far


def _target_arch(target: TargetSpec) -> tuple[str, str]:
    """(family, microarchitecture) of a validated target: from `architecture` or the pair."""
    if target.architecture is not None:
        return split_architecture(target.architecture)
    return str(target.cpu_family), str(target.cpu_microarchitecture)


def _line_of(doc: Document, problem: str) -> int:
    """The line number of a problem formatted for `doc` (for sorting)."""
    number = problem[len(doc.name) + 1 :].split(":", 1)[0]
    return int(number) if number.isdigit() else 0
