"""desired: files → DesiredState (keys, defaults, templates, managed fields, merging, errors)."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import jsonschema
import pytest

from reconciler.core.errors import InputError
from reconciler.core.model import TREE, CatalogPolicy, DesiredState, Key, Kind, catalog_key
from reconciler.desired.loader import MAX_PROBLEMS, desired_json_schema, load_desired
from reconciler.desired.yamlsrc import load_yaml
from tests.datafiles import EESSI_FULL, data_file

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "targets.yaml"
EESSI_PREFIX = "/cvmfs/software.eessi.io/versions/2023.06/software/linux/"
CAT = catalog_key("EESSI", "2023.06")
PROBLEM = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+): (?P<rest>.+)$")


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def load(tmp_path: Path, text: str) -> DesiredState:
    return load_desired([write(tmp_path, "d.yaml", text)])


def errors(paths: list[Path]) -> list[str]:
    with pytest.raises(InputError) as info:
        load_desired(paths)
    return info.value.problems


def error_of(tmp_path: Path, text: str) -> list[str]:
    return errors([write(tmp_path, "d.yaml", text)])


def kinds(state: DesiredState, kind: Kind) -> list[Key]:
    return [key for key in state.records if key.kind is kind]


def catalog(*parts: str) -> str:
    """The EESSI 2023.06 catalog with `parts` (each dedented) as its further fields."""
    head = 'catalogs:\n  - name: EESSI\n    version: "2023.06"\n'
    return head + "".join(textwrap.indent(textwrap.dedent(part), "    ") for part in parts)


DEFAULTS = """\
target_defaults:
  architectures: [x86_64/generic, x86_64/amd/zen3]
  path: "/sw/{catalog_version}/{cpu_family}/{cpu_microarchitecture}/\\
    {package}/{version}/{module_version}"
"""


def test_the_example_loads_with_real_keys_and_sources() -> None:
    state = load_desired([EXAMPLE])
    assert state.sources == (str(EXAMPLE),)
    assert state.policies == {CAT: CatalogPolicy(prune=True)}
    assert len(kinds(state, Kind.PACKAGE)) == 5
    gromacs = CAT.child("GROMACS").child("2024.4", "2024.4-foss-2023b")
    assert state.records[gromacs].source == f"{EXAMPLE}:42"
    zen3 = gromacs.child("x86_64", "amd/zen3")
    assert state.records[zen3].fields == {"path": EESSI_PREFIX + "x86_64/amd/zen3"}
    assert state.records[CAT].fields["auto_update_enabled"] is False
    raxml = CAT.child("RAxML").child("8.2.13", "8.2.13-gompi-2023a-standard")
    assert [k.parts[6:] for k in kinds(state, Kind.TARGET) if k.parent == raxml] == [
        ("aarch64", "neoverse_v1")
    ]


def test_defaults_expand_to_every_version_with_the_template(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        catalog(
            DEFAULTS,
            """\
            packages:
              - name: GROMACS
                versions:
                  - {version: "2024.4", module_version: 2024.4-foss-2023b}
                  - {version: "2024.1"}
            """,
        ),
    )
    targets = kinds(state, Kind.TARGET)
    assert len(targets) == 4
    key = CAT.child("GROMACS").child("2024.4", "2024.4-foss-2023b").child("x86_64", "amd/zen3")
    path = "/sw/2023.06/x86_64/amd/zen3/GROMACS/2024.4/2024.4-foss-2023b"
    assert state.records[key].fields == {"path": path}
    bare = CAT.child("GROMACS").child("2024.1", "").child("x86_64", "generic")
    assert state.records[bare].fields == {"path": "/sw/2023.06/x86_64/generic/GROMACS/2024.1/"}
    assert state.records[bare].source == f"{tmp_path / 'd.yaml'}:12"


def test_explicit_targets_replace_the_defaults(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        catalog(
            DEFAULTS,
            """\
            packages:
              - name: RAxML
                versions:
                  - version: "8.2.13"
                    targets:
                      - {cpu_family: aarch64, cpu_microarchitecture: neoverse_v1}
                      - architecture: x86_64/intel/icelake
                        path: /literal/{cpu_family}
                  - {version: "8.2.12", targets: []}
            """,
        ),
    )
    version = CAT.child("RAxML").child("8.2.13", "")
    targets = {k.parts[6:]: state.records[k].fields for k in kinds(state, Kind.TARGET)}
    assert targets == {
        ("aarch64", "neoverse_v1"): {"path": "/sw/2023.06/aarch64/neoverse_v1/RAxML/8.2.13/"},
        ("x86_64", "intel/icelake"): {"path": "/literal/{cpu_family}"},
    }
    assert state.records[version.child("x86_64", "intel/icelake")].source.endswith(":14")
    assert CAT.child("RAxML").child("8.2.12", "") in state.records


def test_without_defaults_or_template_nothing_is_invented(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        catalog(
            """\
            packages:
              - name: A
                versions:
                  - version: "1"
                  - version: "2"
                    targets: [{architecture: x86_64/amd/zen3}]
            """
        ),
    )
    (target,) = kinds(state, Kind.TARGET)
    assert target.parts[4:] == ("2", "", "x86_64", "amd/zen3")
    assert state.records[target].fields == {}  # path unmanaged


def test_only_given_fields_are_managed_and_normalised(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        catalog(
            """\
            description: ~
            metadata: {origin: {kind: eessi}}
            packages:
              - name: "  GROMACS  "
                homepage: "  https://www.gromacs.org/ "
                is_extension: false
                versions:
                  - {version: " 2024.4 ", release_date: 2024-11-01}
                  - {version: "2024.1", release_date: "2024-02-28"}
                  - {version: "2023.3", release_date: null}
              - name: Python
                homepage: ""
                description: ""
            """
        ),
    )
    assert state.records[CAT].fields == {
        "description": "",
        "metadata": {"origin": {"kind": "eessi"}},
    }
    package = CAT.child("GROMACS")
    assert state.records[package].fields == {
        "homepage": "https://www.gromacs.org/",
        "is_extension": False,
    }
    dates = [state.records[package.child(v, "")].fields for v in ("2024.4", "2024.1", "2023.3")]
    assert dates == [
        {"release_date": "2024-11-01"},
        {"release_date": "2024-02-28"},
        {"release_date": None},
    ]
    assert state.records[CAT.child("Python")].fields == {"homepage": None, "description": ""}


def test_catalog_type_and_module_version_defaults_are_key_parts(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        """\
        catalogs:
          - {name: EESSI, version: "2023.06", packages: [{name: A, versions: [{version: "1"}]}]}
          - {name: spack, version: "1.0", catalog_type: package_manager}
        """,
    )
    assert CAT.child("A").child("1", "") in state.records
    assert catalog_key("spack", "1.0", "package_manager") in state.policies


def test_catalog_ignore_fields_apply_to_everything_below(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        catalog(
            DEFAULTS,
            """\
            description: x
            ignore_fields: [description, path]
            packages:
              - name: A
                description: y
                homepage: https://a.org
                versions: [{version: "1"}]
            """,
        ),
    )
    assert state.policies[CAT].ignore_fields == frozenset({"description", "path"})
    assert state.records[CAT].fields == {}
    assert state.records[CAT.child("A")].fields == {"homepage": "https://a.org"}
    assert all(state.records[k].fields == {} for k in kinds(state, Kind.TARGET))
    assert len(kinds(state, Kind.TARGET)) == 2


def test_package_ignore_fields_apply_to_that_package_only(tmp_path: Path) -> None:
    state = load(
        tmp_path,
        catalog(
            """\
            packages:
              - name: A
                description: a
                ignore_fields: [description, release_date]
                versions: [{version: "1", release_date: 2024-01-01}]
              - name: B
                description: b
                versions: [{version: "1", release_date: 2024-01-01}]
            """
        ),
    )
    assert state.records[CAT.child("A")].fields == {}
    assert state.records[CAT.child("A").child("1", "")].fields == {}
    assert state.records[CAT.child("B")].fields == {"description": "b"}
    assert state.records[CAT.child("B").child("1", "")].fields == {"release_date": "2024-01-01"}
    assert state.policies[CAT].ignore_fields == frozenset()


def test_absent_catalog_is_a_record_and_a_policy_without_children(tmp_path: Path) -> None:
    state = load(tmp_path, catalog("state: absent\ndescription: gone\nprune: false\n"))
    assert state.records[CAT].fields == {}
    assert state.policies[CAT] == CatalogPolicy(prune=False, absent=True)
    assert list(state.records) == [CAT]


def test_directories_are_read_in_name_order_and_merged(tmp_path: Path) -> None:
    folder = tmp_path / "desired"
    folder.mkdir()
    write(folder, "b.yml", 'catalogs: [{name: B, version: "1"}]\n')
    write(folder, "a.yaml", 'catalogs: [{name: A, version: "1"}]\n')
    write(folder, "notes.txt", "not yaml at all: [")
    write(folder, ".hidden.yaml", "broken: [")
    (folder / "sub.yaml").mkdir()
    extra = write(tmp_path, "c.yaml", 'catalogs: [{name: C, version: "1"}]\n')
    state = load_desired([folder, extra, folder / "a.yaml"])
    assert state.sources == (str(folder / "a.yaml"), str(folder / "b.yml"), str(extra))
    assert [k.parts[0] for k in state.catalogs()] == ["A", "B", "C"]


def test_the_same_key_in_two_files_names_both_places(tmp_path: Path) -> None:
    first = write(tmp_path, "1.yaml", catalog("packages: [{name: GROMACS}]\n"))
    second = write(tmp_path, "2.yaml", "# a comment\n" + catalog())
    found = errors([first, second])
    assert found == [
        f"{second}:3: catalogs[0]: catalog EESSI 2023.06 is declared twice: first at {first}:2"
    ]


def test_duplicate_versions_and_targets_within_a_file(tmp_path: Path) -> None:
    found = error_of(
        tmp_path,
        catalog(
            """\
            packages:
              - name: A
                versions:
                  - version: "1"
                    targets:
                      - {architecture: x86_64/generic}
                      - {cpu_family: x86_64, cpu_microarchitecture: generic}
                  - {version: "1", module_version: ""}
            """
        ),
    )
    assert len(found) == 2
    assert found[0].endswith(
        "targets[1]: target EESSI 2023.06 / A / 1 / x86_64/generic is "
        f"declared twice: first at {tmp_path / 'd.yaml'}:9"
    )
    assert "versions[1]: version EESSI 2023.06 / A / 1 is declared twice" in found[1]


def test_all_problems_of_all_files_are_reported_together(tmp_path: Path) -> None:
    one = write(tmp_path, "1.yaml", catalog("prune: maybe\npackages: [{name: 1.5}]\n"))
    two = write(tmp_path, "2.yaml", "catalogs:\n  - {name: X, version: 1}\n")
    found = errors([one, two, tmp_path / "missing.yaml"])
    assert [PROBLEM.match(p)["line"] if PROBLEM.match(p) else None for p in found] == [
        "4",
        "5",
        "2",
        None,
    ]
    assert found[-1] == f"{tmp_path / 'missing.yaml'}: no such file or directory"
    assert 'YAML read 1 as a number; quote it: "1"' in found[2]


def test_the_float_version_message(tmp_path: Path) -> None:
    found = error_of(
        tmp_path, catalog("packages:\n  - name: A\n    versions:\n      - version: 2023.10\n")
    )
    assert found == [
        f"{tmp_path / 'd.yaml'}:7: catalogs[0].packages[0].versions[0].version: must be a "
        'string — YAML read 2023.10 as a number; quote it: "2023.10"'
    ]


def test_a_bad_catalog_does_not_hide_problems_in_the_next(tmp_path: Path) -> None:
    found = error_of(
        tmp_path,
        """\
        catalogs:
          - {name: A, version: "1", nonsense: 1}
          - {name: B, version: "1", target_defaults: {architectures: [x86_64/a, x86_64/a]}}
        """,
    )
    assert "catalogs[0].nonsense: unknown field" in found[0]
    assert (
        "catalogs[1].target_defaults.architectures[1]: architecture x86_64/a is listed twice"
        in found[1]
    )


def test_an_over_long_expanded_path_is_an_error(tmp_path: Path) -> None:
    template = "/" + "x" * 480 + "/{package}"
    found = error_of(
        tmp_path,
        catalog(
            f"target_defaults: {{architectures: [x86_64/generic], path: '{template}'}}\n"
            f"packages: [{{name: {'P' * 30}, versions: [{{version: '1'}}]}}]\n"
        ),
    )
    assert len(found) == 1 and "512-character path for x86_64/generic" in found[0]


def test_problems_are_capped(tmp_path: Path) -> None:
    names = "".join(f"  - {{name: {i}, version: '1'}}\n" for i in range(MAX_PROBLEMS + 50))
    found = error_of(tmp_path, "catalogs:\n" + names)
    assert len(found) == MAX_PROBLEMS + 1 and found[-1] == "… and 50 more"


def test_empty_inputs(tmp_path: Path) -> None:
    assert errors([]) == ["no desired-state file given"]
    assert errors([tmp_path]) == [f"{tmp_path}: directory has no *.yaml or *.yml file"]
    assert load(tmp_path, "catalogs: []\n").records == {}


def test_the_schema_is_valid_and_describes_the_format() -> None:
    schema = desired_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["required"] == ["catalogs"]
    catalog_props = schema["$defs"]["CatalogSpec"]["properties"]
    assert catalog_props["catalog_type"]["enum"] == [
        "binary_runtime",
        "source_package",
        "package_manager",
    ]
    assert all("description" in prop for prop in catalog_props.values())
    json.dumps(schema)


def _as_json(path: Path) -> object:
    """What an editor's YAML language server sees: dates are plain strings in YAML 1.2."""
    return json.loads(json.dumps(load_yaml(path).data, default=str))


def test_every_example_validates_against_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(desired_json_schema())
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    assert EXAMPLE in examples
    for path in examples:
        assert list(validator.iter_errors(_as_json(path))) == [], path


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda c: c["packages"][0]["versions"][0].update(version=2024.4), "version"),
        (lambda c: c.update(catalog_type="binary"), "catalog_type"),
        (lambda c: c.update(descripton="x"), "additionalProperties"),
        (lambda c: c["packages"][4]["versions"][2]["targets"][0].update(cpu_family="x"), 0),
        (lambda c: c["target_defaults"]["architectures"].append("zen3"), 4),
    ],
)
def test_a_broken_example_fails_the_schema(change: object, where: str | int) -> None:
    data = _as_json(EXAMPLE)
    change(data["catalogs"][0])  # type: ignore[operator, index]
    validator = jsonschema.Draft202012Validator(desired_json_schema())
    (error,) = validator.iter_errors(data)
    tail = error.validator if where == "additionalProperties" else error.absolute_path[-1]
    assert tail == where


def _eessi_desired(explicit: bool) -> str:
    software = json.loads(data_file(*EESSI_FULL).read_text())["software"]
    lines = ["catalogs:", "  - name: EESSI", '    version: "2023.06"', "    target_defaults:"]
    everything = sorted({t for pkg in software.values() for t in pkg["targets"]})
    archs = [t.removeprefix(EESSI_PREFIX) for t in everything]
    lines += [f"      architectures: [{', '.join(archs)}]"]
    lines += [
        f"      path: {EESSI_PREFIX}{{cpu_family}}/{{cpu_microarchitecture}}",
        "    packages:",
    ]
    for name, pkg in software.items():
        lines += [f"      - name: {json.dumps(name)}", "        versions:"]
        for module, version in pkg["versions"].items():
            module_version = module.removeprefix(name + "/")
            lines.append(f"          - version: {json.dumps(module_version.split('-')[0])}")
            lines.append(f"            module_version: {json.dumps(module_version)}")
            if explicit or len(version["targets"]) != len(everything):
                lines.append("            targets:")
                for target in sorted(version["targets"]):
                    family, micro = target.removeprefix(EESSI_PREFIX).split("/", 1)
                    lines.append(
                        f"              - {{cpu_family: {family}, cpu_microarchitecture: {micro}, "
                        f"path: {target}}}"
                    )
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("explicit", [False, True], ids=["defaults", "explicit"])
def test_the_full_eessi_catalog_loads(tmp_path: Path, explicit: bool) -> None:
    """Both spellings of the full catalog give every object (its speed: bench/, not here)."""
    path = tmp_path / "eessi.yaml"
    path.write_text(_eessi_desired(explicit))
    state = load_desired([path])
    counts = [len(kinds(state, kind)) for kind in TREE]
    assert counts == [1, 654, 1200, 16751]


def test_white_space_around_the_slash_of_an_architecture_is_stripped_as_the_server_does(
    tmp_path: Path,
) -> None:
    """The server strips each field it stores; a key that kept "x86_64 " would never match
    what it holds (found by the property tests: create, delete, create … forever)."""
    text = catalog(
        """\
        packages:
          - name: A
            versions:
              - version: "1"
                targets:
                  - architecture: "x86_64 / amd/zen3"
        """
    )
    (target,) = kinds(load(tmp_path, text), Kind.TARGET)
    assert target.parts[6:] == ("x86_64", "amd/zen3")


def test_metadata_too_large_for_a_request_is_refused(tmp_path: Path) -> None:
    blob = "a" * (600 * 1024)
    (problem,) = error_of(tmp_path, catalog(f'metadata: {{blob: "{blob}"}}\n'))
    assert "metadata is 614,412 bytes as JSON; at most 524,288" in problem
