"""upstream's `SpackCatalogLoader`: one `repology.json` → one catalog.

- The version is a date label: the date part of `last_update` as `YYYY.MM.DD`, "latest" when
  the source cannot be read. A load always reads the current file, whatever the catalog's version.
- Package: description = `summary`, homepage = the first of `homepages`, categories, licenses,
  maintainers. Version: one per `version` entry (a single object counts as a list of one).
- Targets: `build_variant`/`default` (location = the first download), plus `platform`/`windows`,
  `external`/`system`, `build_system`/`build-tool` when the categories say so.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from waldur_sim.loaders.data import (
    SOURCE_PACKAGE,
    SPACK,
    CatalogData,
    PackageData,
    TargetData,
    VersionData,
)
from waldur_sim.loaders.sources import Sources

DESCRIPTION = "Spack package manager catalog ({count} packages)"
#: extra targets by category, as upstream makes them (type, name, metadata)
_CATEGORY_TARGETS = (
    ("windows", "platform", "windows", {"supported": True}),
    ("detectable", "external", "system", {"detectable": True}),
    ("build-tools", "build_system", "build-tool", {"category": "build-tools"}),
)


def version_label(data: Any) -> str:
    last_update = data.get("last_update") if isinstance(data, dict) else None
    if not isinstance(last_update, str):
        last_update = datetime.now().strftime("%Y-%m-%d %H:%M:%S")
    return last_update.split()[0].replace("-", ".")


def detect(sources: Sources) -> str | None:
    """The version label of the source, None when it cannot be read (discover's null)."""
    try:
        return version_label(sources.spack())
    except Exception:  # upstream: any exception → a logged warning
        return None


def build(sources: Sources, version: str) -> CatalogData:
    data = sources.spack()
    count = data.get("num_packages", 0)
    catalog = CatalogData(
        name=SPACK,
        version=version,
        catalog_type=SOURCE_PACKAGE,
        source_url=sources.config.spack_url,
        description=DESCRIPTION.format(count=count),
        metadata={
            "last_update": data.get("last_update", datetime.now().isoformat()),
            "num_packages": count,
            "data_source": "spack/packages.spack.io",
            "format": "repology.json",
        },
    )
    for name, info in (data.get("packages") or {}).items():
        catalog.packages[name] = _package(name, info)
    return catalog


def _package(name: str, info: dict[str, Any]) -> PackageData:
    homepages = info.get("homepages") or [""]
    package = PackageData(
        name=name,
        description=info.get("summary", ""),
        homepage=homepages[0],
        categories=list(info.get("categories") or []),
        licenses=list(info.get("licenses") or []),
        maintainers=list(info.get("maintainers") or []),
    )
    entries = info.get("version", [])
    for entry in [entries] if isinstance(entries, dict) else entries:
        number = entry.get("version", "unknown")
        package.versions[number] = _version(number, entry, info)
    return package


def _version(number: str, entry: dict[str, Any], info: dict[str, Any]) -> VersionData:
    downloads = entry.get("downloads", [])
    dependencies = info.get("dependencies", [])
    categories = info.get("categories", [])
    default = TargetData(
        target_type="build_variant",
        target_name="default",
        location=downloads[0] if downloads else "",
        metadata={
            "downloads": downloads,
            "dependencies": dependencies,
            "patches": info.get("patches", []),
            "categories": categories,
            "version_info": entry,
        },
    )
    targets = [default]
    for category, kind, name, metadata in _CATEGORY_TARGETS:
        if category in categories:
            targets.append(TargetData(target_type=kind, target_name=name, metadata=metadata))
    return VersionData(
        version=number,
        dependencies=dependencies,
        metadata={
            "downloads": downloads,
            "branch": entry.get("branch", ""),
            "dependencies": dependencies,
            "patches": info.get("patches", []),
            "aliases": info.get("alias", []),
            "package_downloads": info.get("downloads", []),
        },
        targets=targets,
    )
