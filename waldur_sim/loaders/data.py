"""What a loader makes of its source: one catalog's packages, versions and targets.

The shape of upstream's `catalog_loaders/base.py` (`CatalogData`, `PackageWithVersions`,
`VersionWithTargets`): packages by name, versions by their key (EESSI: the module version, else
the version; Spack: the version), targets in source order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

EESSI = "EESSI"
SPACK = "Spack"
BINARY_RUNTIME = "binary_runtime"
SOURCE_PACKAGE = "source_package"
#: upstream's `tasks.NAME_TO_CATALOG_TYPE`: the only (name, catalog_type) pairs with a loader.
CATALOG_TYPES = {EESSI: BINARY_RUNTIME, SPACK: SOURCE_PACKAGE}


@dataclass(slots=True)
class TargetData:
    target_type: str
    target_name: str
    target_subtype: str = ""
    location: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    gpu_architectures: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.target_type, self.target_name, self.target_subtype)


@dataclass(slots=True)
class VersionData:
    version: str
    module_version: str = ""
    dependencies: list[Any] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)
    targets: list[TargetData] = field(default_factory=list)


@dataclass(slots=True)
class PackageData:
    name: str
    description: str = ""
    homepage: str = ""
    is_extension: bool = False
    categories: list[str] = field(default_factory=list)
    licenses: list[str] = field(default_factory=list)
    maintainers: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)  # extensions: names of parent packages
    versions: dict[str, VersionData] = field(default_factory=dict)


@dataclass(slots=True)
class CatalogData:
    """A loaded source for one catalog version: the catalog fields a load sets, and packages."""

    name: str
    version: str
    catalog_type: str
    source_url: str
    description: str
    metadata: dict[str, Any]
    packages: dict[str, PackageData] = field(default_factory=dict)
