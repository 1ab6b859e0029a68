"""The filters each kind declares, per dialect, as SQL: upstream's filter sets, row by row.

The current dialect declares what upstream's `SoftwareCatalogFilter`, `SoftwarePackageFilter`,
`SoftwareVersionFilter` and `SoftwareTargetFilter` declare (waldur-mastermind
`marketplace/filters.py` @004c5322), with their lookups:

- catalogs: `name`, `version`, `description` (contains, any case), `catalog_type` (choice),
  `auto_update_enabled` (boolean);
- packages: `query` (name, description or a version's version contains), `offering_uuid`,
  `catalog_uuid`, `catalog_name`, `catalog_version`, `name`, `name_exact` (any case),
  `description`, `cpu_family` / `cpu_microarchitecture` (repeatable, exact, any of a
  `cpu_architecture` target), `has_version` (exact), `extension_type` / `extension_name` (an
  entry of a version's `metadata.extensions`), `is_extension`, `parent_software_uuid`,
  `category`, `license` (an entry of the list), `catalog_type`, `toolchain_families_compatibility`
  and `toolchain_name` (of a version's `metadata`), `has_gpu`, `gpu_arch` (of a target's
  `gpu_architectures`);
- versions: `package_uuid`, `catalog_uuid`, `offering_uuid`, `package_name`, `version`,
  `version_exact`, `cpu_family`, `cpu_microarchitecture`, `toolchain_families_compatibility`,
  `toolchain_name`, `toolchain_version`, `release_date_after` / `release_date_before`,
  `catalog_type`, `has_gpu`, `gpu_arch`;
- targets: `version_uuid`, `package_uuid`, `catalog_uuid`, `offering_uuid`, `cpu_family` /
  `cpu_microarchitecture` (repeatable, any case, `cpu_architecture` targets only), `path`
  (location contains), `target_type` (any case), `target_name`, `target_subtype` (contains),
  `has_gpu`, `gpu_arch`.

JSON containment (`metadata__extensions__contains=[{"type": v}]`, `categories__contains=[v]`)
is an entry of the JSON array equal to the value (case-sensitive); a key lookup
(`metadata__toolchain__name=v`) is a JSON string equal to it.

The legacy dialect declares the filters of the published contract (`cpu_family` etc. on the old
target columns), plus `query` and `description` on packages, which that upstream era had too.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from waldur_sim.serializers import CPU_ARCHITECTURE, LEGACY


class Match(Enum):
    ICONTAINS = "icontains"  # case-insensitive substring
    IEXACT = "iexact"  # case-insensitive equality
    EXACT = "exact"
    ANY_IEXACT = "any_iexact"  # repeatable, OR-ed
    ANY_EXACT = "any_exact"  # repeatable, OR-ed
    UUID = "uuid"
    CHOICE = "choice"  # a catalog type
    BOOL = "bool"  # the column is 1 or 0
    FLAG = "flag"  # a boolean: the template holds (true) or does not (false)
    TEXT = "text"  # every `?` of the template is the value (a filter method of upstream's)
    DATE_FROM = "date_from"  # column >= date
    DATE_TO = "date_to"  # column <= date


@dataclass(frozen=True, slots=True)
class Filter:
    param: str
    match: Match
    column: str = ""
    template: str = "{cond}"  # where the condition on `column` goes (e.g. inside EXISTS)
    error_key: str = ""  # the name its 400 answer uses (a range's own name), else `param`


def _contains(column: str) -> str:
    return f"instr(pyupper({column}), pyupper(?)) > 0"


def _in_array(document: str, path: str = "$") -> str:
    """`document` (JSON) has, at `path`, an array with a string entry equal to the value."""
    return (
        f"(json_type({document}, '{path}') = 'array' AND EXISTS (SELECT 1 FROM "
        f"json_each({document}, '{path}') j WHERE j.type = 'text' AND j.value = ?))"
    )


def _has_entry(document: str, key: str) -> str:
    """`document.extensions` is an array with an object whose `key` is the value."""
    return (
        f"(json_type({document}, '$.extensions') = 'array' AND EXISTS (SELECT 1 FROM "
        f"json_each({document}, '$.extensions') e WHERE e.type = 'object' AND "
        f"CASE e.type WHEN 'object' THEN json_extract(e.value, '$.{key}') END = ?))"
    )


def _json_text(document: str, path: str) -> str:
    return f"(json_type({document}, '{path}') = 'text' AND json_extract({document}, '{path}') = ?)"


def _of_a_version(condition: str) -> str:
    return f"EXISTS (SELECT 1 FROM version v2 WHERE v2.package_id = p.id AND {condition})"


_GPU = "json_array_length({target}.gpu_architectures) > 0"
_GPU_ARCH = "EXISTS (SELECT 1 FROM json_each({target}.gpu_architectures) g WHERE g.value = ?)"
_PACKAGE_TARGETS = (
    "EXISTS (SELECT 1 FROM version v2 JOIN target t2 ON t2.version_id = v2.id "
    "WHERE v2.package_id = p.id AND {cond})"
)
_VERSION_TARGETS = "EXISTS (SELECT 1 FROM target t2 WHERE t2.version_id = v.id AND {cond})"


def _has_target(targets: str, current: bool) -> str:
    """A target `t2` of the package/version (`targets`) whose `column` matches: in the current
    dialect, a `cpu_architecture` target only."""
    cpu_only = f"t2.target_type = '{CPU_ARCHITECTURE}' AND " if current else ""
    return targets.format(cond=f"{cpu_only}{{cond}}")


def _gpu_filters(targets: str, alias: str) -> tuple[Filter, Filter]:
    """`has_gpu` and `gpu_arch`: a target (`alias`, in `targets`) with GPU architectures, one
    of them the value."""
    return (
        Filter("has_gpu", Match.FLAG, template=targets.format(cond=_GPU.format(target=alias))),
        Filter(
            "gpu_arch", Match.TEXT, template=targets.format(cond=_GPU_ARCH.format(target=alias))
        ),
    )


_SUB_CATALOG = "p.catalog_id IN (SELECT id FROM catalog WHERE {cond})"
_SUB_PACKAGE = "v.package_id IN (SELECT id FROM package WHERE {cond})"
_VERSIONS_OF_CATALOG = (
    "v.package_id IN (SELECT p2.id FROM package p2 JOIN catalog c2 ON c2.id = p2.catalog_id "
    "WHERE {cond})"
)
_TARGETS_OF = "t.version_id IN (SELECT v2.id FROM version v2 {joins} WHERE {{cond}})"
_TO_PACKAGE = "JOIN package p2 ON p2.id = v2.package_id"
_TO_CATALOG = f"{_TO_PACKAGE} JOIN catalog c2 ON c2.id = p2.catalog_id"
# `offering_uuid`: the objects of the catalogs an offering links (its links' CPU lists are not
# applied, as upstream does not apply them).
_LINKED = (
    "SELECT oc2.catalog_id FROM offering_catalog oc2 JOIN offering o2 ON o2.id = oc2.offering_id "
    "WHERE {cond}"
)
_PACKAGES_OF_OFFERING = f"p.catalog_id IN ({_LINKED})"
_VERSIONS_OF_OFFERING = (
    f"v.package_id IN (SELECT p3.id FROM package p3 WHERE p3.catalog_id IN ({_LINKED}))"
)
_TARGETS_OF_OFFERING = (
    "t.version_id IN (SELECT v3.id FROM version v3 JOIN package p3 ON p3.id = v3.package_id "
    f"WHERE p3.catalog_id IN ({_LINKED}))"
)
_CHILDREN_OF_PARENT = (
    "p.id IN (SELECT pp.package_id FROM package_parent pp JOIN package par "
    "ON par.id = pp.parent_id WHERE {cond})"
)
_QUERY = (
    f"({_contains('p.name')} OR {_contains('p.description')} OR "
    f"{_of_a_version(_contains('v2.version'))})"
)

_CATALOGS = (
    Filter("name", Match.ICONTAINS, "c.name"),
    Filter("version", Match.ICONTAINS, "c.version"),
    Filter("description", Match.ICONTAINS, "c.description"),
    Filter("catalog_type", Match.CHOICE, "c.catalog_type"),
    Filter("auto_update_enabled", Match.BOOL, "c.auto_update_enabled"),
)


def _packages(current: bool) -> tuple[Filter, ...]:
    common = (
        Filter("query", Match.TEXT, template=_QUERY),
        Filter("catalog_uuid", Match.UUID, "uuid", _SUB_CATALOG),
        Filter("offering_uuid", Match.UUID, "o2.uuid", _PACKAGES_OF_OFFERING),
        Filter("name", Match.ICONTAINS, "p.name"),
        Filter("name_exact", Match.IEXACT, "p.name"),
        Filter("description", Match.ICONTAINS, "p.description"),
        Filter("catalog_name", Match.ICONTAINS, "name", _SUB_CATALOG),
        Filter("catalog_version", Match.ICONTAINS, "version", _SUB_CATALOG),
        Filter(
            "cpu_family", Match.ANY_EXACT, "t2.target_name", _has_target(_PACKAGE_TARGETS, current)
        ),
        Filter(
            "cpu_microarchitecture",
            Match.ANY_EXACT,
            "t2.target_subtype",
            _has_target(_PACKAGE_TARGETS, current),
        ),
        Filter("has_version", Match.EXACT, "v2.version", _of_a_version("{cond}")),
    )
    if not current:
        return common
    return (
        *common,
        Filter(
            "extension_type", Match.TEXT, template=_of_a_version(_has_entry("v2.metadata", "type"))
        ),
        Filter(
            "extension_name", Match.TEXT, template=_of_a_version(_has_entry("v2.metadata", "name"))
        ),
        Filter("is_extension", Match.BOOL, "p.is_extension"),
        Filter("parent_software_uuid", Match.UUID, "par.uuid", _CHILDREN_OF_PARENT),
        Filter("category", Match.TEXT, template=_in_array("p.categories")),
        Filter("license", Match.TEXT, template=_in_array("p.licenses")),
        Filter("catalog_type", Match.CHOICE, "catalog_type", _SUB_CATALOG),
        Filter(
            "toolchain_families_compatibility",
            Match.TEXT,
            template=_of_a_version(_in_array("v2.metadata", "$.toolchain_families_compatibility")),
        ),
        Filter(
            "toolchain_name",
            Match.TEXT,
            template=_of_a_version(_json_text("v2.metadata", "$.toolchain.name")),
        ),
        *_gpu_filters(_PACKAGE_TARGETS, "t2"),
    )


def _versions(current: bool) -> tuple[Filter, ...]:
    common = (
        Filter("package_uuid", Match.UUID, "uuid", _SUB_PACKAGE),
        Filter("catalog_uuid", Match.UUID, "c2.uuid", _VERSIONS_OF_CATALOG),
        Filter("offering_uuid", Match.UUID, "o2.uuid", _VERSIONS_OF_OFFERING),
        Filter("version", Match.ICONTAINS, "v.version"),
        Filter("version_exact", Match.EXACT, "v.version"),
        Filter("package_name", Match.ICONTAINS, "name", _SUB_PACKAGE),
        Filter(
            "cpu_family", Match.ANY_EXACT, "t2.target_name", _has_target(_VERSION_TARGETS, current)
        ),
        Filter(
            "cpu_microarchitecture",
            Match.ANY_EXACT,
            "t2.target_subtype",
            _has_target(_VERSION_TARGETS, current),
        ),
    )
    if not current:
        return common
    return (
        *common,
        Filter(
            "toolchain_families_compatibility",
            Match.TEXT,
            template=_in_array("v.metadata", "$.toolchain_families_compatibility"),
        ),
        Filter("toolchain_name", Match.TEXT, template=_json_text("v.metadata", "$.toolchain.name")),
        Filter(
            "toolchain_version",
            Match.TEXT,
            template=_json_text("v.metadata", "$.toolchain.version"),
        ),
        Filter("release_date_after", Match.DATE_FROM, "v.release_date", error_key="release_date"),
        Filter("release_date_before", Match.DATE_TO, "v.release_date", error_key="release_date"),
        Filter("catalog_type", Match.CHOICE, "c2.catalog_type", _VERSIONS_OF_CATALOG),
        *_gpu_filters(_VERSION_TARGETS, "t2"),
    )


def _targets(current: bool) -> tuple[Filter, ...]:
    target_cpu = f"t.target_type = '{CPU_ARCHITECTURE}' AND {{cond}}" if current else "{cond}"
    common = (
        Filter("catalog_uuid", Match.UUID, "c2.uuid", _TARGETS_OF.format(joins=_TO_CATALOG)),
        Filter("package_uuid", Match.UUID, "p2.uuid", _TARGETS_OF.format(joins=_TO_PACKAGE)),
        Filter("version_uuid", Match.UUID, "v2.uuid", _TARGETS_OF.format(joins="")),
        Filter("offering_uuid", Match.UUID, "o2.uuid", _TARGETS_OF_OFFERING),
        Filter("cpu_family", Match.ANY_IEXACT, "t.target_name", target_cpu),
        Filter("cpu_microarchitecture", Match.ANY_IEXACT, "t.target_subtype", target_cpu),
        Filter("path", Match.ICONTAINS, "t.location"),
    )
    if not current:
        return common
    return (
        *common,
        Filter("target_type", Match.IEXACT, "t.target_type"),
        Filter("target_name", Match.ICONTAINS, "t.target_name"),
        Filter("target_subtype", Match.ICONTAINS, "t.target_subtype"),
        *_gpu_filters("{cond}", "t"),
    )


def filters(dialect: str) -> dict[str, tuple[Filter, ...]]:
    """The filters of every kind in a dialect."""
    current = dialect != LEGACY
    return {
        "catalog": _CATALOGS,
        "package": _packages(current),
        "version": _versions(current),
        "target": _targets(current),
    }
