"""Compaction of targets into target_defaults: template inference and the exactness rule."""

from __future__ import annotations

from reconciler.tools.compact import VersionTargets, compact, expand, infer_template

EESSI = "/cvmfs/software.eessi.io/versions/{catalog_version}/software/linux/"
ARCHS = (("aarch64", "neoverse_v1"), ("x86_64", "amd/zen3"), ("x86_64", "generic"))


def version(package: str, ver: str, module: str, template: str, archs=ARCHS, cat="2023.06"):
    values = {"package": package, "version": ver, "module_version": module}
    targets = tuple(
        (fam, micro, expand(template, {**values, "catalog_version": cat}, fam, micro))
        for fam, micro in archs
    )
    return VersionTargets(values, targets)


def test_infer_replaces_longest_values_first_and_escapes_braces():
    values = {
        "catalog_version": "2023.06",
        "cpu_family": "x86_64",
        "cpu_microarchitecture": "amd/zen3",
        "package": "GROMACS",
        "version": "2024.4",
        "module_version": "2024.4-foss-2023b",
    }
    path = "/sw/2023.06/x86_64/amd/zen3/GROMACS/2024.4-foss-2023b/{raw}"
    assert infer_template(path, values) == (
        "/sw/{catalog_version}/{cpu_family}/{cpu_microarchitecture}/{package}/"
        "{module_version}/{{raw}}"
    )
    assert infer_template("/opt/2024.4/x", values) == "/opt/{version}/x"
    assert infer_template("/a/{b}", {}) == "/a/{{b}}"


def test_the_common_pattern_becomes_defaults_and_the_odd_ones_stay_explicit():
    template = EESSI + "{cpu_family}/{cpu_microarchitecture}"
    versions = [
        version("GROMACS", "2024.4", "2024.4-foss-2023b", template),
        version("GROMACS", "2024.1", "2024.1-foss-2023b", template),
        version("RAxML", "8.2.13", "8.2.13-avx2", template, archs=ARCHS[1:]),  # fewer archs
        version("Odd", "1", "1-x", "/elsewhere/{cpu_microarchitecture}"),  # another path
        VersionTargets({"package": "Empty", "version": "0", "module_version": ""}, ()),
    ]
    found = compact("2023.06", versions)
    assert found.architectures == ARCHS
    assert found.template == template
    assert found.uses_defaults == (True, True, False, False, False)


def test_per_package_paths_are_found_when_they_reproduce_every_version():
    template = "/apps/{package}/{module_version}/{cpu_family}-{cpu_microarchitecture}"
    versions = [version(f"P{i}", f"{i}.0", f"{i}.0-gcc", template) for i in range(5)]
    found = compact("1", versions)
    assert found.template == template
    assert all(found.uses_defaults)


def test_no_pattern_means_no_defaults():
    versions = [
        VersionTargets(
            {"package": f"P{i}", "version": "1", "module_version": ""},
            (("x86_64", "generic", f"/random/{i * 7919 % 13}/path{i}"),),
        )
        for i in range(4)
    ]
    versions[0] = VersionTargets(versions[0].values, (("x86_64", "generic", "/nowhere"),))
    found = compact("1", versions)
    assert found.architectures == () and found.template is None
    assert found.uses_defaults == (False,) * 4


def test_a_single_user_is_not_worth_defaults():
    template = "/x/{cpu_family}"
    assert compact("1", [version("A", "1", "", template)]).architectures == ()
    assert compact("1", [version("A", "1", "", template), version("B", "1", "", template)]).template
