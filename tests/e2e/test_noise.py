"""Noise control end to end: `ignore_fields` stops managing fields where it is given, and
values that differ only the way servers normalise them (trailing slashes, surrounding
whitespace, null vs "") never show up in a plan, right after an apply or after hand edits."""

from __future__ import annotations

import httpx
import pytest
import yaml

from .harness import ROOT, plan_json, reconcile, write_yaml

EXAMPLE = ROOT / "examples" / "targets.yaml"
QUIRKS = """\
catalogs:
  - name: Quirks
    version: "1"
    description: null
    source_url: "https://example.org/catalog/"
    packages:
      - name: a
        description: "  padded  "
        homepage: ""
        versions:
          - version: "1"
            release_date: null
            targets:
              - {architecture: x86_64/generic, path: "  /opt/a/1  "}
      - name: b
        description: |
          Two lines
          and a trailing newline
        homepage: https://b.example.org/
        versions:
          - {version: "2", module_version: "", release_date: 2024-05-01}
"""


def patch(server, kind, params, **fields):
    segment = {"catalog": "catalogs", "package": "packages"}[kind]
    headers = {"Authorization": f"Token {server.staff_token}"}
    with httpx.Client(headers=headers, timeout=10) as http:
        url = f"{server.api_url}marketplace-software-{segment}/"
        (found,) = http.get(url, params=params).json()
        answer = http.patch(found["url"], json=fields)
        assert answer.status_code == 200, answer.text


def described(plan):
    return sorted(
        (c["action"], c["kind"], c["key"].get("package", ""), tuple(sorted(c["fields"])))
        for c in plan["changes"]
    )


def test_ignore_fields_at_catalog_and_package_level(sim, tmp_path):
    server = sim()
    assert reconcile(server, "-f", str(EXAMPLE)).returncode == 0
    patch(server, "catalog", {"name": "EESSI"}, description="Changed by hand")
    patch(server, "package", {"name_exact": "GROMACS"}, homepage="https://hand.example/")
    patch(server, "package", {"name_exact": "OpenFOAM"}, description="By hand too")

    doc = yaml.safe_load(EXAMPLE.read_text())
    plain = plan_json(server, write_yaml(tmp_path / "plain.yaml", doc))
    assert described(plain) == [
        ("update", "catalog", "", ("description",)),
        ("update", "package", "GROMACS", ("homepage",)),
        ("update", "package", "OpenFOAM", ("description",)),
    ]

    catalog = doc["catalogs"][0]
    catalog["ignore_fields"] = ["description", "homepage"]
    catalog["packages"][0]["description"] = "A new text the plan must not send"
    ignored = plan_json(server, write_yaml(tmp_path / "catalog.yaml", doc))
    assert ignored["changes"] == [] and ignored["summary"]["update"] == 0

    doc = yaml.safe_load(EXAMPLE.read_text())
    openfoam = next(p for p in doc["catalogs"][0]["packages"] if p["name"] == "OpenFOAM")
    openfoam["ignore_fields"] = ["description"]
    per_package = plan_json(server, write_yaml(tmp_path / "package.yaml", doc))
    assert described(per_package) == [
        ("update", "catalog", "", ("description",)),
        ("update", "package", "GROMACS", ("homepage",)),
    ]


@pytest.mark.parametrize("dialect", ["legacy", "current"])
def test_values_the_server_normalises_never_show_as_changes(sim, tmp_path, dialect):
    server = sim("--dialect", dialect)
    desired = tmp_path / "quirks.yaml"
    desired.write_text(QUIRKS)
    applied = reconcile(server, "-f", str(desired))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert plan_json(server, desired)["changes"] == []  # right after the apply

    quirks = {"name": "Quirks"}
    patch(server, "catalog", quirks, source_url="https://example.org/catalog", description="")
    patch(server, "package", {"name_exact": "b"}, homepage="https://b.example.org")
    patch(server, "package", {"name_exact": "a"}, homepage="", description="padded  ")
    assert plan_json(server, desired)["changes"] == []  # the same values, as stored

    patch(server, "package", {"name_exact": "a"}, description="really different")
    assert described(plan_json(server, desired)) == [("update", "package", "a", ("description",))]
