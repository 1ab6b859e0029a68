"""The ``loader:`` form of a catalog: Waldur's own loader fills it, the file says which one,
what every load must give (``expect:``) and how often to load again (``refresh:``).

Rules beyond the schema's per-field checks, each reported ``FILE:LINE: FIELD: message``:

- the loader decides the catalog's name and type (upstream's ``update_catalog`` loads only
  (EESSI, binary_runtime) and (Spack, source_package)); a left-out ``catalog_type`` is the
  loader's;
- the loader owns the contents: no ``packages:``, ``target_defaults:``, nor the fields it sets
  on the catalog row (``description``, ``source_url``, ``metadata``); ``prune`` and
  ``allow_empty`` mean nothing there;
- ``expect:`` and ``refresh:`` need ``loader:``; ``expect.architectures`` needs
  ``expect.packages`` (the architectures every listed package must have).
"""

from __future__ import annotations

from reconciler.core.model import LOADERS, Expectations, LoaderPolicy
from reconciler.core.options import duration
from reconciler.desired.schema import CatalogSpec
from reconciler.desired.yamlsrc import Document, FieldPath

#: Catalog keys a loader catalog may not give: the loader writes them (or they mean nothing).
OWNED_BY_THE_LOADER = (
    "packages",
    "target_defaults",
    "description",
    "source_url",
    "metadata",
    "prune",
    "allow_empty",
)


def loader_policy(
    doc: Document, path: FieldPath, spec: CatalogSpec, problems: list[str]
) -> LoaderPolicy | None:
    """The catalog's loader policy (None without ``loader:``); problems appended."""
    given = spec.model_fields_set
    if spec.loader is None:
        for name in ("expect", "refresh"):
            if name in given:
                message = f"{name} is for catalogs a loader fills; add loader: eessi or spack"
                problems.append(doc.problem((*path, name), message))
        return None
    name, catalog_type = LOADERS[spec.loader]
    if spec.name != name:
        message = f"loader: {spec.loader} fills only the catalog named {name}, not {spec.name!r}"
        problems.append(doc.problem((*path, "name"), message))
    if "catalog_type" in given and spec.catalog_type != catalog_type:
        message = f"loader: {spec.loader} fills only catalog_type {catalog_type}"
        problems.append(doc.problem((*path, "catalog_type"), message))
    if spec.state == "absent":
        message = "a catalog with state: absent is deleted whole; drop loader:"
        problems.append(doc.problem((*path, "loader"), message))
    for field in OWNED_BY_THE_LOADER:
        if field in given:
            message = (
                f"the catalog is filled by Waldur's {name} loader (loader: {spec.loader}, "
                f"line {doc.line((*path, 'loader'))}), which owns its {field}; remove "
                f"{field}: (or loader:)"
            )
            problems.append(doc.problem((*path, field), message))
    expect = Expectations()
    if spec.expect is not None:
        if spec.expect.architectures and not spec.expect.packages:
            message = (
                "expect.architectures are the ones every listed package must have; "
                "list packages too"
            )
            problems.append(doc.problem((*path, "expect", "architectures"), message))
        expect = Expectations(
            packages=tuple(spec.expect.packages),
            architectures=tuple(spec.expect.architectures),
            min_packages=spec.expect.min_packages,
        )
    refresh = duration(spec.refresh) if spec.refresh is not None else None
    return LoaderPolicy(loader=spec.loader, expect=expect, refresh=refresh)
