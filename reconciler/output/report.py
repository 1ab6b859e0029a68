"""The coverage report's model: which versions of each package a catalog has, per architecture.

Pure: the observed records (and, to compare, the desired ones) in, plain frozen values out; no
I/O and no markup. `report_html` and `report_markdown` render a `Report`; nothing here knows
either format.

Per catalog the model holds one row per package, one column per architecture
(`family/microarchitecture`, ordered by family, `generic` first), and per version the
architectures it has a target for. Each object carries a `Mark`:

- without a desired state every object is `PRESENT` (on the server);
- with one, `PRESENT` is on the server and declared, `MISSING` declared but not on the server,
  `EXTRA` on the server but not declared.

Counts follow: per catalog (packages, versions, targets by mark) and per architecture
(packages and versions on the server there, targets missing there, targets not declared there).
Offering links and any other kind outside the catalog tree are left out.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from reconciler.core.model import DesiredState, Key, Kind, ObservedState, format_key

_TREE = frozenset({Kind.CATALOG, Kind.PACKAGE, Kind.VERSION, Kind.TARGET})


class Mark(StrEnum):
    PRESENT = "present"  # on the server (and declared, when compared with files)
    MISSING = "missing"  # declared, not on the server
    EXTRA = "extra"  # on the server, not declared


#: What each mark looks like and means; the renderers never rely on colour alone.
SYMBOL = {Mark.PRESENT: "✓", Mark.MISSING: "✗", Mark.EXTRA: "+"}
MEANING = {
    Mark.PRESENT: "on the server",
    Mark.MISSING: "declared in the files, missing on the server",
    Mark.EXTRA: "on the server, not declared in the files",
}
SHORT = {Mark.PRESENT: "", Mark.MISSING: "missing", Mark.EXTRA: "extra"}
#: Marks of objects the server holds.
ON_SERVER = frozenset({Mark.PRESENT, Mark.EXTRA})


@dataclass(frozen=True, slots=True, order=True)
class Architecture:
    """A column: ordered by family, then `generic` before the rest, then by name."""

    family: str
    rank: int  # 0 for generic, 1 otherwise (the sort order inside a family)
    micro: str

    @property
    def label(self) -> str:
        return f"{self.family}/{self.micro}"


def architecture(family: str, micro: str) -> Architecture:
    return Architecture(family, 0 if micro == "generic" else 1, micro)


@dataclass(frozen=True, slots=True)
class VersionRow:
    version: str
    module_version: str
    #: how cells name it: the version, or the module version when the version repeats
    short: str
    mark: Mark
    cells: Mapping[Architecture, Mark]


@dataclass(frozen=True, slots=True)
class Cell:
    """One package on one architecture: the versions there, by mark (as `VersionRow.short`)."""

    present: tuple[str, ...] = ()  # on the server (marked PRESENT or EXTRA)
    missing: tuple[str, ...] = ()  # declared, not on the server
    extra: tuple[str, ...] = ()  # on the server, not declared (also in `present`)
    total: int = 0  # versions of the package
    absent: tuple[str, ...] = ()  # versions not on the server here (`missing` included)

    @property
    def full(self) -> bool:
        """Every version of the package is on the server here, and none is missing."""
        return self.total > 0 and len(self.present) == self.total and not self.missing

    @property
    def empty(self) -> bool:
        return not self.present and not self.missing

    @property
    def differs(self) -> bool:
        return bool(self.missing or self.extra)


@dataclass(frozen=True, slots=True)
class PackageRow:
    name: str
    mark: Mark
    versions: tuple[VersionRow, ...]
    cells: Mapping[Architecture, Cell]

    def cell(self, arch: Architecture) -> Cell:
        found = self.cells.get(arch)
        if found is None:
            found = Cell(total=len(self.versions), absent=tuple(v.short for v in self.versions))
        return found

    @property
    def differs(self) -> bool:
        return self.mark is not Mark.PRESENT or any(c.differs for c in self.cells.values())


@dataclass(frozen=True, slots=True)
class ArchSummary:
    architecture: Architecture
    packages: int  # with at least one version on the server here
    versions: int  # on the server here
    missing: int  # targets declared here, missing on the server
    extra: int  # targets on the server here, not declared


@dataclass(frozen=True, slots=True)
class CatalogCoverage:
    key: Key
    on_server: bool
    declared: bool  # the files declare it (always False without files)
    absent: bool  # the files declare `state: absent`
    prune: bool
    packages: tuple[PackageRow, ...]
    architectures: tuple[Architecture, ...]
    summaries: tuple[ArchSummary, ...]
    #: kind label ("package", "version", "target") → mark → how many
    counts: Mapping[str, Mapping[Mark, int]]
    #: objects below it on the server, from its counters (known for an absent catalog too)
    size_on_server: int = 0

    @property
    def title(self) -> str:
        return format_key(self.key)

    @property
    def families(self) -> list[tuple[str, list[Architecture]]]:
        groups: dict[str, list[Architecture]] = {}
        for arch in self.architectures:
            groups.setdefault(arch.family, []).append(arch)
        return list(groups.items())

    def total(self, kind: str) -> int:
        """Objects of `kind` on either side."""
        return sum(self.counts.get(kind, {}).values())

    def on_server_count(self, kind: str) -> int:
        found = self.counts.get(kind, {})
        return sum(found.get(mark, 0) for mark in ON_SERVER)

    def differences(self) -> int:
        return sum(
            n for kind in self.counts.values() for m, n in kind.items() if m is not Mark.PRESENT
        )


@dataclass(frozen=True, slots=True)
class Report:
    catalogs: tuple[CatalogCoverage, ...]
    compared: bool  # built with a desired state: differences are marked
    source: str = ""  # the server read (a public URL: no credentials)
    files: tuple[str, ...] = ()
    generated: str = ""  # when, as text (UTC)
    notes: tuple[str, ...] = field(default=())


# -- building -------------------------------------------------------------------------------


_DIGITS = re.compile(r"(\d+)")


def natural(text: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders `2.10` after `2.9` (numbers by value, the rest by text)."""
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in _DIGITS.split(text) if p)


def _mark(on: bool, declared: bool, compared: bool) -> Mark:
    if not compared or (on and declared):
        return Mark.PRESENT
    return Mark.MISSING if declared else Mark.EXTRA


@dataclass
class _Catalog:
    packages: dict[str, Mark] = field(default_factory=dict)
    versions: dict[str, dict[tuple[str, str], Mark]] = field(default_factory=dict)
    targets: dict[tuple[str, str, str], dict[Architecture, Mark]] = field(default_factory=dict)


def build_report(
    observed: ObservedState,
    desired: DesiredState | None = None,
    *,
    source: str = "",
    generated: str = "",
    notes: Iterable[str] = (),
) -> Report:
    """The coverage of every catalog in `observed` (and, with `desired`, every catalog it
    declares, marked where the two differ)."""
    compared = desired is not None
    live = observed.records
    wanted = desired.records if desired is not None else {}
    policies = desired.policies if desired is not None else {}
    catalogs: dict[Key, _Catalog] = {}
    for key in {k for k in live if k.kind is Kind.CATALOG} | set(policies):
        catalogs[key] = _Catalog()
    by_parts = {key.parts: found for key, found in catalogs.items()}
    archs: dict[tuple[str, str], Architecture] = {}
    for key in _tree_keys(live, wanted):
        if key.kind is Kind.CATALOG:
            continue
        parts = key.parts
        found = by_parts.get(parts[:3])
        if found is None:
            continue  # (cannot happen: every object's catalog is read or declared)
        mark = _mark(key in live, key in wanted, compared)
        if key.kind is Kind.PACKAGE:
            found.packages[parts[3]] = mark
        elif key.kind is Kind.VERSION:
            found.versions.setdefault(parts[3], {})[(parts[4], parts[5])] = mark
        else:
            arch = archs.get(parts[6:8])
            if arch is None:
                arch = archs[parts[6:8]] = architecture(parts[6], parts[7])
            found.targets.setdefault((parts[3], parts[4], parts[5]), {})[arch] = mark
    out = []
    for key in sorted(catalogs):
        policy = policies.get(key)
        out.append(
            _coverage(
                key,
                catalogs[key],
                on_server=key in live,
                declared=policy is not None,
                absent=bool(policy and policy.absent),
                prune=policy.prune if policy is not None else True,
                size=observed.catalog_sizes.get(key, 0),
            )
        )
    return Report(
        catalogs=tuple(out),
        compared=compared,
        source=source,
        files=desired.sources if desired is not None else (),
        generated=generated,
        notes=tuple(notes),
    )


def _tree_keys(live: Mapping[Key, object], wanted: Mapping[Key, object]) -> set[Key]:
    return {k for k in live if k.kind in _TREE} | {k for k in wanted if k.kind in _TREE}


def _shorts(versions: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """How cells name each version of one package: its version, unless two share it."""
    items = list(versions)
    seen = Counter(v for v, _ in items)
    return {(v, m): (m or v) if seen[v] > 1 else v for v, m in items}


def _coverage(
    key: Key,
    found: _Catalog,
    *,
    on_server: bool,
    declared: bool,
    absent: bool,
    prune: bool,
    size: int,
) -> CatalogCoverage:
    counts: dict[str, Counter[Mark]] = {k: Counter() for k in ("package", "version", "target")}
    per_arch_versions: Counter[Architecture] = Counter()
    per_arch_missing: Counter[Architecture] = Counter()
    per_arch_extra: Counter[Architecture] = Counter()
    per_arch_packages: Counter[Architecture] = Counter()
    architectures: set[Architecture] = set()
    names = set(found.packages) | set(found.versions)
    rows = []
    for name in sorted(names, key=lambda n: (n.casefold(), n)):
        counts["package"][found.packages.get(name, Mark.PRESENT)] += 1
        versions = found.versions.get(name, {})
        ordered = sorted(versions, key=lambda vm: (natural(vm[0]), natural(vm[1])))
        shorts = _shorts(ordered)
        version_rows = []
        present: dict[Architecture, list[str]] = {}
        missing: dict[Architecture, list[str]] = {}
        extra: dict[Architecture, list[str]] = {}
        for vm in ordered:
            counts["version"][versions[vm]] += 1
            cells = found.targets.get((name, *vm), {})
            for arch, mark in cells.items():
                architectures.add(arch)
                counts["target"][mark] += 1
                label = shorts[vm]
                if mark is Mark.MISSING:
                    missing.setdefault(arch, []).append(label)
                    per_arch_missing[arch] += 1
                    continue
                present.setdefault(arch, []).append(label)
                per_arch_versions[arch] += 1
                if mark is Mark.EXTRA:
                    extra.setdefault(arch, []).append(label)
                    per_arch_extra[arch] += 1
            version_rows.append(VersionRow(vm[0], vm[1], shorts[vm], versions[vm], dict(cells)))
        for arch in present:
            per_arch_packages[arch] += 1
        labels = [shorts[vm] for vm in ordered]
        row_cells = {}
        for arch in set(present) | set(missing):
            there = present.get(arch, [])
            row_cells[arch] = Cell(
                tuple(there),
                tuple(missing.get(arch, ())),
                tuple(extra.get(arch, ())),
                len(ordered),
                tuple(label for label in labels if label not in there),
            )
        rows.append(
            PackageRow(name, found.packages.get(name, Mark.PRESENT), tuple(version_rows), row_cells)
        )
    ordered_archs = tuple(sorted(architectures))
    summaries = tuple(
        ArchSummary(
            arch,
            per_arch_packages[arch],
            per_arch_versions[arch],
            per_arch_missing[arch],
            per_arch_extra[arch],
        )
        for arch in ordered_archs
    )
    return CatalogCoverage(
        key=key,
        on_server=on_server,
        declared=declared,
        absent=absent,
        prune=prune,
        packages=tuple(rows),
        architectures=ordered_archs,
        summaries=summaries,
        counts={kind: dict(c) for kind, c in counts.items()},
        size_on_server=size,
    )


def percent(part: int, whole: int) -> str:
    """`57%`; `<1%` and `>99%` rather than a rounding that hides a gap or a single object."""
    if whole <= 0:
        return "\u2013"  # (an en dash)
    if part == whole:
        return "100%"
    if part == 0:
        return "0%"
    value = 100 * part / whole
    if value < 1:
        return "<1%"
    if value > 99:
        return ">99%"
    return f"{value:.0f}%"


def count(value: int) -> str:
    """`1,234`."""
    return f"{value:,}"


def plural(value: int, word: str) -> str:
    """`1 target`, `2,000 targets`."""
    return f"{count(value)} {word}{'' if value == 1 else 's'}"


def differences(catalog: CatalogCoverage) -> list[tuple[Mark, list[str]]]:
    """What differs from the files, per mark: ``(MISSING, ["1 target"])``, … (marks with
    nothing are left out)."""
    found = []
    for mark in (Mark.MISSING, Mark.EXTRA):
        counts = [
            plural(n, kind)
            for kind in ("package", "version", "target")
            if (n := catalog.counts.get(kind, {}).get(mark, 0))
        ]
        if counts:
            found.append((mark, counts))
    return found
