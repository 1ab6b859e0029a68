"""Inside GitHub Actions, for real: the `reconcile` CLI with `GITHUB_ACTIONS=true` and the
`GITHUB_*` files in a temporary directory, against waldur-sim; and the action's own scripted
step (action.yml's `Reconcile`, run by bash as the runner runs it) through the whole reviewed-
plan flow: a pull request plans and comments (one sticky comment), the merge applies exactly
that plan, a stale plan is refused with a message to re-plan, the drift check keeps one issue.
GitHub's API is `fakeforge.FakeForge` on loopback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from tests.ci_files import action_env, action_step, outputs

from .fakeforge import GITHUB_TOKEN, WORKFLOW, FakeForge, upload
from .harness import (
    ROOT,
    cli_env,
    desired_tree,
    plan_json,
    reconcile,
    server_tree,
    sim_stats,
    writes,
)

EXAMPLE = ROOT / "examples" / "targets.yaml"
BIN = str(Path(sys.executable).parent)
HEAD, MERGE = "a1" * 20, "b2" * 20
MARKER = "<!-- waldur-catalog-reconciler -->"
DRIFT_MARKER = "<!-- waldur-catalog-reconciler:drift -->"


def github_files(tmp_path: Path, workspace: Path | None = None) -> dict[str, str]:
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.write_text("")
    output.write_text("")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "GITHUB_WORKSPACE": str(workspace or tmp_path),
    }


def test_plan_and_apply_write_the_job_summary_and_step_outputs(sim, tmp_path):
    server = sim()
    expected = plan_json(server, EXAMPLE)["summary"]
    assert expected["create"] > 0
    plain = reconcile(server, "plan", "-f", str(EXAMPLE))
    env = github_files(tmp_path)

    done = reconcile(server, "plan", "-f", str(EXAMPLE), env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout == plain.stdout  # the log shows what it always shows
    assert "::" not in done.stderr
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    markdown = reconcile(server, "plan", "-f", str(EXAMPLE), "-o", "markdown").stdout
    assert summary.strip() == markdown.strip()
    assert summary.startswith(f"### Plan: {expected['create']} to create")
    assert outputs(Path(env["GITHUB_OUTPUT"])) == {
        "has_changes": "true",
        "create": str(expected["create"]),
        "update": str(expected["update"]),
        "delete": str(expected["delete"]),
        "not_applicable": str(expected["not_applicable"]),
        "exit_code": "0",
    }

    # --detailed-exitcode: the exit code output is the process's
    env = github_files(tmp_path)
    done = reconcile(server, "plan", "-f", str(EXAMPLE), "--detailed-exitcode", env=env)
    assert done.returncode == 2
    assert outputs(Path(env["GITHUB_OUTPUT"]))["exit_code"] == "2"

    env = github_files(tmp_path)
    done = reconcile(server, "apply", "-f", str(EXAMPLE), env=env)
    assert done.returncode == 0, done.stderr
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert f"**Apply: {expected['create']} done, 0 failed" in summary
    assert outputs(Path(env["GITHUB_OUTPUT"]))["has_changes"] == "true"

    env = github_files(tmp_path)
    done = reconcile(server, "plan", "-f", str(EXAMPLE), env=env)
    assert done.returncode == 0
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text().startswith("### No changes.")
    got = outputs(Path(env["GITHUB_OUTPUT"]))
    assert got["has_changes"] == "false" and got["create"] == "0" and got["exit_code"] == "0"


def test_outside_github_actions_nothing_is_written(sim, tmp_path):
    server = sim()
    env = github_files(tmp_path)
    env["GITHUB_ACTIONS"] = "false"
    bad = tmp_path / "bad.yaml"
    bad.write_text("catalogs:\n  - name: EESSI\n    version: 2023.06\n")
    for args in (("plan", "-f", str(EXAMPLE)), ("validate", "-f", str(bad))):
        done = reconcile(server, *args, env=env)
        assert "::error" not in done.stdout + done.stderr
    assert Path(env["GITHUB_STEP_SUMMARY"]).read_text() == ""
    assert Path(env["GITHUB_OUTPUT"]).read_text() == ""


BAD = """\
catalogs:
  - name: EESSI
    version: 2023.06
    packages:
      - name: GROMACS
        homepage: "(none)"
        versions:
          - version: "1"
            release_date: "2024-02-30"
"""


def test_a_bad_file_is_annotated_on_each_problem_line(sim, tmp_path):
    workspace = tmp_path / "repo"
    (workspace / "catalog").mkdir(parents=True)
    bad = workspace / "catalog" / "bad, really: yes.yaml"  # `,` and `:` escaped in file=
    bad.write_text(BAD)
    env = github_files(tmp_path, workspace)
    server = sim()

    done = subprocess.run(
        [str(Path(BIN) / "reconcile"), "validate", "-f", "catalog/"],
        cwd=workspace,
        env=cli_env(None, env=env),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    annotations = [line for line in done.stderr.splitlines() if line.startswith("::")]
    name = "catalog/bad%2C really%3A yes.yaml"
    assert annotations == [
        f"::error file={name},line=3,title=Waldur catalog%3A catalogs[0].version::"
        'must be a string — YAML read 2023.06 as a number; quote it: "2023.06"',
        f"::error file={name},line=6,title=Waldur catalog%3A catalogs[0].packages[0].homepage::"
        + annotations[1].split("::", 2)[2],
        f"::error file={name},line=9,title=Waldur catalog%3A "
        "catalogs[0].packages[0].versions[0].release_date::" + annotations[2].split("::", 2)[2],
    ]
    assert "'(none)' is not a URL" in annotations[1]
    assert "'2024-02-30' is not a valid date" in annotations[2]
    # the normal message is still there, unchanged
    assert done.stderr.startswith("error: 3 errors in the desired state:\n")

    # plan (absolute path given): the same annotations, relative to the workspace; the exit
    # code as a step output and the error in the summary
    done = reconcile(server, "plan", "-f", str(bad), env=env)
    assert done.returncode == 1
    assert [line for line in done.stderr.splitlines() if line.startswith("::")] == annotations
    assert outputs(Path(env["GITHUB_OUTPUT"])) == {"exit_code": "1"}
    summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert summary.startswith("### reconcile plan: exit 1") and "release_date" in summary


def test_other_errors_are_one_annotation_and_never_show_the_token(sim, tmp_path):
    server = sim()
    env = github_files(tmp_path)
    done = reconcile(server, "apply", "-f", str(EXAMPLE), token="secret-canary-123", env=env)
    assert done.returncode == 1
    (annotation,) = [line for line in done.stderr.splitlines() if line.startswith("::")]
    assert annotation.startswith("::error title=Waldur catalog::")
    assert "token" in annotation
    assert "secret-canary-123" not in done.stderr + Path(env["GITHUB_STEP_SUMMARY"]).read_text()
    assert outputs(Path(env["GITHUB_OUTPUT"])) == {"exit_code": "1"}


# -- the action's scripted step --------------------------------------------------------------


class Runner:
    """Runs action.yml's `Reconcile` step as GitHub's runner does (`bash --noprofile --norc
    -eo pipefail FILE`), with its `env:` from the inputs and the runner's variables."""

    def __init__(self, tmp_path: Path, server, forge: FakeForge) -> None:
        self.tmp = tmp_path
        self.server = server
        self.forge = forge
        self.workspace = tmp_path / "repo"
        (self.workspace / "catalog").mkdir(parents=True)
        shutil.copy(EXAMPLE, self.workspace / "catalog" / "targets.yaml")
        self.step = action_step("run")
        self.runs = 0

    def run(
        self, inputs: dict[str, str], event: str, sha: str, token: str | None = None
    ) -> tuple[subprocess.CompletedProcess[str], dict[str, str], str]:
        self.runs += 1
        job = self.tmp / f"job{self.runs}"
        job.mkdir()
        event_file = job / "event.json"
        event_file.write_text(json.dumps({"pull_request": {"number": 7}} if event else {}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "WALDUR_"))}
        env.update(github_files(job, self.workspace))
        env.update(
            {
                "PATH": f"{BIN}:{env['PATH']}",
                "RUNNER_TEMP": str(job),
                "GITHUB_ACTION_PATH": str(ROOT),
                "GITHUB_EVENT_NAME": event or "push",
                "GITHUB_EVENT_PATH": str(event_file),
                "GITHUB_REPOSITORY": self.forge.state.repo,
                "GITHUB_API_URL": self.forge.base,
                "GITHUB_SERVER_URL": "https://github.example",
                "GITHUB_RUN_ID": str(1000 + self.runs),
                "GITHUB_WORKFLOW_REF": f"{self.forge.state.repo}/{WORKFLOW}@refs/heads/main",
                "GITHUB_SHA": sha,
                "WALDUR_API_TOKEN": token or self.server.staff_token,
                "RECONCILE_LOCK_DIR": str(job),
                "RECONCILE_NO_CACHE": "1",
            }
        )
        env.update(
            action_env(
                self.step, {"api-url": self.server.api_url, "github-token": GITHUB_TOKEN, **inputs}
            )
        )
        script = job / "step.sh"
        script.write_text(self.step["run"])
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=self.workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text()
        return done, outputs(Path(env["GITHUB_OUTPUT"])), summary

    def upload(self, plan_file: str, head_sha: str, workflow: str = WORKFLOW) -> None:
        """What actions/upload-artifact does with the plan: an artifact of this pull-request
        run of `workflow`."""
        upload(self.forge, (self.workspace / plan_file).read_bytes(), head_sha, workflow)

    def merge(self, head_sha: str, merge_sha: str) -> None:
        self.forge.state.pulls[merge_sha] = [
            {
                "number": 7,
                "merged_at": "2026-01-01T00:00:00Z",
                "merge_commit_sha": merge_sha,
                "head": {"sha": head_sha},
            }
        ]


def test_the_action_plans_comments_once_applies_the_reviewed_plan_and_refuses_a_stale_one(
    sim, tmp_path
):
    server = sim()
    with FakeForge() as forge:
        forge.state.comments[7] = [{"id": i, "body": f"LGTM {i}"} for i in range(150)]
        runner = Runner(tmp_path, server, forge)
        expected = plan_json(server, EXAMPLE)["summary"]

        # the pull request: plan, comment, keep plan.json — and again after a second push
        for _ in range(2):
            done, out, summary = runner.run({"mode": "plan"}, "pull_request", HEAD)
            assert done.returncode == 0, done.stdout + done.stderr
            assert out["plan-file"] == "plan.json" and out["has_changes"] == "true"
            assert out["create"] == str(expected["create"]) and out["exit_code"] == "2"
            assert summary.startswith(f"### Plan: {expected['create']} to create")
            assert (runner.workspace / "plan.json").is_file()
        mine = [c for c in forge.state.comments[7] if MARKER in c["body"]]
        assert len(mine) == 1 and len(forge.state.comments[7]) == 151  # updated, not added
        body = mine[0]["body"]
        assert f"### Plan: {expected['create']} to create" in body
        assert f"commit `{HEAD[:12]}`" in body and "/actions/runs/1002" in body
        patches = [s for s in forge.state.seen if s.method == "PATCH"]
        assert len(patches) == 1 and all(s.authorised for s in forge.state.seen)
        assert server_tree(server.api_url) == set()  # a plan writes nothing

        # the merge: apply exactly the reviewed plan.json of the pull request's last commit
        runner.upload("plan.json", HEAD)
        runner.merge(HEAD, MERGE)
        done, out, summary = runner.run({"mode": "apply"}, "", MERGE)
        assert done.returncode == 0, done.stdout + done.stderr
        assert server_tree(server.api_url) == desired_tree(EXAMPLE)
        assert out["exit_code"] == "0" and out["create"] == str(expected["create"])
        assert f"**Apply: {expected['create']} done, 0 failed" in summary
        (blob,) = [s for s in forge.state.seen if s.path.startswith("/blob/")]
        assert not blob.authorised  # the token never went to the artifact's storage

        # a second pull request edits a description; something else edits the catalog on
        # main before its merge: the reviewed plan no longer holds, nothing is applied
        path = runner.workspace / "catalog" / "targets.yaml"
        doc = yaml.safe_load(path.read_text())
        doc["catalogs"][0]["packages"][0]["description"] = "Reviewed description."
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        head2, merge2 = "c3" * 20, "d4" * 20
        done, out, _ = runner.run({"mode": "plan"}, "pull_request", head2)
        assert done.returncode == 0 and out["update"] == "1", done.stderr
        runner.upload("plan.json", head2)
        runner.merge(head2, merge2)
        doc["catalogs"][0]["packages"][0]["description"] = "Changed after the review."
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        before, writes_before = server_tree(server.api_url), writes(sim_stats(server))
        done, out, summary = runner.run({"mode": "apply"}, "", merge2)
        assert done.returncode == 4, done.stdout + done.stderr
        assert "no longer holds, so nothing was written" in done.stderr
        assert "::error title=Reviewed plan is stale::Nothing was applied (exit 4)" in done.stdout
        assert "re-plan" in done.stdout and out["exit_code"] == "4"
        assert "### reconcile apply: exit 4" in summary
        assert server_tree(server.api_url) == before
        assert writes(sim_stats(server)) == writes_before

        # a commit that merged no pull request: nothing was reviewed, nothing is applied
        done, out, _ = runner.run({"mode": "apply"}, "", "e5" * 20)
        assert done.returncode == 4
        assert "merged no pull request" in done.stderr
        assert "::error title=No reviewed plan::" in done.stdout and out["exit_code"] == "4"
        assert writes(sim_stats(server)) == writes_before


def test_the_action_keeps_one_drift_issue(sim, tmp_path):
    server = sim()
    with FakeForge() as forge:
        runner = Runner(tmp_path, server, forge)
        assert reconcile(server, "apply", "-f", str(EXAMPLE)).returncode == 0

        done, out, _ = runner.run({"mode": "drift"}, "", MERGE)
        assert done.returncode == 0, done.stderr
        assert out["drift"] == "false" and forge.state.issues == []

        headers = {"Authorization": f"Token {server.staff_token}"}
        url = server.api_url + "marketplace-software-packages/"
        (found,) = httpx.get(url, params={"name_exact": "GROMACS"}, timeout=10).json()
        assert httpx.patch(found["url"], json={"description": "web UI"}, headers=headers).is_success
        for _ in range(2):
            done, out, _ = runner.run({"mode": "drift"}, "", MERGE)
            assert done.returncode == 0, done.stderr
            assert out["drift"] == "true" and out["exit_code"] == "2"
        (issue,) = forge.state.issues
        assert issue["state"] == "open" and DRIFT_MARKER in issue["body"]
        assert "### Plan: 0 to create, 1 to update" in issue["body"]

        assert reconcile(server, "apply", "-f", str(EXAMPLE)).returncode == 0
        done, out, _ = runner.run({"mode": "drift"}, "", MERGE)
        assert done.returncode == 0 and out["drift"] == "false"
        assert forge.state.issues[0]["state"] == "closed"
        assert "closed drift issue #1" in done.stdout


def test_a_plan_that_fails_comments_the_error_and_keeps_no_plan(sim, tmp_path):
    server = sim()
    with FakeForge() as forge:
        runner = Runner(tmp_path, server, forge)
        (runner.workspace / "catalog" / "bad.yaml").write_text(BAD)
        done, out, _ = runner.run({"mode": "plan"}, "pull_request", HEAD)
        assert done.returncode == 1
        assert "plan-file" not in out and out["exit_code"] == "1"
        assert "::error file=catalog/bad.yaml,line=3," in done.stderr  # annotations reach the log
        (comment,) = forge.state.comments[7]
        assert "reconcile plan failed (exit 1)" in comment["body"]
        assert "catalog/bad.yaml:3: catalogs[0].version" in comment["body"]
        assert "::error" not in comment["body"]


def test_the_drift_check_counts_a_newer_loader_version_when_asked(sim, tmp_path):
    server = sim("--dialect", "current", "--load-seconds", "0.2")
    with FakeForge() as forge:
        runner = Runner(tmp_path, server, forge)
        (runner.workspace / "catalog" / "targets.yaml").unlink()
        loaders = runner.workspace / "catalog" / "loaders.yaml"
        eessi = {"name": "EESSI", "version": "2023.06", "loader": "eessi"}
        loaders.write_text(yaml.safe_dump({"catalogs": [eessi]}))
        assert reconcile(server, "apply", "-f", str(loaders)).returncode == 0

        done, out, _ = runner.run({"mode": "drift"}, "", MERGE)
        assert done.returncode == 0 and out["drift"] == "false", done.stderr
        done, out, _ = runner.run({"mode": "drift", "loader-updates": "true"}, "", MERGE)
        assert done.returncode == 0, done.stderr
        assert out["drift"] == "true"
        (issue,) = forge.state.issues
        assert "### Waldur's catalog loaders" in issue["body"]
        assert "Update available (EESSI 2025.06)" in issue["body"]
