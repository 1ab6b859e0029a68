"""Offering links end to end: the real CLI against `waldur-sim --offering …`; what the
offerings hold is read back with plain httpx (not through the reconciler)."""

from __future__ import annotations

import json

import httpx
import yaml

from .harness import ROOT, plan_json, reconcile, sim_stats, write_yaml, writes

OFFERINGS = ROOT / "examples" / "offerings.yaml"
FLAGS = ("--dialect", "current", "--offering", "HPC cluster A", "--offering", "HPC cluster B")


def links_on_server(server) -> dict[str, list[tuple[str, list[str], list[str]]]]:
    """offering name → [(catalog "name version", families, microarchitectures)]."""
    answer = httpx.get(
        server.api_url + "marketplace-provider-offerings/",
        headers={"Authorization": f"Token {server.staff_token}"},
        timeout=10,
    )
    answer.raise_for_status()
    return {
        o["name"]: sorted(
            (
                f"{link['catalog']['name']} {link['catalog']['version']}",
                sorted(link["enabled_cpu_family"]),
                sorted(link["enabled_cpu_microarchitectures"]),
            )
            for link in o["software_catalogs"]
        )
        for o in answer.json()
    }


def test_links_are_created_updated_pruned_exported_and_round_trip(sim, tmp_path):
    server = sim(*FLAGS)
    first = plan_json(server, OFFERINGS)
    links = [c for c in first["changes"] if c["kind"] == "offering_link"]
    assert sorted((c["action"], c["offering_name"]) for c in links) == [
        ("create", "HPC cluster A"),
        ("create", "HPC cluster B"),
    ]
    text = reconcile(server, "--dry-run", "-f", str(OFFERINGS)).stdout
    assert (
        "+ link EESSI 2025.06 → HPC cluster A  families=[x86_64] "
        "microarchitectures=[generic, amd/zen4]" in text
    )

    applied = reconcile(server, "-f", str(OFFERINGS))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert links_on_server(server) == {
        "HPC cluster A": [("EESSI 2025.06", ["x86_64"], ["amd/zen4", "generic"])],
        "HPC cluster B": [("EESSI 2025.06", ["aarch64"], ["neoverse_v2"])],
    }
    again = reconcile(server, "--dry-run", "--detailed-exitcode", "-f", str(OFFERINGS))
    assert again.returncode == 0 and "No changes." in again.stdout

    # A's lists change, B is dropped: one update, one removal (through B's own offering).
    doc = yaml.safe_load(OFFERINGS.read_text())
    catalog = doc["catalogs"][0]
    catalog["offerings"] = [
        {"offering": "HPC cluster A", "enabled_cpu_family": ["x86_64", "aarch64"]},
    ]
    catalog["target_defaults"]["architectures"].append("aarch64/generic")
    edited = write_yaml(tmp_path / "edited.yaml", doc)
    plan = plan_json(server, edited)
    links = {c["offering_name"]: c for c in plan["changes"] if c["kind"] == "offering_link"}
    assert {name: c["action"] for name, c in links.items()} == {
        "HPC cluster A": "update",
        "HPC cluster B": "delete",
    }
    assert set(links["HPC cluster A"]["fields"]) == {
        "enabled_cpu_family",
        "enabled_cpu_microarchitectures",
    }
    done = reconcile(server, "-f", str(edited))
    assert done.returncode == 0, done.stdout + done.stderr
    assert links_on_server(server) == {
        "HPC cluster A": [("EESSI 2025.06", ["aarch64", "x86_64"], [])],
        "HPC cluster B": [],
    }

    # export writes the links and round-trips to No changes.
    exported = tmp_path / "exported.yaml"
    out = reconcile(server, "export", "--catalog", "EESSI@2025.06", "--out", str(exported))
    assert out.returncode == 0, out.stderr
    (written,) = yaml.safe_load(exported.read_text())["catalogs"]
    assert written["offerings"] == [
        {
            "offering": "HPC cluster A",
            "enabled_cpu_family": ["aarch64", "x86_64"],
            "enabled_cpu_microarchitectures": [],
        }
    ]
    replan = reconcile(server, "--dry-run", "--detailed-exitcode", "-f", str(exported))
    assert replan.returncode == 0 and "No changes." in replan.stdout


def test_an_unknown_offering_exits_1_naming_it_with_nothing_written(sim, tmp_path):
    server = sim(*FLAGS)
    doc = yaml.safe_load(OFFERINGS.read_text())
    doc["catalogs"][0]["offerings"][1]["offering"] = "HPC cluster C"
    bad = write_yaml(tmp_path / "bad.yaml", doc)
    before = sim_stats(server)
    done = reconcile(server, "-f", str(bad))
    assert done.returncode == 1
    assert "no offering named 'HPC cluster C' is visible to this token" in done.stderr
    assert f"{bad}:" in done.stderr  # file and line of the reference
    assert writes(sim_stats(server)) == writes(before) == 0


def test_a_no_op_with_links_costs_one_offering_listing(sim):
    server = sim(*FLAGS)
    assert reconcile(server, "-f", str(OFFERINGS)).returncode == 0
    with_links = json.loads(
        reconcile(server, "--dry-run", "-o", "json", "-f", str(OFFERINGS)).stdout
    )
    doc = yaml.safe_load(OFFERINGS.read_text())
    del doc["catalogs"][0]["offerings"]
    assert with_links["summary"] == {"create": 0, "update": 0, "delete": 0, "not_applicable": 0}
    stats_before = sim_stats(server)
    assert reconcile(server, "--dry-run", "-f", str(OFFERINGS)).returncode == 0
    stats = sim_stats(server)
    offering_gets = stats["kinds"]["offering"]["GET"] - stats_before["kinds"]["offering"]["GET"]
    assert offering_gets == 1  # one listing, not one request per offering


def test_a_saved_plan_of_links_is_applied_exactly(sim, tmp_path):
    server = sim(*FLAGS)
    saved = tmp_path / "plan.json"
    planned = reconcile(server, "plan", "-f", str(OFFERINGS), "--out", str(saved))
    assert planned.returncode == 0, planned.stderr
    links = [c for c in json.loads(saved.read_text())["changes"] if c["kind"] == "offering_link"]
    assert len(links) == 2
    applied = reconcile(server, "apply", str(saved))
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert [c for c, *_ in links_on_server(server)["HPC cluster B"]] == ["EESSI 2025.06"]


def test_an_organisation_owner_may_link_without_being_staff(sim, tmp_path):
    """The catalog is staff's; the owner of the offerings' organisation manages the links."""
    server = sim(*FLAGS)
    doc = yaml.safe_load(OFFERINGS.read_text())
    links = doc["catalogs"][0].pop("offerings")
    without = write_yaml(tmp_path / "catalog.yaml", doc)
    assert reconcile(server, "-f", str(without)).returncode == 0  # staff: the catalog
    doc["catalogs"][0]["offerings"] = links
    with_links = write_yaml(tmp_path / "links.yaml", doc)
    done = reconcile(server, "-f", str(with_links), token=server.owner_token)
    assert done.returncode == 0, done.stdout + done.stderr
    assert links_on_server(server)["HPC cluster A"] == [
        ("EESSI 2025.06", ["x86_64"], ["amd/zen4", "generic"])
    ]
    user = reconcile(server, "--dry-run", "-f", str(with_links), token="user")
    assert user.returncode == 1  # an ordinary user sees no offering: said before anything
    assert "is visible to this token" in user.stderr
