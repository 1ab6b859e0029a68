"""Golden files for the text and Markdown renderings of a plan with every kind of change.

The plan is built here from plain data (no server). The renderings are compared with
tests/golden/* byte for byte; after a deliberate change of the output, regenerate them with

    UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_render_golden.py

and review the diff like any other change.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from reconciler.core.model import Key, Kind
from reconciler.core.plan import Action, Change, FieldChange, Plan
from reconciler.engine.apply import ApplyResult, ChangeResult, Status
from reconciler.output.markdown import LARGE, render_markdown
from reconciler.output.render import render_text, use_colour

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
EESSI = ("EESSI", "2023.06", "binary_runtime")
NEW = ("Local", "1.0", "source_package")
SPACK = ("Spack", "2026.07.01", "source_package")
PREFIX = "/cvmfs/software.eessi.io/versions/2023.06/software/linux/"


def key(kind: Kind, *parts: str) -> Key:
    return Key(kind, parts)


def every_kind_of_change() -> Plan:
    cat = key(Kind.CATALOG, *EESSI)
    gromacs = key(Kind.PACKAGE, *EESSI, "GROMACS")
    version = key(Kind.VERSION, *EESSI, "GROMACS", "2024.4", "2024.4-foss-2023b")
    new_cat = key(Kind.CATALOG, *NEW)
    new_pkg = key(Kind.PACKAGE, *NEW, "hello")
    new_ver = key(Kind.VERSION, *NEW, "hello", "2.12", "")
    unloadable = key(Kind.VERSION, *EESSI, "GROMACS", "2025.1", "2025.1-foss-2024a")
    changes = [
        Change(Action.CREATE, new_cat, after={"name": "Local", "description": "Our builds"}),
        Change(Action.CREATE, new_pkg, after={"name": "hello", "homepage": "https://gnu.org"}),
        Change(Action.CREATE, new_ver, after={"version": "2.12", "module_version": ""}),
        Change(
            Action.CREATE,
            new_ver.child("x86_64", "generic"),
            after={"path": "/opt/hello/2.12/x86_64/generic"},
        ),
        Change(
            Action.UPDATE,
            cat,
            fields=(
                FieldChange("description", "EESSI", "European Environment for Scientific …"),
                FieldChange("metadata", {"a": 1}, {"a": 2}, "Value of root['a'] changed"),
            ),
        ),
        Change(
            Action.UPDATE,
            gromacs,
            fields=(FieldChange("homepage", None, "https://www.gromacs.org"),),
        ),
        Change(Action.UPDATE, version, fields=(FieldChange("release_date", None, "2024-11-05"),)),
        Change(
            Action.UPDATE,
            version.child("x86_64", "amd/zen3"),
            fields=(FieldChange("path", "/old/zen3", PREFIX + "x86_64/amd/zen3"),),
        ),
        Change(Action.CREATE, version.child("aarch64", "nvidia/grace"), after={"path": ""}),
        Change(Action.DELETE, key(Kind.PACKAGE, *EESSI, "OldTool"), cascade=6),
        Change(
            Action.DELETE, key(Kind.VERSION, *EESSI, "GROMACS", "2023.3", "2023.3-foss"), cascade=1
        ),
        Change(Action.DELETE, version.child("x86_64", "intel/haswell")),
        Change(
            Action.DELETE, key(Kind.CATALOG, "Retired", "2020.12", "binary_runtime"), cascade=40
        ),
        Change(
            Action.CREATE,
            cat.link("5f0c2b8e9d4a4e6f8a1b2c3d4e5f6a7b"),
            after={
                "offering": "5f0c2b8e9d4a4e6f8a1b2c3d4e5f6a7b",
                "enabled_cpu_family": ["x86_64"],
                "enabled_cpu_microarchitectures": ["generic", "amd/zen3"],
            },
        ),
        Change(
            Action.UPDATE,
            cat.link("0a1b2c3d4e5f60718293a4b5c6d7e8f9"),
            fields=(FieldChange("enabled_cpu_family", ["x86_64"], ["aarch64", "x86_64"]),),
            uuid="aa29c0fcee1344039a9ed2456f3db43a",
        ),
        Change(Action.DELETE, cat.link("e821c155dcd142758c9cc7c336e3ed6a"), uuid="8e84"),
        Change(
            Action.CREATE,
            unloadable,
            after={"version": "2025.1", "module_version": "2025.1-foss-2024a"},
            applicable=False,
            reason="versions are read-only through this server's API (OPTIONS: every field "
            "read_only); Waldur fills them with its own loaders",
        ),
        Change(
            Action.CREATE,
            unloadable.child("x86_64", "generic"),
            after={"path": PREFIX + "x86_64/generic"},
            applicable=False,
            reason="its version cannot be created on this server",
        ),
        Change(
            Action.LOAD,
            key(Kind.CATALOG, "EESSI", "2025.06", "binary_runtime"),
            after={"loader": "eessi", "version": "2025.06"},
            reason="new catalog: create the row at its declared version, then load it",
        ),
        Change(
            Action.LOAD,
            key(Kind.CATALOG, *SPACK),
            after={"loader": "spack", "version": "2026.07.01"},
            reason="never loaded",
        ),
    ]
    return Plan(
        changes=tuple(changes),
        dialect="legacy",
        dialect_reason="detected from the declared catalogs' targets",
        notes=("the server holds objects twice under one natural key (left alone): X",),
        loaders={
            key(Kind.CATALOG, *EESSI): "EESSI 2023.06 is filled by Waldur's EESSI loader: 654 "
            "packages, 1,200 versions, 16,751 targets; last load 2026-12-06 03:00 UTC, ok",
        },
        gaps={key(Kind.CATALOG, *EESSI): ("package Salmon is missing",)},
        capabilities="checked",
        offering_names={
            "5f0c2b8e9d4a4e6f8a1b2c3d4e5f6a7b": "HPC cluster A",
            "0a1b2c3d4e5f60718293a4b5c6d7e8f9": "HPC cluster B",
            "e821c155dcd142758c9cc7c336e3ed6a": "Old cluster",
        },
    )


def results_for(plan: Plan) -> ApplyResult:
    """Every status, in a fixed pattern."""
    pattern = {
        ("create", "package"): (Status.FAILED, "HTTP 400: homepage: Enter a valid URL."),
        ("create", "version"): (Status.SKIPPED, "its package was not created"),
        ("create", "target"): (Status.NOT_ATTEMPTED, "the server refused to create a target"),
    }
    loads = iter(
        [
            (Status.LOADING, "still loading; the next run checks it", ()),
            (
                Status.UNMET,
                "loaded: 50 packages, 281 versions, 281 targets; expectations unmet",
                ("package hdf5 is missing", "package gromacs has no build for x86_64/amd/zen4"),
            ),
        ]
    )
    results = []
    for change in plan.changes:
        status, message = pattern.get((change.action.value, change.kind.label), (Status.DONE, ""))
        gaps: tuple[str, ...] = ()
        if change.action is Action.LOAD:
            status, message, gaps = next(loads)
        if not change.applicable:
            status, message = Status.NOT_APPLICABLE, change.reason
        results.append(ChangeResult(change, status, message, gaps))
    return ApplyResult(results, refused={"create target": "HTTP 500 three times"})


def large_plan(versions: int = 17) -> Plan:
    changes = [Change(Action.CREATE, key(Kind.PACKAGE, *EESSI, "Big"), after={"name": "Big"})]
    archs = [("x86_64", f"intel/m{i:02d}") for i in range(11)] + [("aarch64", "generic")]
    for number in range(versions):
        ver = key(Kind.VERSION, *EESSI, "Big", f"{number}.0", f"{number}.0-gcc")
        changes.append(Change(Action.CREATE, ver, after={"version": f"{number}.0"}))
        changes += [Change(Action.CREATE, ver.child(*a), after={"path": "/p"}) for a in archs]
    changes.append(Change(Action.DELETE, key(Kind.PACKAGE, *EESSI, "Gone"), cascade=3))
    changes.append(
        Change(
            Action.UPDATE, key(Kind.CATALOG, *EESSI), fields=(FieldChange("description", "a", "b"),)
        )
    )
    return Plan(changes=tuple(changes), dialect="current", dialect_reason="as configured")


def large_results(plan: Plan) -> ApplyResult:
    results = [
        ChangeResult(
            c, Status.FAILED if i % 97 == 5 else Status.DONE, "HTTP 503" if i % 97 == 5 else ""
        )
        for i, c in enumerate(plan.changes)
    ]
    return ApplyResult(results)


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert text == path.read_text(encoding="utf-8"), f"{name} differs; UPDATE_GOLDEN=1 regenerates"


@pytest.mark.parametrize(
    ("name", "render"),
    [
        ("plan.txt", lambda: render_text(every_kind_of_change())),
        ("apply.txt", lambda: render_text(p := every_kind_of_change(), results_for(p))),
        ("plan.md", lambda: render_markdown(every_kind_of_change())),
        ("apply.md", lambda: render_markdown(p := every_kind_of_change(), results_for(p))),
        ("large-plan.md", lambda: render_markdown(large_plan())),
        ("large-apply.md", lambda: render_markdown(p := large_plan(), large_results(p))),
        ("empty.md", lambda: render_markdown(Plan(changes=(), dialect="legacy"))),
    ],
)
def test_golden(name, render):
    check(name, render())


def test_every_kind_and_status_is_in_the_fixture():
    plan = every_kind_of_change()
    every = {(a, k) for a in Action for k in Kind if a is not Action.LOAD}
    assert {(c.action, c.kind) for c in plan.changes} == every | {(Action.LOAD, Kind.CATALOG)}
    assert {r.status for r in results_for(plan).results} == set(Status)
    assert len(large_plan().changes) > LARGE


def test_colour_is_the_golden_text_plus_escape_codes_only():
    plan = every_kind_of_change()
    coloured = render_text(plan, results_for(plan), colour=True)
    assert "\x1b[32m+ package hello\x1b[0m" in coloured
    assert "\x1b[31m- catalog Retired 2020.12" in coloured
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == render_text(plan, results_for(plan))


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color():
    assert use_colour(_Tty(), {}) is True
    assert use_colour(_Tty(), {"NO_COLOR": "1"}) is False
    assert use_colour(_Tty(), {"TERM": "dumb"}) is False
    assert use_colour(io.StringIO(), {}) is False


def test_large_markdown_does_not_grow_with_the_plan_and_shows_every_failure():
    small, big = large_plan(), large_plan(versions=170)
    assert len(render_text(big)) > 9 * len(render_text(small))
    assert len(render_markdown(big)) < len(render_markdown(small)) + 100
    text = render_markdown(big, large_results(big))
    failed = sum(1 for i in range(len(big.changes)) if i % 97 == 5)
    assert f"**Not done ({failed})**" in text
    assert "| x86_64/intel/m00 | 170 | 0 | 0 |" in text  # per architecture
