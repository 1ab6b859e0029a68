"""The GitLab CI/CD component for real: templates/reconcile/template.yml rendered with its
inputs as GitLab interpolates them, each job's script run by a POSIX shell (`sh -e`, as the
runner runs it where bash is missing) with GitLab's predefined variables, against waldur-sim
and `fakeforge.FakeForge` standing in for GitLab's API: the merge request's one note, the
merge applying exactly the reviewed plan.json, a stale plan refused, the drift issue."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import yaml
from packaging.requirements import Requirement

from tests.ci_files import component_documents, job_script, job_variables, render_component

from .fakeforge import GITLAB_TOKEN, FakeForge
from .harness import ROOT, desired_tree, plan_json, reconcile, server_tree, sim_stats, writes

EXAMPLE = ROOT / "examples" / "targets.yaml"
BIN = str(Path(sys.executable).parent)
HEAD, MERGE = "a1" * 20, "b2" * 20
MARKER = "<!-- waldur-catalog-reconciler -->"


def test_the_component_declares_its_inputs_and_jobs():
    spec, _ = component_documents()
    inputs = spec["spec"]["inputs"]
    assert {"files", "api-url", "package", "reviewed-plan", "changes"} <= set(inputs)
    requirement = Requirement(inputs["package"]["default"])
    assert requirement.name == "waldur-catalog-reconciler" and requirement.url
    jobs = render_component({"job-prefix": "waldur", "files": "a/ b/"})
    assert {"waldur-plan", "waldur-apply", "waldur-drift"} <= set(jobs)
    plan, apply = jobs["waldur-plan"], jobs["waldur-apply"]
    assert plan["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    assert plan["artifacts"]["paths"] == ["plan.json", "plan.md"]
    assert "--out plan.json" in job_script(jobs, "waldur-plan")
    assert apply["resource_group"] and apply["environment"]["name"] == "production"
    assert "$CI_DEFAULT_BRANCH" in apply["rules"][0]["if"]
    assert jobs["waldur-drift"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert job_variables(jobs, "waldur-apply")["CATALOG_PLAN_JOB"] == "waldur-plan"
    assert job_script(jobs, "waldur-plan").startswith(
        'python -m pip install --quiet "$CATALOG_PACKAGE"'
    )


class Runner:
    def __init__(self, tmp_path: Path, server, forge: FakeForge) -> None:
        self.tmp = tmp_path
        self.server = server
        self.forge = forge
        self.jobs = render_component()
        self.runs = 0

    def checkout(self) -> Path:
        """A fresh clone of the project for each job (the runner's build directory)."""
        self.runs += 1
        project = self.tmp / f"build{self.runs}"
        (project / "catalog").mkdir(parents=True)
        shutil.copy(self.tmp / "targets.yaml", project / "catalog" / "targets.yaml")
        return project

    def run(
        self, job: str, sha: str, mr: int | None = None, token: str | None = None
    ) -> tuple[subprocess.CompletedProcess[str], Path]:
        project = self.checkout()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_", "WALDUR_"))}
        env.update(job_variables(self.jobs, job))
        env.update(
            {
                "PATH": f"{BIN}:{env['PATH']}",
                "GITLAB_CI": "true",
                "CI_API_V4_URL": self.forge.base + "/api/v4",
                "CI_PROJECT_ID": self.forge.state.project,
                "CI_COMMIT_SHA": sha,
                "CI_JOB_URL": f"https://gitlab.example/acme/catalog/-/jobs/{self.runs}",
                "GITLAB_TOKEN": token if token is not None else GITLAB_TOKEN,
                "WALDUR_API_URL": self.server.api_url,
                "WALDUR_API_TOKEN": self.server.staff_token,
                "WALDUR_API_PLAN_TOKEN": self.server.staff_token,
                "RECONCILE_LOCK_DIR": str(project),
                "RECONCILE_NO_CACHE": "1",
            }
        )
        if mr is not None:
            env["CI_MERGE_REQUEST_IID"] = str(mr)
        script = "\n".join(self.jobs[job]["script"])  # before_script installs: done already
        done = subprocess.run(
            ["sh", "-e", "-c", script],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        return done, project

    def keep(self, project: Path, head: str, pipeline: int, job_id: int) -> None:
        """The plan job's artifacts, as GitLab keeps them for its pipeline."""
        s = self.forge.state
        s.pipelines.setdefault(3, []).insert(0, {"id": pipeline, "sha": head, "status": "success"})
        s.jobs[pipeline] = [{"id": job_id, "name": "catalog-plan", "status": "success"}]
        s.job_files[(job_id, "plan.json")] = (project / "plan.json").read_bytes()

    def merge(self, head: str, merge: str) -> None:
        self.forge.state.mrs[merge] = [
            {"iid": 3, "state": "merged", "sha": head, "merge_commit_sha": merge}
        ]


def test_the_component_notes_the_plan_once_and_applies_exactly_the_reviewed_plan(sim, tmp_path):
    server = sim()
    shutil.copy(EXAMPLE, tmp_path / "targets.yaml")
    expected = plan_json(server, EXAMPLE)["summary"]
    with FakeForge() as forge:
        forge.state.notes[3] = [{"id": i, "body": f"note {i}"} for i in range(120)]
        runner = Runner(tmp_path, server, forge)
        for _ in range(2):
            done, project = runner.run("catalog-plan", HEAD, mr=3)
            assert done.returncode == 0, done.stdout + done.stderr
            assert (project / "plan.json").is_file() and (project / "plan.md").is_file()
        mine = [n for n in forge.state.notes[3] if MARKER in n["body"]]
        assert len(mine) == 1 and len(forge.state.notes[3]) == 121
        assert f"### Plan: {expected['create']} to create" in mine[0]["body"]
        assert "[job](https://gitlab.example/acme/catalog/-/jobs/2)" in mine[0]["body"]
        assert [s.method for s in forge.state.seen].count("PUT") == 1
        assert server_tree(server.api_url) == set()

        runner.keep(project, HEAD, pipeline=77, job_id=501)
        runner.merge(HEAD, MERGE)
        done, _ = runner.run("catalog-apply", MERGE)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "fetched the plan reviewed in merge request !3" in done.stdout
        assert server_tree(server.api_url) == desired_tree(EXAMPLE)
        assert all(s.authorised for s in forge.state.seen)

        # a new merge request's plan, then the catalog changes on the server before its merge
        doc = yaml.safe_load((tmp_path / "targets.yaml").read_text())
        doc["catalogs"][0]["packages"][0]["description"] = "Reviewed description."
        (tmp_path / "targets.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
        head2, merge2 = "c3" * 20, "d4" * 20
        done, project = runner.run("catalog-plan", head2, mr=3)
        assert done.returncode == 0, done.stderr
        runner.keep(project, head2, pipeline=78, job_id=502)
        runner.merge(head2, merge2)
        name = doc["catalogs"][0]["packages"][0]["name"]
        url = server.api_url + "marketplace-software-packages/"
        (found,) = httpx.get(url, params={"name_exact": name}, timeout=10).json()
        headers = {"Authorization": f"Token {server.staff_token}"}
        assert httpx.patch(found["url"], json={"description": "web UI"}, headers=headers).is_success
        before, writes_before = server_tree(server.api_url), writes(sim_stats(server))
        done, _ = runner.run("catalog-apply", merge2)
        assert done.returncode == 4, done.stdout + done.stderr
        assert "the plan file does not match the plan its files give: re-plan" in done.stderr
        assert "re-plan: open a merge request, review its new plan, merge" in done.stdout
        assert server_tree(server.api_url) == before
        assert writes(sim_stats(server)) == writes_before

        # no merge request merged by this commit: nothing reviewed, nothing applied
        done, _ = runner.run("catalog-apply", "e5" * 20)
        assert done.returncode == 4 and "merged no merge request" in done.stderr
        assert writes(sim_stats(server)) == writes_before


def test_the_component_keeps_one_drift_issue_and_skips_notes_without_a_token(sim, tmp_path):
    server = sim()
    shutil.copy(EXAMPLE, tmp_path / "targets.yaml")
    with FakeForge() as forge:
        runner = Runner(tmp_path, server, forge)
        done, _ = runner.run("catalog-plan", HEAD, mr=3, token="")
        assert done.returncode == 0, done.stderr
        assert "GITLAB_TOKEN is not set" in done.stdout and forge.state.seen == []

        assert reconcile(server, "apply", "-f", str(EXAMPLE)).returncode == 0
        url = server.api_url + "marketplace-software-packages/"
        (found,) = httpx.get(url, params={"name_exact": "GROMACS"}, timeout=10).json()
        headers = {"Authorization": f"Token {server.staff_token}"}
        assert httpx.patch(found["url"], json={"description": "web UI"}, headers=headers).is_success
        for _ in range(2):
            done, _ = runner.run("catalog-drift", MERGE)
            assert done.returncode == 0, done.stdout + done.stderr
        (issue,) = forge.state.gitlab_issues
        assert issue["state"] == "opened" and issue["labels"] == ["catalog-drift"]
        assert "### Plan: 0 to create, 1 to update" in issue["description"]

        assert reconcile(server, "apply", "-f", str(EXAMPLE)).returncode == 0
        done, _ = runner.run("catalog-drift", MERGE)
        assert done.returncode == 0 and "closed drift issue #1" in done.stdout
        assert issue["state"] == "closed" and "No drift any more" in issue["notes"][0]
