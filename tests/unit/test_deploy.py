"""The files in deploy/ are checked, not just shipped."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from reconciler.settings import OPTIONS
from tests.gitserver import need

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
MANIFESTS = sorted(
    p for p in (DEPLOY / "kubernetes").glob("*.yaml") if p.name != "kustomization.yaml"
)
UNITS = sorted([*(DEPLOY / "systemd").glob("*.service"), *(DEPLOY / "systemd").glob("*.timer")])
BIN = Path(sys.executable).parent


def test_there_is_something_to_check():
    assert len(YAML_FILES) >= 8 and len(MANIFESTS) >= 4 and len(UNITS) == 4


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_yaml_parses(path):
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert docs and all(isinstance(d, dict) for d in docs)


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_kubernetes_manifests_validate_against_the_schemas(path):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_kustomization_lists_existing_files():
    kustomization = yaml.safe_load((DEPLOY / "kubernetes" / "kustomization.yaml").read_text())
    for resource in kustomization["resources"]:
        assert (DEPLOY / "kubernetes" / resource).is_file()


def test_daemon_deployment_is_what_operators_expect():
    dep = yaml.safe_load((DEPLOY / "kubernetes" / "deployment.yaml").read_text())
    spec = dep["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"
    pod = spec["template"]["spec"]
    container = pod["containers"][0]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert "WALDUR_API_TOKEN" not in env and env["WALDUR_API_TOKEN_FILE"].startswith("/secrets")
    cron = yaml.safe_load((DEPLOY / "kubernetes" / "cronjob.yaml").read_text())
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"


def test_configmap_desired_state_is_valid(tmp_path):
    cm = yaml.safe_load((DEPLOY / "kubernetes" / "configmap.yaml").read_text())
    for name, text in cm["data"].items():
        (tmp_path / name).write_text(text)
    done = subprocess.run(
        [str(BIN / "reconcile"), "validate", "-f", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_systemd_units_verify(tmp_path):
    analyze = need("systemd-analyze", "apt-get install systemd")
    for unit in UNITS:
        text = unit.read_text().replace("/usr/local/bin/reconcile", str(BIN / "reconcile"))
        (tmp_path / unit.name).write_text(text)
    done = subprocess.run(
        [analyze, "verify", *(u.name for u in UNITS)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    daemon = (DEPLOY / "systemd" / "reconcile-daemon.service").read_text()
    for hardening in ("DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes"):
        assert hardening in daemon


def test_dockerfile_names_commands_that_exist():
    text = (DEPLOY / "Dockerfile").read_text()
    entry = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1))
    cmd = json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1))
    assert entry == ["reconcile"] and (BIN / "reconcile").exists()
    help_text = subprocess.run(
        [str(BIN / "reconcile"), cmd[0], "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert "--listen" in help_text
    assert "/healthz" in re.search(r"HEALTHCHECK.*", text, re.S).group(0)
    assert re.search(r"^USER (\d+)", text, re.M), "the image must run as a non-root user"
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert compose["services"]["waldur-sim"]["entrypoint"][0] == "waldur-sim"
    assert (BIN / "waldur-sim").exists()


# -- the GitOps pipelines (README, "GitOps pipelines") ----------------------------------------

WORKFLOW = DEPLOY / "ci" / "github-actions.yml"
GITLAB = DEPLOY / "ci" / "gitlab-ci.yml"
ACTION = ROOT / "action.yml"
COMPONENT = ROOT / "templates" / "reconcile" / "template.yml"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}$")


def _uses(doc: dict) -> list[str]:
    steps = [s for job in doc.get("jobs", {}).values() for s in job.get("steps", [])]
    steps += doc.get("runs", {}).get("steps", [])
    return [s["uses"] for s in steps if "uses" in s]


def test_no_pipeline_installs_an_unpublished_package():
    for path in (*DEPLOY.joinpath("ci").iterdir(), ACTION, COMPONENT):
        assert "pip install waldur-catalog-reconciler" not in path.read_text(), path


def test_the_github_workflow_plans_pull_requests_and_applies_the_reviewed_plan():
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert doc["permissions"] == {}  # each job asks for what it needs
    jobs = doc["jobs"]
    for job in jobs.values():
        assert "write-all" not in str(job.get("permissions"))
        assert job["steps"][0]["with"]["persist-credentials"] is False
    plan, apply, drift = jobs["plan"], jobs["apply"], jobs["drift"]
    assert "pull_request" in plan["if"] and plan["steps"][1]["with"]["mode"] == "plan"
    assert plan["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "push" in apply["if"] and apply["steps"][1]["with"]["mode"] == "apply"
    assert apply["environment"] == "production"
    assert apply["permissions"]["actions"] == "read"  # the plan artifact of the merged PR
    assert apply["concurrency"]["cancel-in-progress"] is False
    assert "schedule" in drift["if"] and drift["steps"][1]["with"]["mode"] == "drift"
    assert drift["permissions"]["issues"] == "write"
    for uses in _uses(doc):
        assert PINNED.match(uses), f"{uses}: pin actions by full commit SHA"
    names = {name for job in jobs.values() for s in job["steps"] for name in s.get("env", {})}
    assert names == {"WALDUR_API_TOKEN"}  # the token: never an input, never on a command line


def test_the_action_installs_itself_and_runs_the_reviewed_plan_flow():
    action = yaml.safe_load(ACTION.read_text())
    assert action["runs"]["using"] == "composite"
    assert {"mode", "files", "api-url", "saved-plan"} <= set(action["inputs"])
    assert not any("token" in name and name != "github-token" for name in action["inputs"])
    assert set(action["outputs"]) >= {
        "has_changes", "create", "update", "delete", "not_applicable", "exit_code"
    }  # fmt: skip
    for uses in _uses(action):
        assert PINNED.match(uses), f"{uses}: pin actions by full commit SHA"
    steps = action["runs"]["steps"]
    install = next(s for s in steps if "Install" in s.get("name", ""))
    assert 'pip install --quiet --disable-pip-version-check "$GITHUB_ACTION_PATH"' in install["run"]
    script = next(s for s in steps if s.get("id") == "run")["run"]
    assert '--out "$plan"' in script and "-o markdown" in script
    assert 'reconcile apply "$plan"' in script and "fetch-plan" in script
    assert "${{" not in script  # inputs reach the script through env only (no injection)
    upload = next(s for s in steps if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"] == "${{ steps.run.outputs.plan-file }}"


def test_the_gitlab_pipeline_includes_the_component_with_inputs_it_declares():
    doc = yaml.safe_load(GITLAB.read_text())
    (include,) = doc["include"]
    assert include["component"].endswith("/reconcile@0.1.0")
    spec = next(yaml.safe_load_all(COMPONENT.read_text()))
    assert set(include["inputs"]) <= set(spec["spec"]["inputs"])


def test_make_lint_runs_the_ecosystems_linters_on_every_pipeline_file():
    makefile = (ROOT / "Makefile").read_text()
    lint_ci = makefile.split("\nlint-ci:", 1)[1].split("\n\n", 1)[0]
    for needle in (
        "--builtin-schema vendor.github-workflows deploy/ci/github-actions.yml",
        "--builtin-schema vendor.github-actions action.yml",
        "--builtin-schema vendor.gitlab-ci deploy/ci/gitlab-ci.yml",
        "component-jobs.yml",
        "zizmor --offline",
        "hadolint deploy/Dockerfile",
    ):
        assert needle in lint_ci, needle
    assert re.search(r"^test: .*lint-ci", makefile, re.M)
    assert re.search(r"^lint: .*lint-ci", makefile, re.M)


GITOPS = DEPLOY / "kubernetes" / "gitops"
KNOWN_ENV = {o.env for o in OPTIONS.values()} | {"XDG_CACHE_HOME", "WALDUR_API_TOKEN_FILE"}


def kustomize(directory: Path) -> list[dict]:
    kubectl = need("kubectl", "apt-get install kubernetes-client")
    done = subprocess.run(
        [kubectl, "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_gitops_overlay_renders_a_valid_daemon_of_its_environment(environment):
    docs = kustomize(GITOPS / environment)
    for doc in docs:
        kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    assert deployment["metadata"]["name"] == f"waldur-catalog-reconciler-{environment}"
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector["app.kubernetes.io/instance"] == environment
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e for e in container["env"]}
    assert len(env) == len(container["env"]), "a variable is set twice"
    assert env["RECONCILE_ENV"]["value"] == environment
    assert env["RECONCILE_GIT_URL"]["value"].startswith("https://")
    token = f"WALDUR_{environment.upper()}_TOKEN"
    assert "secretKeyRef" in env[token]["valueFrom"]
    unknown = {name for name in env if name.startswith("RECONCILE_") and name not in KNOWN_ENV}
    assert not unknown, f"variables the reconciler does not read: {unknown}"
    # the names match the example project's environments and token variables
    project = yaml.safe_load((ROOT / "examples" / "project" / "reconcile.yaml").read_text())
    assert project["environments"][environment]["token_env"] == token
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/cache" in mounts  # the Git cache is writable
    if environment == "production":
        signers = env["RECONCILE_GIT_ALLOWED_SIGNERS"]["value"]
        assert any(signers.startswith(m) for m in mounts)
        assert env["RECONCILE_GIT_REF"]["value"] == "production"


def test_production_allowed_signers_is_a_file_ssh_keygen_reads(tmp_path):
    keygen = need("ssh-keygen", "apt-get install openssh-client")
    text = (GITOPS / "production" / "allowed_signers").read_text()
    lines = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert lines
    for line in lines:
        principal, options, key_type, key = line.split(" ", 3)
        assert "@" in principal
        assert options == 'namespaces="git"'
        (tmp_path / "key.pub").write_text(f"{key_type} {key}\n")
        done = subprocess.run([keygen, "-l", "-f", str(tmp_path / "key.pub")], check=False)
        assert done.returncode == 0


def test_systemd_instance_unit_verifies_as_an_environment(tmp_path):
    analyze = need("systemd-analyze", "apt-get install systemd")
    template = (DEPLOY / "systemd" / "reconcile-daemon@.service").read_text()
    text = template.replace("/usr/local/bin/reconcile", str(BIN / "reconcile"))
    (tmp_path / "reconcile-daemon@staging.service").write_text(text)
    done = subprocess.run(
        [analyze, "verify", "reconcile-daemon@staging.service"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "--env %i" in template and "EnvironmentFile=/etc/waldur-catalog/%i.env" in template
    example = (DEPLOY / "systemd" / "environment.env.example").read_text()
    names = {
        line.lstrip("#").split("=", 1)[0]
        for line in example.splitlines()
        if "=" in line and line.lstrip("#").split("=", 1)[0].isupper()
    }
    assert {n for n in names if n.startswith("RECONCILE_")} <= KNOWN_ENV
