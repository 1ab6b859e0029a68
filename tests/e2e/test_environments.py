"""Environments end to end: one catalog repository (examples/project), two waldur-sims as
staging and production, the project file's values landing on the right server, and a saved
plan of one environment refused on the other."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

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


def _linked(server) -> set[str]:
    """The offerings that expose a catalog on `server` (read with plain HTTP)."""
    return {name for name, catalogs in links_on_server(server).items() if catalogs}
