"""Regenerate the sources waldur-sim's loaders read by default (see data/README.md).

    python data/make_loader_sources.py [SPACK_PACKAGE_VERSIONS_JSON]

- `eessi/api_format/eessi_api_metadata_software.json.xz`: the EESSI API format upstream's loader
  reads. EESSI 2023.06 = the full snapshot `eessi/json_data_detail_2026-02-21.json.xz` converted
  to that format (654 packages, 1,200 versions, 16,751 targets); EESSI 2025.06 = the 2025.06
  entries of the real API sample `eessi/api_format_sample/…sample.json.xz`, whose timestamp,
  `architectures_map`, `gpu_architectures_map` and `category_details` it keeps.
- `spack/repology.json.xz`: a packages.spack.io `repology.json` of the 50 packages in `SPACK`,
  made from `spack_package_versions.json` (a text scan of spack/spack-packages at 1e8cf059, not
  in this repository: give its path): homepage, the first 6 non-deprecated versions in the
  order declared (a version without a digit is a branch: `branch`, no `downloads`); the source
  has no summaries, categories, licences, maintainers, dependencies or downloads: all empty.

Only the standard library; the output is deterministic (sorted keys, fixed xz preset).
"""

from __future__ import annotations

import json
import lzma
import re
import sys
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent
EESSI_LEGACY = DATA / "eessi" / "json_data_detail_2026-02-21.json.xz"
EESSI_SAMPLE = DATA / "eessi" / "api_format_sample" / "eessi_api_metadata_software.sample.json.xz"
EESSI_OUT = DATA / "eessi" / "api_format" / "eessi_api_metadata_software.json.xz"
SPACK_OUT = DATA / "spack" / "repology.json.xz"
SPACK_LAST_UPDATE = "2026-07-01 00:00:00"  # the commit date of the scanned spack-packages
PREFIX = "/cvmfs/software.eessi.io/versions/2023.06/software/linux/"
SPACK = [
    "gromacs",
    "openmpi",
    "hdf5",
    "fftw",
    "openblas",
    "netcdf-c",
    "netcdf-fortran",
    "petsc",
    "lammps",
    "cp2k",
    "quantum-espresso",
    "nwchem",
    "boost",
    "cmake",
    "python",
    "py-numpy",
    "py-scipy",
    "py-mpi4py",
    "r",
    "gsl",
    "eigen",
    "trilinos",
    "hypre",
    "mumps",
    "netlib-scalapack",
    "superlu-dist",
    "metis",
    "parmetis",
    "zlib",
    "bzip2",
    "xz",
    "curl",
    "git",
    "gcc",
    "llvm",
    "ucx",
    "libfabric",
    "mpich",
    "osu-micro-benchmarks",
    "hwloc",
    "openfoam",
    "paraview",
    "vtk",
    "julia",
    "perl",
    "tcl",
    "tk",
    "libxml2",
    "sqlite",
    "ninja",
]
_TOOLCHAIN = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)-([0-9][0-9A-Za-z.]*)(.*)$")
_EESSI_2023 = {
    "full_module_name": "EESSI/2023.06",
    "module_name": "EESSI",
    "module_version": "2023.06",
}


def read(path: Path) -> Any:
    return json.loads(lzma.decompress(path.read_bytes()))


def write(path: Path, data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(lzma.compress(text.encode(), preset=9 | lzma.PRESET_EXTREME))
    print(f"{path.relative_to(DATA)}: {path.stat().st_size:,} bytes")


def legacy_entry(name: str, full_module: str, targets: list[str]) -> dict[str, Any]:
    """One version of the legacy snapshot in the API format (what the legacy file lacks:
    GPU builds, licences, categories, extensions — left empty)."""
    module_version = full_module.split("/", 1)[1]
    number, _, rest = module_version.partition("-")
    toolchain = {"name": "system", "version": "system"}
    suffix = ""
    match = _TOOLCHAIN.match(rest)
    if match:
        toolchain = {"name": match[1], "version": match[2]}
        suffix = match[3]
    module = {
        "full_module_name": full_module,
        "module_name": name,
        "module_version": module_version,
    }
    return {
        "version": number,
        "versionsuffix": suffix,
        "toolchain": toolchain,
        "toolchain_families_compatibility": [],
        "module": module,
        "required_modules": [_EESSI_2023, module],
        "cpu_arch": [target.removeprefix(PREFIX) for target in targets],
        "gpu_arch": {},
        "extensions": [],
        "license": [],
        "categories": [],
        "image": "",
        "identifier": "",
    }


def eessi() -> dict[str, Any]:
    sample = read(EESSI_SAMPLE)
    legacy = read(EESSI_LEGACY)
    software: dict[str, Any] = {}
    for name, info in legacy["software"].items():
        software[name] = {
            "description": info.get("description", ""),
            "homepage": info.get("homepage", ""),
            "categories": [],
            "license": [],
            "versions": [
                legacy_entry(name, module, version["targets"])
                for module, version in sorted(info["versions"].items())
            ],
        }
    for name, info in sample["software"].items():
        newer = [
            v for v in info["versions"] if v["required_modules"][0]["module_version"] == "2025.06"
        ]
        if not newer:
            continue
        entry = software.setdefault(name, {k: v for k, v in info.items() if k != "versions"})
        entry.setdefault("versions", [])
        entry["versions"] = entry["versions"] + newer
    return {key: sample[key] for key in sample if key != "software"} | {"software": software}


def spack(source: Path) -> dict[str, Any]:
    packages = json.loads(source.read_text(encoding="utf-8"))["packages"]
    chosen: dict[str, Any] = {}
    for name in SPACK:
        info = packages[name]
        deprecated = set(info.get("deprecated_versions", []))
        versions = [v for v in info["versions"] if v not in deprecated][:6]
        chosen[name] = {
            "summary": "",
            "homepages": [info["homepage"]] if info.get("homepage") else [],
            "categories": [],
            "licenses": [],
            "maintainers": [],
            "alias": [],
            "dependencies": [],
            "patches": [],
            "downloads": [],
            "version": [
                {"version": v, "downloads": []}
                if re.search(r"\d", v)
                else {"version": v, "branch": v}
                for v in versions
            ],
        }
    return {"last_update": SPACK_LAST_UPDATE, "num_packages": len(chosen), "packages": chosen}


def main(argv: list[str]) -> int:
    write(EESSI_OUT, eessi())
    if not argv:
        print("Spack: give the path of spack_package_versions.json to remake it", file=sys.stderr)
        return 0
    source = Path(argv[0])
    if not source.is_file():
        print(f"{source}: no such file (spack_package_versions.json)", file=sys.stderr)
        return 1
    write(SPACK_OUT, spack(source))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
