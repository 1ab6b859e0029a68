"""The files in deploy/ are checked, not just shipped."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
YAML_FILES = sorted([*DEPLOY.rglob("*.yaml"), *DEPLOY.rglob("*.yml")])
MANIFESTS = sorted(
    p for p in (DEPLOY / "kubernetes").glob("*.yaml") if p.name != "kustomization.yaml"
)
UNITS = sorted([*(DEPLOY / "systemd").glob("*.service"), *(DEPLOY / "systemd").glob("*.timer")])
BIN = Path(sys.executable).parent


def test_there_is_something_to_check():
    assert len(YAML_FILES) >= 8 and len(MANIFESTS) >= 4 and len(UNITS) == 3


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
    analyze = shutil.which("systemd-analyze")
    assert analyze, (
        "systemd-analyze is not installed here, so the units cannot be verified; "
        "install systemd (apt-get install systemd) to run this check"
    )
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
