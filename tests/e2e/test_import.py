"""`reconcile import eessi` through the real CLI: both of EESSI's formats, applied to a real
waldur-sim, give exactly the packages, versions and (version, architecture) pairs the JSON
lists. Expectations are computed here straight from the JSON, not through the reconciler."""

from __future__ import annotations

import json
import re

import jsonschema
import yaml

from reconciler.desired.loader import desired_json_schema

from .harness import count_kinds, data_file, plan_json, reconcile, server_tree
from .test_eessi_replay import expected_changes, sets

API_SAMPLE = ("eessi", "api_format_sample", "eessi_api_metadata_software.sample.json")
RISCV_SAMPLE = ("eessi", "api_format_sample", "eessi_api_metadata-riscv_software.sample.json")
OLDEST = ("eessi", "history", "json_data_detail_2024-04-02.json")
NEXT = ("eessi", "history", "json_data_detail_2025-03-03.json")
PATH = re.compile(r"^/cvmfs/[^/]+/versions/([^/]+)/software/linux/([^/]+)/(.+)$")


def api_tree(path, repository="software.eessi.io"):
    """The tree an API-format file describes, as `server_tree` reports it."""
    tree = set()
    for name, spec in json.loads(path.read_text())["software"].items():
        for entry in spec["versions"]:
            (release,) = [
                m["module_version"]
                for m in entry["required_modules"]
                if m["module_name"] == "EESSI"
            ]
            cat = ("EESSI", release, "binary_runtime")
            version = (*cat, name, entry["version"], entry["module"]["module_version"])
            tree |= {cat, (*cat, name), version}
            for arch in entry["cpu_arch"]:
                family, micro = arch.split("/", 1)
                prefix = f"/cvmfs/{repository}/versions/{release}/software/linux/"
                tree.add((*version, family, micro, prefix + arch))
    return tree


def detail_tree(path):
    """The tree a json_data_detail file describes: version = module version up to its '-'."""
    data = json.loads(path.read_text())
    tree = set()
    for name, spec in data["software"].items():
        for module, version in spec["versions"].items():
            module_version = module.split("/", 1)[1]
            for target in version["targets"]:
                release, family, micro = PATH.match(target).groups()
                cat = ("EESSI", release, "binary_runtime")
                ver = (*cat, name, module_version.split("-")[0], module_version)
                tree |= {cat, (*cat, name), ver, (*ver, family, micro, target)}
    return tree


def import_file(tmp_path, parts, *extra, name="imported.yaml"):
    out = tmp_path / name
    done = reconcile(None, "import", "eessi", str(data_file(*parts)), "--out", str(out), *extra)
    assert done.returncode == 0, done.stderr
    return out


def test_api_format_import_applies_exactly_what_the_json_lists(sim, tmp_path):
    source = data_file(*API_SAMPLE)
    desired = import_file(tmp_path, API_SAMPLE)
    doc = yaml.safe_load(desired.read_text())
    assert [c["version"] for c in doc["catalogs"]] == ["2023.06", "2025.06"]  # one per EESSI
    server = sim()
    applied = reconcile(server, "-f", str(desired))
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr
    tree = server_tree(server.api_url)
    assert tree == api_tree(source)
    counts = count_kinds(tree)
    assert (counts["version"], counts["target"]) == (18, 250)  # as data/README.md says
    again = reconcile(server, "plan", "--detailed-exitcode", "-f", str(desired))
    assert again.returncode == 0 and "No changes." in again.stdout


def test_riscv_sample_takes_its_eessi_version_from_the_modules_and_the_repository_option(
    tmp_path,
):
    source = data_file(*RISCV_SAMPLE)
    desired = import_file(tmp_path, RISCV_SAMPLE, "--eessi-repository", "riscv.eessi.io")
    from reconciler.core.model import Kind
    from reconciler.desired.loader import load_desired

    state = load_desired([desired])
    got = {(*k.parts, r.fields["path"]) for k, r in state.records.items() if k.kind is Kind.TARGET}
    want = {t for t in api_tree(source, "riscv.eessi.io") if len(t) == 9}
    assert got == want and len(got) == 12
    assert {k.parts[1] for k in state.policies} == {"2025.06"}  # not the map's "2025.06-001"


def test_detail_format_import_then_a_newer_snapshot_plans_the_real_difference(sim, tmp_path):
    old_path, new_path = data_file(*OLDEST), data_file(*NEXT)
    old_file = import_file(tmp_path, OLDEST, name="old.yaml")
    to_stdout = reconcile(None, "import", "eessi", str(old_path))
    assert to_stdout.returncode == 0 and to_stdout.stdout == old_file.read_text()
    validator = jsonschema.Draft202012Validator(desired_json_schema())
    assert list(validator.iter_errors(yaml.safe_load(old_file.read_text()))) == []

    server = sim()
    applied = reconcile(server, "-f", str(old_file))
    assert applied.returncode == 0, applied.stdout[-2000:] + applied.stderr
    assert server_tree(server.api_url) == detail_tree(old_path)
    old, new = sets(old_path), sets(new_path)
    counts = count_kinds(server_tree(server.api_url))
    assert (counts["package"], counts["version"], counts["target"]) == tuple(map(len, old[:3]))

    new_file = import_file(tmp_path, NEXT, name="new.yaml")
    plan = plan_json(server, new_file)
    want_create, want_delete = expected_changes(old, new)
    assert want_create == 189 + 414 + 5192  # the table in data/README.md
    assert plan["summary"]["create"] == want_create
    assert plan["summary"]["delete"] == want_delete == 0
    changed_text = {
        n
        for n in old[0] & new[0]
        if (old[3][n].get("description") or "").strip()
        != (new[3][n].get("description") or "").strip()
    }
    assert plan["summary"]["update"] == len(changed_text)


def test_files_that_are_not_eessi_lists_are_refused_plainly(tmp_path):
    for text, message in (
        ("not json", "cannot read EESSI JSON"),
        ('{"software": {"A": {"versions": 3}}}', "no 'versions' list or mapping"),
        ('{"timestamp": "x"}', "not an EESSI software list"),
    ):
        path = tmp_path / "bad.json"
        path.write_text(text)
        done = reconcile(None, "import", "eessi", str(path))
        assert done.returncode == 1, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr
        assert done.stdout == ""
