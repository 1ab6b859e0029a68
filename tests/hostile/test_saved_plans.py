"""A saved plan applies only as it was reviewed: a plan file edited after the review (a value
changed to an attacker's URL, a create added, a delete widened) is refused with exit 4 and
the server is left as it was (waldur-sim counts zero writes)."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.e2e.harness import (
    ROOT,
    edited_example,
    reconcile,
    server_tree,
    sim_stats,
    write_yaml,
    writes,
)

EXAMPLE = ROOT / "examples" / "targets.yaml"
REFUSAL = "the plan file does not match the plan its files give: re-plan"


def reviewed(sim, tmp_path):
    """A server holding the example, and a saved plan with an update, creates and a delete."""
    server = sim()
    assert reconcile(server, "-f", str(EXAMPLE)).returncode == 0
    desired = edited_example(tmp_path / "desired.yaml", homepage="https://www.gromacs.org/reviewed")
    saved = tmp_path / "plan.json"
    done = reconcile(server, "plan", "-f", str(desired), "--out", str(saved))
    assert done.returncode == 0, done.stderr
    return server, saved


def change_value(document: dict) -> str:
    update = next(c for c in document["changes"] if c["action"] == "update")
    update["fields"][0]["new"] = update["after"]["homepage"] = "https://evil.example.com/"
    return "the plan file's update package EESSI/2023.06/binary_runtime/GROMACS differs"


def add_create(document: dict) -> str:
    new = next(c for c in document["changes"] if c["key"].get("package") == "New")
    backdoor = json.loads(json.dumps(new))
    backdoor["key"]["package"] = "Backdoor"
    document["changes"].append(backdoor)
    return "has create package EESSI/2023.06/binary_runtime/Backdoor, which the files do not give"


def widen_delete(document: dict) -> str:
    delete = next(c for c in document["changes"] if c["action"] == "delete")
    delete["cascade"] = 1000
    return "differs from the files' (in cascade)"


def both(document: dict) -> str:
    add_create(document)
    return change_value(document)


@pytest.mark.parametrize("edit", [change_value, add_create, widen_delete, both])
def test_an_edited_plan_file_is_refused_and_nothing_is_written(sim, tmp_path, edit):
    server, saved = reviewed(sim, tmp_path)
    document = json.loads(saved.read_text())
    expected = edit(document)
    saved.write_text(json.dumps(document, indent=2))
    before, writes_before = server_tree(server.api_url), writes(sim_stats(server))

    done = reconcile(server, "apply", str(saved))
    assert done.returncode == 4, done.stdout + done.stderr
    assert REFUSAL in done.stderr and expected in done.stderr, done.stderr
    assert writes(sim_stats(server)) == writes_before
    assert server_tree(server.api_url) == before


def test_the_reviewed_plan_itself_applies(sim, tmp_path):
    server, saved = reviewed(sim, tmp_path)
    done = reconcile(server, "apply", str(saved))
    assert done.returncode == 0, done.stdout + done.stderr
    again = reconcile(server, "apply", str(saved))
    assert again.returncode == 4  # once applied, the files give another (empty) plan


def test_edited_values_with_the_matching_change_are_refused(sim, tmp_path):
    """The plan file's `values` are not trusted: an edit that changes a value and the change
    it gives, consistently, is refused (the values come from the project file as it is)."""
    server = sim()
    assert reconcile(server, "-f", str(EXAMPLE)).returncode == 0
    root = tmp_path / "repo"
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["catalogs"][0]["packages"][0]["homepage"] = "{{ values.home }}"
    (root / "catalogs").mkdir(parents=True)
    write_yaml(root / "catalogs" / "eessi.yaml", doc)
    project = {
        "files": ["catalogs/"],
        "environments": {
            "production": {
                "api_url": server.api_url,
                "token_env": "WALDUR_PRODUCTION_TOKEN",
                "values": {"home": "https://www.gromacs.org/reviewed"},
            }
        },
    }
    write_yaml(root / "reconcile.yaml", project)
    tokens = {"WALDUR_PRODUCTION_TOKEN": server.staff_token}
    saved = tmp_path / "plan.json"
    done = reconcile(None, "plan", "--env", "production", "--out", str(saved), env=tokens, cwd=root)
    assert done.returncode == 0, done.stderr
    document = json.loads(saved.read_text())
    assert document["values"] == {"home": "https://www.gromacs.org/reviewed"}
    document["values"]["home"] = "https://evil.example.com/"
    change_value(document)  # the update, edited to what the edited value gives
    saved.write_text(json.dumps(document, indent=2))
    before, writes_before = server_tree(server.api_url), writes(sim_stats(server))

    done = reconcile(None, "apply", str(saved), env=tokens, cwd=root)
    assert done.returncode == 4, done.stdout + done.stderr
    assert "nothing was written" in done.stderr, done.stderr
    assert (
        "the value home is 'https://evil.example.com/' in the plan file, "
        "'https://www.gromacs.org/reviewed' in the environment production" in done.stderr
    ), done.stderr
    assert writes(sim_stats(server)) == writes_before
    assert server_tree(server.api_url) == before
