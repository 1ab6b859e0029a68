"""upstream's `EESSICatalogLoader`: the EESSI API format → one catalog version.

- The latest version is the largest key of `architectures_map` (string order), "unknown" when
  the map is empty or the source cannot be read (upstream's `_detect_latest_version`).
- Only version entries whose first required module is `EESSI/<catalog version>` are kept (old
  string form or new dict form); a package with none is left out.
- A version's key is its module version, else its version; its metadata is upstream's selection
  of the entry's fields.
- One `cpu_architecture` target per `cpu_arch`: name = the part before the first "/", subtype =
  the rest (or "generic"), location under `/cvmfs/software.eessi.io/versions/<ver>/…`,
  metadata `{gpu_arch, full_arch}`, GPU architectures = the sorted union of the entry's.
- Extension files add packages flagged `is_extension` (upstream keys them `<type>:<name>`).
"""

from __future__ import annotations

from typing import Any

from waldur_sim.loaders.data import (
    BINARY_RUNTIME,
    EESSI,
    CatalogData,
    PackageData,
    TargetData,
    VersionData,
)
from waldur_sim.loaders.sources import Sources

LOCATION = "/cvmfs/software.eessi.io/versions/{version}/software/linux/{arch}"
DESCRIPTION = "European Environment for Scientific Software Installations {version}"


def latest_version(data: Any) -> str:
    versions = list(data.get("architectures_map") or {}) if isinstance(data, dict) else []
    return max(versions) if versions else "unknown"


def detect(sources: Sources) -> str | None:
    """The latest version in the source, None when it cannot be read (discover's null)."""
    try:
        main, _extensions = sources.eessi()
    except Exception:  # upstream: any exception → a logged warning
        return None
    return latest_version(main)


def build(sources: Sources, version: str) -> CatalogData:
    """The catalog data of EESSI `version` (raises SourceError, or anything a bad file makes)."""
    main, extensions = sources.eessi()
    base = sources.config.eessi_url.rstrip("/")
    catalog = CatalogData(
        name=EESSI,
        version=version,
        catalog_type=BINARY_RUNTIME,
        source_url=base,
        description=DESCRIPTION.format(version=version),
        metadata={
            "timestamp": main.get("timestamp", ""),
            "architectures_map": main.get("architectures_map", {}),
            "gpu_architectures_map": main.get("gpu_architectures_map", {}),
            "category_details": main.get("category_details", {}),
            "api_base_url": base,
        },
    )
    for name, info in (main.get("software") or {}).items():
        package = _package(name, info, version, is_extension=False)
        if package is not None:
            catalog.packages[name] = package
    for ext_type, ext_data in extensions.items():
        for name, info in (ext_data.get("software") or {}).items():
            package = _package(name, info, version, is_extension=True)
            if package is not None:
                catalog.packages[f"{ext_type}:{name}"] = package
    return catalog


def eessi_version_of(entry: dict[str, Any]) -> str | None:
    """The EESSI version of an entry's first required module (upstream's `_get_eessi_version`)."""
    modules = entry.get("required_modules") or []
    first = modules[0] if modules else None
    if isinstance(first, str) and first.startswith("EESSI/"):
        return first.split("/", 1)[1]
    if isinstance(first, dict) and first.get("module_name") == "EESSI":
        value = first.get("module_version")
        return value if isinstance(value, str) else None
    return None


def split_arch(full_arch: str) -> tuple[str, str]:
    family, _, subtype = full_arch.partition("/")
    return family, subtype or "generic"


def _package(
    name: str, info: dict[str, Any], version: str, *, is_extension: bool
) -> PackageData | None:
    entries = [v for v in info.get("versions") or [] if eessi_version_of(v) == version]
    if not entries:
        return None
    package = PackageData(
        name=name,
        description=info.get("description") or "",
        homepage=info.get("homepage") or "",
        is_extension=is_extension,
        categories=list(info.get("categories") or []),
        licenses=list(info.get("licenses") or []),
    )
    if is_extension:  # upstream collects the parents of all kept versions, in order
        names = ((v.get("parent_software") or {}).get("name") for v in entries)
        package.parents = list(dict.fromkeys(name for name in names if name))
    for entry in entries:
        module = entry.get("module") or {}
        key = module.get("module_version") or entry["version"]
        package.versions[key] = _version(entry, module, version)
    return package


def _version(entry: dict[str, Any], module: dict[str, Any], catalog_version: str) -> VersionData:
    required = entry.get("required_modules") or []
    metadata = {
        "versionsuffix": entry.get("versionsuffix", ""),
        "toolchain": entry.get("toolchain", {}),
        "toolchain_families_compatibility": entry.get("toolchain_families_compatibility", []),
        "module": module,
        "required_modules": required,
        "extensions": entry.get("extensions", []),
        "license": entry.get("license", []),
        "image": entry.get("image", ""),
        "categories": entry.get("categories", []),
        "identifier": entry.get("identifier", ""),
    }
    gpu_map = entry.get("gpu_arch") or {}
    gpus = sorted({arch for archs in gpu_map.values() for arch in archs})
    targets = []
    for arch in entry.get("cpu_arch") or []:
        family, subtype = split_arch(arch)
        targets.append(
            TargetData(
                target_type="cpu_architecture",
                target_name=family,
                target_subtype=subtype,
                location=LOCATION.format(version=catalog_version, arch=arch),
                metadata={"gpu_arch": gpu_map, "full_arch": arch},
                gpu_architectures=gpus,
            )
        )
    return VersionData(
        version=entry["version"],
        module_version=module.get("module_version", ""),
        dependencies=required,
        metadata=metadata,
        targets=targets,
    )
