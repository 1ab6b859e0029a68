"""Saved plans in plain data: the document round trip and every staleness check."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from reconciler.core.errors import ConfigError
from reconciler.core.model import CatalogPolicy, DesiredState, Key, Kind, ObservedState, Record
from reconciler.core.plan import Action, make_plan
from reconciler.engine import savedplan
from reconciler.engine.savedapply import check_files, check_server, check_values, compare

CAT = ("EESSI", "2023.06", "binary_runtime")
API = "http://127.0.0.1:9/api/"


def key(kind: Kind, *parts: str) -> Key:
    return Key(kind, (*CAT, *parts))


def observed(**changes: dict) -> ObservedState:
    """A small live tree; `changes` replaces records by name (None removes one)."""
    records = {
        "cat": Record(key(Kind.CATALOG), {"description": "d"}, "c0", API + "c/c0/"),
        "gromacs": Record(
            key(Kind.PACKAGE, "GROMACS"), {"description": "old"}, "p1", API + "p/p1/"
        ),
        "old": Record(key(Kind.PACKAGE, "Old"), {"description": ""}, "p2", API + "p/p2/"),
        "oldver": Record(key(Kind.VERSION, "Old", "1", ""), {}, "v2", API + "v/v2/"),
    }
    records.update(changes)
    live = {r.key: r for r in records.values() if r is not None}
    return ObservedState(records=live, catalog_sizes={key(Kind.CATALOG): 3})


def desired() -> DesiredState:
    state = DesiredState(policies={key(Kind.CATALOG): CatalogPolicy()})
    for record in (
        Record(key(Kind.CATALOG), {"description": "d"}),
        Record(key(Kind.PACKAGE, "GROMACS"), {"description": "new"}),
        Record(key(Kind.PACKAGE, "LAMMPS"), {"description": "md"}),
        Record(key(Kind.VERSION, "LAMMPS", "2024", "2024-foss")),
    ):
        state.records[record.key] = record
    return state


def saved_for(tmp_path: Path, live: ObservedState | None = None) -> savedplan.SavedPlan:
    source = tmp_path / "d.yaml"
    source.write_text("catalogs: []\n")
    state = desired()
    state.sources = (str(source),)
    plan = make_plan(state, live or observed())
    doc = savedplan.to_document(plan, state, [source], "http://user:pw@127.0.0.1:9/api/?x=1")
    path = tmp_path / "plan.json"
    path.write_text(savedplan.dumps(doc))
    return savedplan.read(path)


def test_the_document_round_trips_and_holds_no_credentials(tmp_path):
    saved = saved_for(tmp_path)
    text = saved.path.read_text()
    assert "pw" not in text and "user" not in text and saved.api_url == API
    plan = make_plan(desired(), observed())
    assert [s.change for s in saved.changes] == [
        c.__class__(c.action, c.key, c.before, c.after, c.fields, c.uuid, None, c.cascade)
        for c in plan.changes
    ]
    actions = {(s.change.action, s.change.key.parts[3]) for s in saved.changes}
    assert actions >= {
        (Action.UPDATE, "GROMACS"),
        (Action.CREATE, "LAMMPS"),
        (Action.DELETE, "Old"),
    }
    doc = json.loads(text)
    assert doc["files"][0]["sha256"] == savedplan.file_digest(tmp_path / "d.yaml")
    assert [c["observed"] for c in doc["changes"] if c["action"] == "create"] == ["absent"] * 2


def test_an_unchanged_server_passes_and_gives_the_same_plan(tmp_path):
    saved = saved_for(tmp_path)
    fresh = observed()
    assert check_server(saved, fresh) == [] and check_files(saved) == []
    assert compare(saved, make_plan(desired(), fresh)) == []


def _edited(saved: savedplan.SavedPlan, edit) -> savedplan.SavedPlan:
    documents = [json.loads(json.dumps(d)) for d in saved.documents]
    edit(documents)
    return replace(saved, documents=tuple(documents))


def _change_value(documents: list[dict]) -> None:
    update = next(d for d in documents if d["action"] == "update")
    update["fields"][0]["new"] = "https://evil.example.com/"


def _add_create(documents: list[dict]) -> None:
    backdoor = json.loads(json.dumps(next(d for d in documents if d["kind"] == "package")))
    backdoor.update(action="create", observed="absent", after={"description": "x"})
    backdoor["key"]["package"] = "Backdoor"
    documents.append(backdoor)


def _widen_delete(documents: list[dict]) -> None:
    next(d for d in documents if d["action"] == "delete")["cascade"] = 40


def _drop_one(documents: list[dict]) -> None:
    documents.pop(0)


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            _change_value,
            "the plan file's update package EESSI/2023.06/binary_runtime/GROMACS "
            "differs from the files' (in fields)",
        ),
        (
            _add_create,
            "the plan file has create package EESSI/2023.06/binary_runtime/"
            "Backdoor, which the files do not give",
        ),
        (_widen_delete, "differs from the files' (in cascade)"),
        (_drop_one, "which the plan file lacks"),
    ],
)
def test_an_edited_plan_file_is_not_the_plan_its_files_give(tmp_path, edit, expected):
    saved = _edited(saved_for(tmp_path), edit)
    problems = compare(saved, make_plan(desired(), observed()))
    assert len(problems) == 1 and expected in problems[0], problems


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            {"gromacs": Record(key(Kind.PACKAGE, "GROMACS"), {"description": "x"}, "p1")},
            "description was 'old', is now 'x'",
        ),
        ({"gromacs": None}, "was deleted since the plan was made"),
        (
            {"gromacs": Record(key(Kind.PACKAGE, "GROMACS"), {"description": "old"}, "p9")},
            "was replaced (uuid p1 → p9)",
        ),
        ({"lammps": Record(key(Kind.PACKAGE, "LAMMPS"), {}, "p7")}, "was absent and now exists"),
        ({"oldver": None}, "now has 0 objects below it, not 1"),
        ({"cat": Record(key(Kind.CATALOG), {"description": "d"}, "c5")}, "was replaced"),
    ],
)
def test_every_touched_change_is_named(tmp_path, edit, expected):
    saved = saved_for(tmp_path)
    problems = check_server(saved, observed(**edit))
    assert any(expected in p for p in problems), problems


def test_incomplete_reads_and_other_dialects_are_refused(tmp_path):
    saved = saved_for(tmp_path)
    fresh = observed()
    fresh.complete, fresh.incomplete_reason = False, "page 2 failed"
    assert check_server(saved, fresh) == ["the server could not be read completely (page 2 failed)"]
    fresh = observed()
    fresh.dialect = "current"
    assert "now speaks the current API dialect" in check_server(saved, fresh)[0]


def test_changed_added_and_removed_files(tmp_path):
    saved = saved_for(tmp_path)
    (tmp_path / "d.yaml").write_text("catalogs: []  # edited\n")
    problems = check_files(saved, (str(tmp_path / "e.yaml"),))
    assert problems == [
        f"desired file {tmp_path / 'd.yaml'} changed since the plan was made",
        f"desired file {tmp_path / 'e.yaml'} is new since the plan",
        f"desired file {tmp_path / 'd.yaml'} is no longer read",
    ]


def test_values_other_than_the_environments_now_are_named(tmp_path):
    saved = replace(
        saved_for(tmp_path),
        environment="production",
        values={"home": "https://evil.example.com/", "extra": "x"},
    )
    now = {"home": "https://www.gromacs.org", "cluster": "A"}
    assert check_values(saved, now) == [
        "the value cluster is in the environment production ('A'), not in the plan file",
        "the value extra is in the plan file, not in the environment production",
        "the value home is 'https://evil.example.com/' in the plan file, "
        "'https://www.gromacs.org' in the environment production",
    ]
    assert check_values(replace(saved, values=dict(now)), now) == []
    assert check_values(saved_for(tmp_path), None) == []
    assert check_values(replace(saved_for(tmp_path), values={"a": "b"}), None) == [
        "the value a is in the plan file, not in this run's (no environment, no values)"
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("catalogs: []\n", "is not a saved plan"),
        (
            '{"format": "waldur-catalog-reconciler saved plan", "format_version": "9"}',
            "not supported",
        ),
        ('{"format": "waldur-catalog-reconciler saved plan", "format_version": "1"}', "damaged"),
    ],
)
def test_what_is_not_a_saved_plan_is_said_plainly(tmp_path, text, message):
    path = tmp_path / "p.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        savedplan.read(path)
