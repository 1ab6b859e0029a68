"""The forge tool fetches the reviewed plan only from the named workflow's run for the merged
pull request, and never follows a ``next`` link to another host with the token."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.e2e.fakeforge import GITHUB_TOKEN, WORKFLOW, FakeForge, upload

HEAD, MERGE = "a1" * 20, "b2" * 20


def forge_tool(forge: FakeForge, tmp_path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    env.update(
        {
            "GITHUB_ACTIONS": "true",
            "GITHUB_API_URL": forge.base,
            "GITHUB_REPOSITORY": forge.state.repo,
            "GITHUB_TOKEN": GITHUB_TOKEN,
            "GITHUB_SHA": MERGE,
            "GITHUB_WORKFLOW_REF": f"{forge.state.repo}/{WORKFLOW}@refs/heads/main",
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "reconciler.tools.forge", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def merged(forge: FakeForge) -> None:
    forge.state.pulls[MERGE] = [
        {"number": 7, "merged_at": "2026-01-01", "merge_commit_sha": MERGE, "head": {"sha": HEAD}}
    ]


def test_only_the_named_workflows_plan_is_fetched(tmp_path):
    with FakeForge() as forge:
        merged(forge)
        reviewed = upload(forge, b'{"reviewed": true}', HEAD)
        upload(forge, b'{"planted": true}', HEAD, ".github/workflows/added-in-the-pr.yml")
        out = tmp_path / "plan.json"
        done = forge_tool(forge, tmp_path, "fetch-plan", "--out", str(out))
        assert done.returncode == 0, done.stderr
        assert out.read_bytes() == b'{"reviewed": true}'
        assert f"workflow catalog.yml, run {reviewed}" in done.stdout


def test_a_plan_from_another_workflow_only_is_nothing_reviewed(tmp_path):
    with FakeForge() as forge:
        merged(forge)
        upload(forge, b'{"planted": true}', HEAD, ".github/workflows/added-in-the-pr.yml")
        out = tmp_path / "plan.json"
        done = forge_tool(forge, tmp_path, "fetch-plan", "--out", str(out))
        assert done.returncode == 4, done.stdout + done.stderr
        assert "no plan artifact 'reconcile-plan'" in done.stderr
        assert "from workflow catalog.yml" in done.stderr and not out.exists()


def test_next_links_to_another_host_are_not_followed_with_the_token(tmp_path, recorder):
    with FakeForge() as forge:
        forge.state.comments[7] = [{"id": i, "body": f"LGTM {i}"} for i in range(150)]
        forge.state.next_base = recorder.base_url
        body = tmp_path / "plan.md"
        body.write_text("### Plan\n")
        done = forge_tool(forge, tmp_path, "comment", "--body-file", str(body), "--number", "7")
        assert done.returncode == 1, done.stdout + done.stderr
        assert f"not the forge's API host ({forge.base}" in done.stderr
        assert recorder.requests == []
        assert GITHUB_TOKEN not in done.stdout + done.stderr
