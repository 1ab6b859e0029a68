"""Environments end to end: one catalog repository (examples/project), two waldur-sims as
staging and production, the project file's values landing on the right server, and a saved
plan of one environment refused on the other."""

from __future__ import annotations

import json
import shutil
import signal
from pathlib import Path

import pytest
import yaml

from .harness import ROOT, reconcile
from .test_offering_links import links_on_server

EXAMPLE = ROOT / "examples" / "project"


def project(tmp_path: Path, staging: str, production: str) -> Path:
    """examples/project, copied, pointed at the two sims."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    doc = yaml.safe_load((root / "reconcile.yaml").read_text())
    doc["environments"]["staging"]["api_url"] = staging
    doc["environments"]["production"]["api_url"] = production
    (root / "reconcile.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return root


def test_all_envs_values_and_saved_plan_refused_elsewhere(sim, tmp_path):
    staging = sim("--offering", "HPC cluster staging")
    production = sim("--offering", "HPC cluster A")
    root = project(tmp_path, staging.api_url, production.api_url)
    tokens = {
        "WALDUR_STAGING_TOKEN": staging.staff_token,
        "WALDUR_PRODUCTION_TOKEN": production.staff_token,
    }

    done = reconcile(None, "plan", "--all-envs", env=tokens, cwd=root)
    assert done.returncode == 0, done.stderr
    table = done.stdout[done.stdout.rindex("environment  server") :].splitlines()
    assert table[1].split()[:2] == ["staging", staging.api_url]
    assert table[2].split()[:2] == ["production", production.api_url]
    assert "→ HPC cluster staging" in done.stdout and "→ HPC cluster A" in done.stdout

    # Each environment's value (the offering's name) lands on its own server.
    for name, sim_ in (("staging", staging), ("production", production)):
        done = reconcile(None, "apply", "--env", name, env=tokens, cwd=root)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith(f"Environment {name} ({sim_.api_url})")
    plan = json.loads(
        reconcile(None, "plan", "--all-envs", "-o", "json", env=tokens, cwd=root).stdout
    )
    assert [row["result"] for row in plan["summary"]] == ["in sync", "in sync"]
    assert _linked(staging) == {"HPC cluster staging"}
    assert _linked(production) == {"HPC cluster A"}

    # A saved plan of staging is refused on production (exit 4), and applies on staging.
    catalog = root / "catalogs" / "eessi.yaml"
    catalog.write_text(catalog.read_text().replace("GROMACS", "GROMACS-new"))
    saved = tmp_path / "staging.plan.json"
    done = reconcile(None, "plan", "--env", "staging", "--out", str(saved), env=tokens, cwd=root)
    assert done.returncode == 0, done.stderr
    assert json.loads(saved.read_text())["environment"] == "staging"
    refused = reconcile(None, "apply", str(saved), "--env", "production", env=tokens, cwd=root)
    assert refused.returncode == 4, refused.stderr
    assert "made for the environment staging, not production" in refused.stderr
    applied = reconcile(None, "apply", str(saved), env=tokens, cwd=root)
    assert applied.returncode == 0, applied.stderr
    for secret in tokens.values():
        assert secret not in done.stdout + done.stderr + refused.stderr + applied.stdout


def test_without_a_project_file_and_with_a_bad_one(sim, tmp_path):
    server = sim()
    plain = tmp_path / "plain.yaml"
    plain.write_text((ROOT / "examples" / "targets.yaml").read_text())
    done = reconcile(server, "plan", "-f", str(plain), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert not done.stdout.startswith("Environment")

    missing = reconcile(server, "plan", "--env", "staging", cwd=tmp_path)
    assert missing.returncode == 1 and "needs a project file" in missing.stderr

    (tmp_path / "reconcile.yaml").write_text(
        "environments:\n  staging:\n    api_url: http://127.0.0.1:1/api/\n    tokn_env: X\n"
    )
    bad = reconcile(server, "plan", "--env", "staging", cwd=tmp_path)
    assert bad.returncode == 1
    assert "reconcile.yaml:4: environments.staging.tokn_env: unknown field" in bad.stderr
    assert "Traceback" not in bad.stderr


@pytest.mark.parametrize("api_url_given", [False, True], ids=["project-url", "api-url-too"])
def test_a_daemon_of_an_environment_uses_its_server_and_token(
    sim, daemons, tmp_path, api_url_given
):
    """`reconcile daemon --env staging` with neither WALDUR_API_URL nor WALDUR_API_TOKEN: the
    project file gives the server and the token's variable. It starts, its first run applies
    with them, and so does the run after a SIGHUP (the reload of the token); the request
    counters go on across both. With --api-url (the same server) given too, the same."""
    staging = sim("--offering", "HPC cluster staging")
    root = project(tmp_path, staging.api_url, "http://127.0.0.1:1/api/")
    given = ("--api-url", staging.api_url) if api_url_given else ()
    d = daemons(
        None,
        None,
        [],
        "--env",
        "staging",
        "--interval",
        "1h",
        *given,
        env={"WALDUR_STAGING_TOKEN": staging.staff_token},
        cwd=root,
    )
    (first,) = d.wait_runs(1)
    assert first["result"] == "success", "".join(d.raw[-10:])
    status = d.get("status.json").json()
    assert status["environment"] == "staging"
    assert status["runs"][0]["result"] == "success"
    assert status["runs"][0]["changes"]["create"] > 0
    assert _linked(staging) == {"HPC cluster staging"}
    requests = d.metric("reconcile_http_requests_total", env="staging", method="GET", status="200")
    assert requests > 0

    d.proc.send_signal(signal.SIGHUP)
    d.wait_for(lambda e: e.get("event", "").startswith("SIGHUP: re-read"))
    (_, second) = d.wait_runs(2)
    assert second["result"] == "success", "".join(d.raw[-10:])
    status = d.get("status.json").json()
    assert status["runs"][0]["result"] == "success"
    assert status["runs"][0]["planned"]["create"] == 0  # in sync: nothing left to do
    assert (
        d.metric("reconcile_http_requests_total", env="staging", method="GET", status="200")
        > requests
    )
    assert d.get("readyz").json() == {"ready": True, "reason": "ok"}
    assert "client has been closed" not in "".join(d.raw)
    assert staging.staff_token not in "".join(d.raw) + d.get("").text
    code, _ = d.terminate()
    assert code == 0


def _linked(server) -> set[str]:
    """The offerings that expose a catalog on `server` (read with plain HTTP)."""
    return {name for name, catalogs in links_on_server(server).items() if catalogs}
