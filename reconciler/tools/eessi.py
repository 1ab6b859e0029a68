"""Convert EESSI's published software list into a desired-state document.

Input: the `json_data_detail` format of EESSI's docs (``{"software": {Name: {"description",
"homepage", "versions": {"Name/modver": {"targets": [path, …]}}}}}``), where every target is
an install path
``/cvmfs/<repo>/versions/<eessi version>/software/linux/<family>/[<vendor>/]<microarch>``.

Mapping (documented in docs/how-to/eessi.md):

- catalog: name `EESSI`, version = the EESSI version in the paths (e.g. `2023.06`);
- package: the software name, with its description and homepage;
- version: `module_version` = the module name after `Name/` (e.g. `2024.4-foss-2023b`),
  `version` = the part of it before the first `-` (`2024.4`);
- target: family and microarchitecture from the path (`x86_64`, `amd/zen3`), path as given.

The output is compact (`compact.py`, shared with `reconcile export`): the architecture set
shared by most versions becomes the catalog's `target_defaults` with a path template inferred
from the paths, and only versions that differ list their targets.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from reconciler.core.fieldrules import acceptable_url, bad_character
from reconciler.core.model import DEFAULT_CATALOG_TYPE
from reconciler.tools import compact

_PATH = re.compile(
    r"^/cvmfs/(?P<repo>[^/]+)/versions/(?P<eessi>[^/]+)/software/linux/"
    r"(?P<family>[^/]+)/(?P<micro>.+)$"
)


class EessiFormatError(ValueError):
    pass


def split_module(name: str, module: str) -> tuple[str, str]:
    """`GROMACS/2024.4-foss-2023b` → (`2024.4`, `2024.4-foss-2023b`)."""
    prefix = f"{name}/"
    if not module.startswith(prefix):
        raise EessiFormatError(f"version {module!r} of {name!r} does not start with {prefix!r}")
    module_version = module[len(prefix) :]
    return module_version.split("-", 1)[0], module_version


def parse_target(path: str) -> tuple[str, str, str, str]:
    """An install path → (repo, eessi version, cpu_family, cpu_microarchitecture)."""
    match = _PATH.match(path)
    if not match:
        raise EessiFormatError(f"target path {path!r} is not an EESSI install path")
    return match["repo"], match["eessi"], match["family"], match["micro"]


def convert(data: dict[str, Any], *, name: str = "EESSI") -> dict[str, Any]:
    """The desired-state document (plain data, ready for YAML) for one EESSI snapshot."""
    software = data.get("software")
    if not isinstance(software, dict):
        raise EessiFormatError("no 'software' mapping: not EESSI's json_data_detail format")
    all_paths = [
        p
        for s in software.values()
        for v in s.get("versions", {}).values()
        for p in v.get("targets", [])
    ]
    if not all_paths:
        raise EessiFormatError("the file lists no targets")
    repos = {parse_target(p)[:2] for p in all_paths}
    if len(repos) != 1:
        raise EessiFormatError(f"targets span several EESSI versions: {sorted(repos)}")
    _, eessi_version = repos.pop()
    packages = []
    entries: list[tuple[dict[str, Any], compact.VersionTargets]] = []
    for pkg_name in sorted(software):
        spec = software[pkg_name]
        versions = []
        for module in sorted(spec.get("versions", {})):
            version, module_version = split_module(pkg_name, module)
            entry: dict[str, Any] = {"version": version, "module_version": module_version}
            paths = spec["versions"][module].get("targets", [])
            values = {"package": pkg_name, "version": version, "module_version": module_version}
            targets = tuple(sorted((*parse_target(p)[2:], p) for p in paths))
            entries.append((entry, compact.VersionTargets(values, targets)))
            versions.append(entry)
        package: dict[str, Any] = {"name": pkg_name}
        description = str(spec.get("description") or "").strip()
        if description:
            package["description"] = _printable(description)
        homepage = str(spec.get("homepage") or "").strip()
        if acceptable_url(homepage):
            package["homepage"] = homepage  # EESSI also lists "None", "(none)", "hhttps://…"
        package["versions"] = versions
        packages.append(package)
    found = compact.compact(eessi_version, [item for _, item in entries])
    for (entry, item), uses in zip(entries, found.uses_defaults, strict=True):
        if not uses:
            entry["targets"] = [_target(path) for _, _, path in item.targets]
    catalog: dict[str, Any] = {
        "name": name,
        "version": eessi_version,
        "catalog_type": DEFAULT_CATALOG_TYPE,
        "description": "European Environment for Scientific Software Installations",
        "source_url": "https://www.eessi.io/",
        "auto_update_enabled": False,
    }
    if found.architectures:
        catalog["target_defaults"] = {
            "architectures": [f"{family}/{micro}" for family, micro in found.architectures],
            "path": found.template,
        }
    catalog["packages"] = packages
    return {"catalogs": [catalog]}


def _target(path: str) -> dict[str, str]:
    _, _, family, micro = parse_target(path)
    return {"cpu_family": family, "cpu_microarchitecture": micro, "path": path}


def load(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EessiFormatError(f"{path}: cannot read EESSI JSON: {exc}") from None


def _printable(text: str) -> str:
    """`text` without the control characters a description may not hold (tab, newline stay)."""
    if bad_character(text, multiline=True) is None:
        return text
    return "".join(ch for ch in text if bad_character(ch, multiline=True) is None)
