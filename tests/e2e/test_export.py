"""`reconcile export` round trips: export, then `reconcile --dry-run` on the exported file
shows `No changes.`, for catalogs we created and for catalogs (made with plain HTTP) whose
targets follow no pattern; applied to an empty server, the export reproduces the original."""

from __future__ import annotations

import httpx
import pytest
import yaml

from reconciler.core.model import Kind
from reconciler.desired.loader import load_desired

from .harness import eessi_subset, reconcile, server_tree

SEGMENT = {"catalog": "catalogs", "package": "packages", "version": "versions", "target": "targets"}


class Http:
    """Creates objects with plain HTTP, as Waldur's own loaders or an admin would."""

    def __init__(self, sim, dialect):
        self.api, self.dialect = sim.api_url, dialect
        self.client = httpx.Client(
            headers={"Authorization": f"Token {sim.staff_token}"}, timeout=10
        )

    def post(self, kind, body):
        answer = self.client.post(f"{self.api}marketplace-software-{SEGMENT[kind]}/", json=body)
        assert answer.status_code == 201, answer.text
        return answer.json()["url"]

    def target(self, version, family, micro, path, target_type="cpu_architecture"):
        if self.dialect == "legacy":
            body = {"cpu_family": family, "cpu_microarchitecture": micro, "path": path}
        else:
            body = {
                "target_type": target_type,
                "target_name": family,
                "target_subtype": micro,
                "location": path,
            }
        return self.post("target", {"version": version, **body})


def build_patternless(sim, dialect):
    """Two catalogs of one name, every field set somewhere, targets without a common path."""
    http = Http(sim, dialect)
    site = http.post(
        "catalog",
        {
            "name": "Site",
            "version": "2024",
            "catalog_type": "source_package",
            "description": "Site builds",
            "source_url": "https://example.org/site/",
            "metadata": {"owner": "hpc", "tags": ["a", "b"]},
            "auto_update_enabled": True,
        },
    )
    numpy = http.post(
        "package",
        {
            "catalog": site,
            "name": "numpy",
            "is_extension": True,
            "description": "Arrays.\nFast ones.",
            "homepage": "",
        },
    )
    http.post("package", {"catalog": site, "name": "no-versions", "homepage": "https://x.org/"})
    zlib = http.post("package", {"catalog": site, "name": "zlib"})
    paths = iter(
        [
            "/srv/a/{odd}",
            "",
            "/home/apps/np/2",
            "/scratch/x1",
            "/scratch/x2/zen3",
            "/opt/q",
            "/misc/7",
        ]
    )
    for package, version, module, date in (
        (numpy, "1.26", "1.26-foss", "2024-01-02"),
        (numpy, "2.0", "", None),
        (zlib, "1.3", "1.3-GCC", None),
    ):
        ver = http.post(
            "version",
            {
                "package": package,
                "version": version,
                "module_version": module,
                "release_date": date,
            },
        )
        http.target(ver, "x86_64", "generic", next(paths))
        http.target(ver, "x86_64", "amd/zen3", next(paths))
    http.post("version", {"package": zlib, "version": "0.9", "module_version": "old"})  # no targets
    other = http.post("catalog", {"name": "Site", "version": "2025", "auto_update_enabled": False})
    tools = http.post("package", {"catalog": other, "name": "tools"})
    for number in range(3):
        ver = http.post("version", {"package": tools, "version": f"{number}.0"})
        for family, micro in (("x86_64", "generic"), ("aarch64", "neoverse_v1")):
            http.target(ver, family, micro, f"/opt/tools/{number}.0/{family}/{micro}")
        if dialect == "current":  # not a CPU target: left alone by export and plan alike
            http.target(ver, "nvidia", "cc80", "/gpu", target_type="gpu")
    http.client.close()


def export(server, tmp_path, *args, name="exported.yaml"):
    out = tmp_path / name
    done = reconcile(server, "export", "--out", str(out), *args)
    assert done.returncode == 0, done.stderr
    return out


def no_changes(server, path):
    done = reconcile(server, "--dry-run", "--detailed-exitcode", "-f", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "No changes." in done.stdout


def body(path):
    """The exported file without its first line (which names the server it came from)."""
    return path.read_text().split("\n", 1)[1]


@pytest.mark.parametrize("dialect", ["legacy", "current"])
def test_catalogs_whose_targets_follow_no_pattern_round_trip_exactly(sim, tmp_path, dialect):
    server = sim("--dialect", dialect)
    build_patternless(server, dialect)
    exported = export(server, tmp_path)
    no_changes(server, exported)
    doc = yaml.safe_load(exported.read_text())
    site, other = doc["catalogs"]
    assert "target_defaults" not in site  # no pattern: every target is explicit …
    assert other["target_defaults"]["path"] == (
        "/opt/{package}/{version}/{cpu_family}/{cpu_microarchitecture}"
    )  # … or a pattern
    assert site["metadata"] == {"owner": "hpc", "tags": ["a", "b"]}
    packages = {p["name"]: p for p in site["packages"]}
    assert list(packages) == ["no-versions", "numpy", "zlib"]
    numpy = packages["numpy"]
    assert numpy["is_extension"] is True and numpy["description"] == "Arrays.\nFast ones."
    assert "description: |-" in exported.read_text()
    zlib_old = packages["zlib"]["versions"][0]
    assert zlib_old == {"version": "0.9", "module_version": "old"}  # no defaults: no targets

    empty = sim("--dialect", dialect)  # the export rebuilds the same server from nothing
    applied = reconcile(empty, "-f", str(exported))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    cpu_only = {t for t in server_tree(server.api_url) if len(t) < 9 or t[7] != "cc80"}
    assert server_tree(empty.api_url) == cpu_only
    assert body(export(empty, tmp_path, name="again.yaml")) == body(exported)


def test_a_catalog_we_created_exports_compactly_and_selects_by_name(sim, tmp_path):
    source = eessi_subset(tmp_path, 60)
    server = sim()
    assert reconcile(server, "-f", str(source)).returncode == 0
    other = tmp_path / "other.yaml"
    other.write_text("catalogs:\n  - name: Local\n    version: '1'\n    packages: [{name: a}]\n")
    assert reconcile(server, "-f", str(other)).returncode == 0

    exported = export(server, tmp_path, "--catalog", "EESSI@2023.06")
    no_changes(server, exported)
    want, got = load_desired([source]), load_desired([exported])
    assert got.records.keys() == want.records.keys()
    assert {k: r.fields.get("path") for k, r in got.records.items() if k.kind is Kind.TARGET} == {
        k: r.fields.get("path") for k, r in want.records.items() if k.kind is Kind.TARGET
    }
    source_doc, doc = (yaml.safe_load(p.read_text())["catalogs"][0] for p in (source, exported))
    assert doc["target_defaults"] == source_doc["target_defaults"]
    explicit = [v for p in doc["packages"] for v in p["versions"] if "targets" in v]
    assert len(explicit) == sum(
        1 for p in source_doc["packages"] for v in p["versions"] if "targets" in v
    )

    both = reconcile(server, "export")
    assert both.returncode == 0
    assert [c["name"] for c in yaml.safe_load(both.stdout)["catalogs"]] == ["EESSI", "Local"]
    missing = reconcile(server, "export", "--catalog", "Nope@1")
    assert missing.returncode == 1
    assert "no catalog matches Nope@1" in missing.stderr and "EESSI@2023.06" in missing.stderr


def test_export_never_shows_the_token(sim, tmp_path):
    canary = "CANARY-export-5c1d-token"
    server = sim(staff_token=canary)
    build_patternless(server, "legacy")
    written = tmp_path / "f.yaml"
    for args in (
        ("export",),
        ("export", "--log-level", "debug"),
        ("export", "--out", str(written)),
    ):
        done = reconcile(server, *args, token=canary)
        assert done.returncode == 0, done.stderr
        assert canary not in done.stdout + done.stderr
    assert "catalogs:" in written.read_text() and canary not in written.read_text()
