"""Saved plans end to end: `plan --out`, then `apply PLAN` applies exactly that plan, or
refuses (exit 4, nothing written) when something it touches changed; the file holds no token.
Also the people-facing outputs of an apply: Markdown and progress lines."""

from __future__ import annotations

import hashlib
import json

import httpx

from .harness import (
    ROOT,
    edited_example,
    plan_json,
    reconcile,
    server_tree,
    sim_stats,
    writes,
)

EXAMPLE = ROOT / "examples" / "targets.yaml"
CANARY = "CANARY-saved-plan-41b7-token"


def edited(tmp_path):
    """The example with one update, one delete (a version and its targets) and one create."""
    return edited_example(tmp_path / "desired.yaml", description="Molecular dynamics.")


def patch_package(server, name, **fields):
    headers = {"Authorization": f"Token {server.staff_token}"}
    with httpx.Client(headers=headers, timeout=10) as http:
        url = server.api_url + "marketplace-software-packages/"
        (found,) = http.get(url, params={"name_exact": name}).json()
        assert http.patch(found["url"], json=fields).status_code == 200


def save_plan(server, desired, path, *extra):
    done = reconcile(
        server, "plan", "-f", str(desired), "--out", str(path), *extra, token=server.staff_token
    )
    assert done.returncode == 0, done.stderr
    assert f"Saved the plan to {path}" in done.stderr
    return done


def test_a_touched_object_changed_on_the_server_refuses_and_writes_nothing(sim, tmp_path):
    server = sim(staff_token=CANARY)
    assert reconcile(server, "-f", str(EXAMPLE), token=CANARY).returncode == 0
    desired, saved = edited(tmp_path), tmp_path / "plan.json"
    save_plan(server, desired, saved)

    patch_package(server, "GROMACS", description="Edited in the web UI.")
    before, writes_before = server_tree(server.api_url), writes(sim_stats(server))
    done = reconcile(server, "apply", str(saved), token=CANARY)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the plan file does not match the plan its files give: re-plan" in done.stderr
    assert "GROMACS: description was" in done.stderr and "'Edited in the web UI.'" in done.stderr
    assert server_tree(server.api_url) == before
    assert writes(sim_stats(server)) == writes_before
    assert CANARY not in done.stdout + done.stderr


def test_an_unchanged_plan_is_applied_exactly_then_nothing_is_left(sim, tmp_path):
    server = sim(staff_token=CANARY)
    assert reconcile(server, "-f", str(EXAMPLE), token=CANARY).returncode == 0
    desired, saved = edited(tmp_path), tmp_path / "plan.json"
    shown = save_plan(server, desired, saved, "-o", "json")
    reviewed = json.loads(shown.stdout)["summary"]
    assert reviewed == {
        "create": 6,
        "update": 1,
        "delete": 1,
        "not_applicable": 0,
    }  # New: package, version, 4 targets
    document = json.loads(saved.read_text())
    assert document["files"] == [
        {"path": str(desired), "sha256": hashlib.sha256(desired.read_bytes()).hexdigest()}
    ]
    assert {c["action"]: c["observed"] for c in document["changes"]}["create"] == "absent"
    assert CANARY not in saved.read_text() + shown.stdout + shown.stderr

    done = reconcile(
        server, "apply", str(saved), "-o", "markdown", "--progress", "lines", token=CANARY
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("### Plan: 6 to create, 1 to update, 1 to delete.")
    assert "**Apply: 8 done, 0 failed, 0 skipped, 0 not attempted.**" in done.stdout
    assert "<details><summary>GROMACS: +0 ~1 -0</summary>" in done.stdout
    assert "apply: 8 changes to make" in done.stderr and "8/8 changes (100%)" in done.stderr
    left = plan_json(server, desired)
    assert left["summary"] == {"create": 0, "update": 0, "delete": 0, "not_applicable": 0}
    assert CANARY not in done.stdout + done.stderr


def test_drift_the_plan_does_not_touch_still_refuses_it(sim, tmp_path):
    """The recomputed plan would hold one more update: not the reviewed plan, so re-plan."""
    server = sim()
    assert reconcile(server, "-f", str(EXAMPLE)).returncode == 0
    desired, saved = edited(tmp_path), tmp_path / "plan.json"
    save_plan(server, desired, saved)
    patch_package(server, "Python", description="Drift the plan does not touch.")
    writes_before = writes(sim_stats(server))
    done = reconcile(server, "apply", str(saved))
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the plan file does not match the plan its files give: re-plan" in done.stderr
    assert "the files give update package EESSI/2023.06/binary_runtime/Python" in done.stderr
    assert writes(sim_stats(server)) == writes_before


def test_changed_files_another_server_and_wrong_arguments_are_refused(sim, tmp_path):
    server, other = sim(), sim()
    assert reconcile(server, "-f", str(EXAMPLE)).returncode == 0
    desired, saved = edited(tmp_path), tmp_path / "plan.json"
    save_plan(server, desired, saved)

    elsewhere = reconcile(other, "apply", str(saved))
    assert (
        elsewhere.returncode == 4 and f"the plan was made for {server.api_url}" in elsewhere.stderr
    )
    desired.write_text(desired.read_text() + "# reviewed\n")
    changed = reconcile(server, "apply", str(saved), "-o", "json")
    assert changed.returncode == 4
    assert f"desired file {desired} changed since the plan was made" in changed.stderr
    assert changed.stdout == "" and writes(sim_stats(other)) == 0

    both = reconcile(server, "apply", str(saved), "-f", str(desired))
    assert both.returncode == 1 and "not both" in both.stderr
    yaml_given = reconcile(server, "apply", str(desired))
    assert yaml_given.returncode == 1 and f"use `reconcile apply -f {desired}`" in yaml_given.stderr


def test_json_apply_has_no_progress_and_text_apply_has_lines_off_a_terminal(sim, tmp_path):
    server = sim()
    as_json = reconcile(server, "-f", str(EXAMPLE), "-o", "json")
    assert as_json.returncode == 0 and "apply:" not in as_json.stderr
    json.loads(as_json.stdout)
    again = sim()
    as_text = reconcile(again, "-f", str(EXAMPLE), env={"NO_COLOR": ""})
    assert as_text.returncode == 0
    assert "apply: 62 changes to make" in as_text.stderr and "\x1b[" not in as_text.stdout
