"""The command-line options of the catalog actions and their loaders, and what they build."""

from __future__ import annotations

import argparse
from pathlib import Path

from waldur_sim.loaders.actions import CatalogActions
from waldur_sim.loaders.data import EESSI, SPACK
from waldur_sim.loaders.sources import (
    DEFAULT_EESSI_SOURCE,
    DEFAULT_SPACK_SOURCE,
    EESSI_URL,
    SPACK_URL,
    SourceConfig,
    Sources,
)
from waldur_sim.loaders.worker import Worker
from waldur_sim.serializers import LEGACY
from waldur_sim.store import Store

_FAIL_CHOICES = {"eessi": (EESSI,), "spack": (SPACK,), "all": (EESSI, SPACK)}


def _fail(text: str) -> frozenset[str]:
    names: set[str] = set()
    for part in filter(None, (p.strip().lower() for p in text.split(","))):
        if part not in _FAIL_CHOICES:
            raise argparse.ArgumentTypeError(f"unknown: {part} (choose from eessi, spack, all)")
        names.update(_FAIL_CHOICES[part])
    return frozenset(names)


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _existing(text: str) -> Path:
    path = Path(text)
    if not path.exists():
        raise argparse.ArgumentTypeError(f"{text}: no such file or directory")
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "catalog actions and loaders (current dialect; see docs/reference/waldur-sim-loaders.md)"
    )
    group.add_argument(
        "--no-catalog-actions",
        action="store_true",
        help="serve no discover/import_catalog/update_catalog, like a build before API 8.0.2 "
        "(the legacy dialect never serves them)",
    )
    group.add_argument(
        "--load-seconds",
        type=_seconds,
        default=2.0,
        metavar="S",
        help="how long a load runs in the background (default 2; 0: inside the request, "
        "like the recorded Celery-eager build)",
    )
    group.add_argument(
        "--load-fail",
        type=_fail,
        default="",
        metavar="LOADERS",
        help="make these sources unreachable: eessi, spack or all (loads fail, discover says null)",
    )
    group.add_argument(
        "--eessi-source",
        type=_existing,
        metavar="PATH",
        help="EESSI API format: a directory with eessi_api_metadata_software.json[.xz] "
        "(+ eessi_api_metadata_ext-*.json[.xz]) or that file (default: data/eessi/api_format/)",
    )
    group.add_argument(
        "--spack-source",
        type=_existing,
        metavar="PATH",
        help="Spack repology.json[.xz] (default: data/spack/repology.json.xz)",
    )
    group.add_argument(
        "--eessi-url", default=EESSI_URL, metavar="URL", help="the EESSI API URL catalogs name"
    )
    group.add_argument(
        "--spack-url", default=SPACK_URL, metavar="URL", help="the Spack data URL catalogs name"
    )
    group.add_argument(
        "--eessi-version",
        default="",
        metavar="V",
        help="version import_catalog gives EESSI (default: the latest in the source)",
    )
    group.add_argument(
        "--spack-version",
        default="",
        metavar="V",
        help="version import_catalog gives Spack (default: the date of the source's last_update)",
    )


def build_actions(
    args: argparse.Namespace, store: Store, catalog_fields: dict
) -> CatalogActions | None:
    """The catalog actions the options ask for (None: a build without them)."""
    if args.no_catalog_actions or args.dialect == LEGACY:
        return None
    config = SourceConfig(
        eessi_source=args.eessi_source or DEFAULT_EESSI_SOURCE,
        spack_source=args.spack_source or DEFAULT_SPACK_SOURCE,
        eessi_url=args.eessi_url,
        spack_url=args.spack_url,
        unreachable=args.load_fail,
        load_seconds=args.load_seconds,
    )
    sources = Sources(config)
    worker = Worker(store, sources, {EESSI: args.eessi_version, SPACK: args.spack_version})
    return CatalogActions(store, sources, worker, catalog_fields)
