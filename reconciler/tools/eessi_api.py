"""`reconcile import eessi`: either of EESSI's published software lists → a desired state.

Two formats are read, told apart by their shape:

- ``json_data_detail`` (EESSI's docs until 2026-03): converted by `eessi.convert`;
- the newer API format (``eessi_api_metadata_software.json``, what Waldur's own loader reads):
  ``{"software": {Name: {"description", "homepage", "versions": [{"version",
  "module": {"full_module_name", "module_version"}, "required_modules": [{"full_module_name":
  "EESSI/2023.06"}, …], "cpu_arch": ["x86_64/amd/zen3", …]}, …]}}}``.

The API format is reshaped into the ``json_data_detail`` shape, one per EESSI version found
(each entry's EESSI version is its ``EESSI/<version>`` required module), and converted by the
same code, so both formats give the same file for the same software: one catalog ``EESSI
<version>`` per EESSI version; ``module_version`` = the module's version
(``2024.4-foss-2023b``); targets from ``cpu_arch`` (family before the first ``/``) with the
install path ``/cvmfs/<repository>/versions/<EESSI version>/software/linux/<cpu_arch>``
(the repository is ``software.eessi.io`` unless told otherwise: the format does not name it).
The one difference: the API states each entry's upstream ``version``, which is used as
given; the older format does not, so there it is the module version up to its first ``-``.
GPU architectures (``gpu_arch``) and extensions are not CPU targets and are left out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.tools import eessi
from reconciler.tools.eessi import EessiFormatError
from reconciler.tools.writer import SCHEMA_HINT

DEFAULT_REPOSITORY = "software.eessi.io"
DETAIL = "json_data_detail"
API = "api"


def detect(data: Any) -> str:
    """Which of the two formats `data` is, or `EessiFormatError`."""
    software = data.get("software") if isinstance(data, dict) else None
    if not isinstance(software, dict) or not software:
        raise EessiFormatError("no 'software' mapping: not an EESSI software list")
    first = next(iter(software.values()))
    versions = first.get("versions") if isinstance(first, dict) else None
    if isinstance(versions, dict):
        return DETAIL
    if isinstance(versions, list):
        return API
    raise EessiFormatError("software entries have no 'versions' list or mapping")


def eessi_version(entry: dict[str, Any], fallback: str | None) -> str:
    """The EESSI version an API entry belongs to: its ``EESSI/<version>`` required module."""
    for module in entry.get("required_modules") or []:
        name = module.get("full_module_name", "") if isinstance(module, dict) else str(module)
        prefix, sep, version = str(name).partition("/")
        if prefix == "EESSI" and sep and version:
            return version
    if fallback is None:
        raise EessiFormatError(
            f"version {entry.get('module')!r} names no EESSI/<version> required module, and "
            "the file's architectures_map has several EESSI versions to choose from"
        )
    return fallback


def _module(name: str, entry: dict[str, Any]) -> tuple[str, str]:
    """(full module name, upstream version) of one API version entry."""
    module = entry.get("module")
    if not isinstance(module, dict) or not module.get("full_module_name"):
        raise EessiFormatError(f"a version of {name!r} has no module.full_module_name")
    full = str(module["full_module_name"])
    derived, _ = eessi.split_module(name, full)  # also checks the Name/ prefix
    return full, str(entry.get("version") or derived)


def reshape(data: dict[str, Any], repository: str = DEFAULT_REPOSITORY) -> dict[str, Any]:
    """API format → ``{eessi version: (json_data_detail-shaped data, {(package, module
    version): upstream version})}``."""
    maps = data.get("architectures_map") or {}
    fallback = next(iter(maps)) if isinstance(maps, dict) and len(maps) == 1 else None
    out: dict[str, Any] = {}
    for name, spec in data["software"].items():
        for entry in spec.get("versions") or []:
            release = eessi_version(entry, fallback)
            detail, versions = out.setdefault(release, ({"software": {}}, {}))
            package = detail["software"].setdefault(
                name,
                {
                    "description": spec.get("description"),
                    "homepage": spec.get("homepage"),
                    "versions": {},
                },
            )
            full, upstream = _module(name, entry)
            prefix = f"/cvmfs/{repository}/versions/{release}/software/linux/"
            paths = package["versions"].setdefault(full, {"targets": []})["targets"]
            paths.extend(
                prefix + arch for arch in entry.get("cpu_arch") or [] if prefix + arch not in paths
            )
            versions[(name, full[len(name) + 1 :])] = upstream
    return out


def convert_api(data: dict[str, Any], repository: str = DEFAULT_REPOSITORY) -> dict[str, Any]:
    """The desired-state document for an API-format file: one catalog per EESSI version."""
    catalogs = []
    for release, (detail, versions) in sorted(reshape(data, repository).items()):
        doc = eessi.convert(detail)
        catalog = doc["catalogs"][0]
        if catalog["version"] != release:
            raise EessiFormatError(f"EESSI {release} entries have paths of {catalog['version']}")
        for package in catalog["packages"]:
            for version in package["versions"]:
                version["version"] = versions[(package["name"], version["module_version"])]
        catalogs.append(catalog)
    return {"catalogs": catalogs}


def convert_file(
    path: Path, repository: str = DEFAULT_REPOSITORY
) -> tuple[dict[str, Any], list[str]]:
    """(document, header comment lines) for an EESSI software list in either format."""
    data = eessi.load(path)
    found = detect(data)
    doc = eessi.convert(data) if found == DETAIL else convert_api(data, repository)
    generated = data.get("time_generated") or data.get("timestamp") or "unknown"
    header = [
        f"Converted by `reconcile import eessi` from {path.name} ({found} format, "
        f"generated {generated}).",
        "Regenerate it rather than editing it by hand; docs/how-to/eessi.md says how packages,",
        "versions, module versions and targets are derived from EESSI's module names.",
        *SCHEMA_HINT,
    ]
    return doc, header
