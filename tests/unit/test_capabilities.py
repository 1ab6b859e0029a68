"""What the server says it accepts (its OPTIONS answers, as recorded on a real upstream
Waldur in data/api_samples/) and what the plan makes of it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reconciler.core.capabilities import Capabilities, KindRules, field_problems, mark
from reconciler.core.model import DesiredState, Key, Kind, Record, catalog_key
from reconciler.core.plan import Action, Change, FieldChange, Plan

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "api_samples"
RECORDED = {
    Kind.CATALOG: "97-g-options-software-catalogs-list-staff.txt",
    Kind.PACKAGE: "100-g-options-software-packages-list-staff.txt",
    Kind.VERSION: "103-g-options-software-versions-list-staff.txt",
    Kind.TARGET: "106-g-options-software-targets-list-staff.txt",
}
CAT = catalog_key("EESSI", "2023.06")
PKG = CAT.child("GROMACS")
VER = PKG.child("2024.4", "2024.4-foss-2023b")
TGT = VER.child("x86_64", "amd/zen3")


def recorded_body(name: str) -> object:
    text = (SAMPLES / name).read_text()
    match = re.search(r"^response body \(raw, \d+ bytes\):\n(.*)$", text, re.MULTILINE)
    assert match, f"{name}: no raw body"
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def upstream() -> Capabilities:
    kinds = {kind: KindRules.parse(recorded_body(name)) for kind, name in RECORDED.items()}
    assert all(rules is not None for rules in kinds.values())
    return Capabilities(kinds=kinds)  # type: ignore[arg-type]


def test_the_recorded_server_makes_versions_and_targets_read_only(upstream):
    assert upstream.kinds[Kind.VERSION].read_only and upstream.kinds[Kind.TARGET].read_only
    catalogs, packages = upstream.kinds[Kind.CATALOG], upstream.kinds[Kind.PACKAGE]
    assert not catalogs.read_only and not packages.read_only
    assert (catalogs.fields["name"].max_length, catalogs.fields["version"].max_length) == (100, 50)
    assert catalogs.fields["source_url"].max_length == 200
    assert catalogs.fields["catalog_type"].choices == (
        "binary_runtime",
        "source_package",
        "package_manager",
    )
    assert (packages.fields["name"].max_length, packages.fields["homepage"].max_length) == (
        200,
        200,
    )


def test_non_staff_and_anonymous_answers_give_no_rules():
    assert (
        KindRules.parse(recorded_body("101-g-options-software-packages-list-non-staff.txt")) is None
    )
    assert (
        KindRules.parse(recorded_body("102-g-options-software-packages-list-anonymous.txt")) is None
    )


def plan_of(*changes: Change) -> Plan:
    return Plan(changes=changes, dialect="current")


def test_creates_and_updates_of_read_only_kinds_are_set_apart_and_deletes_are_not(upstream):
    plan = mark(
        plan_of(
            Change(Action.CREATE, PKG, after={"name": "GROMACS"}, parent_url="https://w/c/1/"),
            Change(Action.CREATE, VER, after={"version": "2024.4"}),
            Change(Action.CREATE, TGT, after={"path": "/p"}),
            Change(Action.UPDATE, CAT, fields=(FieldChange("description", "a", "b"),)),
            Change(
                Action.UPDATE,
                VER.child("aarch64", "generic"),
                fields=(FieldChange("path", "/a", "/b"),),
            ),
            Change(Action.DELETE, PKG.child("1", "")),
        ),
        upstream,
    )
    marks = {(c.action, c.kind): (c.applicable, c.reason) for c in plan.changes}
    assert marks[(Action.CREATE, Kind.PACKAGE)] == (True, "")
    assert marks[(Action.UPDATE, Kind.CATALOG)] == (True, "")
    assert marks[(Action.DELETE, Kind.VERSION)] == (True, "")
    applicable, reason = marks[(Action.CREATE, Kind.VERSION)]
    assert not applicable and "versions are read-only" in reason and "loaders" in reason
    assert marks[(Action.CREATE, Kind.TARGET)][0] is False
    assert marks[(Action.UPDATE, Kind.TARGET)][0] is False
    assert plan.capabilities == "checked"
    assert plan.summary() == {"create": 1, "update": 1, "delete": 1, "not_applicable": 3}
    assert plan.actionable and not plan.empty


def test_a_create_the_server_cannot_make_takes_its_children_along():
    only_versions_refused = Capabilities(
        kinds={
            Kind.VERSION: KindRules.parse(recorded_body(RECORDED[Kind.VERSION])),  # type: ignore[dict-item]
        }
    )
    plan = mark(
        plan_of(
            Change(Action.CREATE, VER, after={"version": "2024.4"}),
            Change(Action.CREATE, TGT, after={"path": "/p"}),
        ),
        only_versions_refused,
    )
    target = plan.changes[1]
    assert not target.applicable and target.reason == "its version cannot be created on this server"


def test_unchecked_capabilities_leave_the_plan_alone():
    plan = plan_of(Change(Action.CREATE, VER, after={"version": "2024.4"}))
    assert mark(plan, Capabilities(unchecked="no token")) is plan


def test_values_over_the_servers_limits_name_the_file_and_line(upstream):
    long_name = "x" * 201
    pkg = CAT.child(long_name)
    desired = DesiredState(
        records={pkg: Record(pkg, {}, source="catalog.yaml:7"), CAT: Record(CAT, {})}
    )
    plan = mark(
        plan_of(
            Change(Action.CREATE, pkg, after={"name": long_name}, parent_url="https://w/c/1/"),
            Change(
                Action.UPDATE, CAT, fields=(FieldChange("source_url", "", "https://" + "a" * 200),)
            ),
        ),
        upstream,
    )
    problems = field_problems(plan, desired, upstream)
    assert problems[0].startswith("catalog.yaml:7: package ")
    assert "name: is 201 characters long; this server allows at most 200" in problems[0]
    assert "source_url: is 208 characters long; this server allows at most 200" in problems[1]
    assert len(problems) == 2


def test_a_choice_the_server_does_not_offer_is_refused(upstream):
    new = Key(Kind.CATALOG, ("Local", "1", "container_image"))
    plan = mark(
        plan_of(
            Change(
                Action.CREATE,
                new,
                after={"name": "Local", "version": "1", "catalog_type": "container_image"},
            )
        ),
        upstream,
    )
    (problem,) = field_problems(plan, DesiredState(), upstream)
    assert "catalog_type: 'container_image' is not one of this server's choices" in problem
