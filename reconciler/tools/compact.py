"""Find the `target_defaults` that describe most versions of a catalog: pure, plain data.

A catalog written out target by target repeats the same architectures and paths thousands of
times (EESSI 2023.06: 1,200 versions, 16,751 targets). Two observations make it compact:

- most versions are built for the same set of architectures: that set becomes
  ``target_defaults.architectures``;
- their paths follow one pattern: a template such as
  ``/cvmfs/software.eessi.io/versions/{catalog_version}/software/linux/{cpu_family}/{cpu_microarchitecture}``
  becomes ``target_defaults.path``.

Templates are inferred, not guessed from a fixed list: each sampled path has the values of
its own target (catalog version, family, microarchitecture, package, version, module
version) replaced by placeholders, longest value first; the most frequent inferred templates
are then scored by how many versions they reproduce *exactly* (expanded the way the loader
expands them), and the best one wins. A version uses the defaults only if its architectures
are the default set and every one of its paths is the template's expansion; any other version
lists its targets explicitly with literal paths, so the result is always exact.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

#: Placeholders in the order they win when two values are equally long.
PLACEHOLDERS = (
    "catalog_version",
    "cpu_family",
    "cpu_microarchitecture",
    "package",
    "module_version",
    "version",
)
CANDIDATES = 5  # inferred templates scored in full
MIN_USERS = 2  # defaults only pay off when at least this many versions use them

Target = tuple[str, str, str]  # (cpu_family, cpu_microarchitecture, path)


@dataclass(frozen=True, slots=True)
class VersionTargets:
    """One version's placeholder values (package, version, module_version) and targets."""

    values: Mapping[str, str]
    targets: tuple[Target, ...]

    @property
    def architectures(self) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((family, micro) for family, micro, _ in self.targets))


@dataclass(frozen=True, slots=True)
class Compaction:
    """`architectures` and `template` of the defaults (none when `architectures` is empty),
    and for each version (in input order) whether it uses them."""

    architectures: tuple[tuple[str, str], ...]
    template: str | None
    uses_defaults: tuple[bool, ...]


def expand(template: str, values: Mapping[str, str], family: str, micro: str) -> str:
    """The path `template` gives for one target (as `desired.py` expands it)."""
    return template.format_map({**values, "cpu_family": family, "cpu_microarchitecture": micro})


def infer_template(path: str, values: Mapping[str, str]) -> str:
    """`path` with every occurrence of a known value replaced by its placeholder (longest
    value first, scanning left to right) and literal braces doubled."""
    names = sorted(
        (name for name in PLACEHOLDERS if values.get(name)),
        key=lambda name: (-len(values[name]), PLACEHOLDERS.index(name)),
    )
    if not names:
        return _literal(path)
    by_value: dict[str, str] = {}
    for name in names:
        by_value.setdefault(values[name], name)
    pattern = re.compile("(" + "|".join(re.escape(values[name]) for name in names) + ")")
    parts = pattern.split(path)
    return "".join(
        _literal(part) if index % 2 == 0 else "{" + by_value[part] + "}"
        for index, part in enumerate(parts)
    )


def _literal(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _fits(version: VersionTargets, catalog_version: str, template: str) -> bool:
    values = {**version.values, "catalog_version": catalog_version}
    return all(path == expand(template, values, fam, micro) for fam, micro, path in version.targets)


def compact(catalog_version: str, versions: Sequence[VersionTargets]) -> Compaction:
    """The defaults that let the most versions of one catalog leave out their targets."""
    none = Compaction((), None, (False,) * len(versions))
    sets = Counter(v.architectures for v in versions if v.targets)
    if not sets:
        return none
    # The most common set; ties go to the larger set, then the first in sort order.
    default_set = min(sets, key=lambda s: (-sets[s], -len(s), s))
    members = [v for v in versions if v.targets and v.architectures == default_set]
    inferred: Counter[str] = Counter()
    for version in members:
        family, micro, path = min(version.targets)
        values = {**version.values, "catalog_version": catalog_version}
        inferred[
            infer_template(path, {**values, "cpu_family": family, "cpu_microarchitecture": micro})
        ] += 1
    best, best_score = None, 0
    for template, _ in inferred.most_common(CANDIDATES):
        score = sum(1 for v in members if _fits(v, catalog_version, template))
        if score > best_score:
            best, best_score = template, score
    if best is None or best_score < MIN_USERS:
        return none
    uses = tuple(
        bool(v.targets) and v.architectures == default_set and _fits(v, catalog_version, best)
        for v in versions
    )
    return Compaction(default_set, best, uses)
