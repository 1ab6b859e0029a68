"""The GitHub Action with a project file: `environment:` plans each environment of
examples/project against its own waldur-sim, one sticky comment per environment (each found
again by its own marker on the next push), one plan artifact per environment, and the apply of
production's reviewed plan lands on production only."""

from __future__ import annotations

import pytest
import yaml

from .fakeforge import FakeForge
from .test_environments import _linked, project
from .test_github import HEAD, MERGE, Runner

MARKERS = {
    env: f"<!-- waldur-catalog-reconciler:env={env} -->" for env in ("staging", "production")
}


def test_each_environment_has_its_own_comment_and_reviewed_plan(sim, tmp_path):
    staging = sim("--offering", "HPC cluster staging")
    production = sim("--offering", "HPC cluster A")
    with FakeForge() as forge:
        runner = Runner(tmp_path, staging, forge)
        root = project(tmp_path / "src", staging.api_url, production.api_url)
        for item in root.iterdir():
            target = runner.workspace / item.name
            if item.is_dir():
                target.mkdir()
                for file in item.iterdir():
                    (target / file.name).write_bytes(file.read_bytes())
            else:
                target.write_bytes(item.read_bytes())
        # the runner passes no WALDUR_* variable of the test's own: these names get through
        path = runner.workspace / "reconcile.yaml"
        doc = yaml.safe_load(path.read_text())
        for name, env in doc["environments"].items():
            env["token_env"] = f"CATALOG_{name.upper()}_TOKEN"
        path.write_text(yaml.safe_dump(doc, sort_keys=False))
        tokens = {
            "CATALOG_STAGING_TOKEN": staging.staff_token,
            "CATALOG_PRODUCTION_TOKEN": production.staff_token,
        }

        def run(mode: str, env: str, event: str, sha: str):
            with pytest.MonkeyPatch.context() as patch:
                for name, value in tokens.items():
                    patch.setenv(name, value)
                return runner.run({"mode": mode, "environment": env, "api-url": ""}, event, sha)

        for _ in range(2):  # two pushes to the pull request: comments updated, not added
            for env in ("staging", "production"):
                done, out, _ = run("plan", env, "pull_request", HEAD)
                assert done.returncode == 0, done.stdout + done.stderr
                assert out["has_changes"] == "true"
        comments = forge.state.comments[7]
        assert len(comments) == 2
        for env, marker in MARKERS.items():
            (mine,) = [c for c in comments if marker in c["body"]]
            assert f"Environment {env}" in mine["body"] and f"({env})" in mine["body"]
        assert "→ HPC cluster A" in next(c for c in comments if "production" in c["body"])["body"]

        # the merge: production's reviewed plan is applied to production, and only there
        runner.upload("plan.json", HEAD)  # the last plan run was production's
        forge.state.artifacts[-1]["name"] = "reconcile-plan-production"
        runner.merge(HEAD, MERGE)
        done, out, _ = run("apply", "production", "", MERGE)
        assert done.returncode == 0, done.stdout + done.stderr
        assert _linked(production) == {"HPC cluster A"}
        assert _linked(staging) == set()
        for token in tokens.values():
            assert token not in done.stdout + done.stderr
