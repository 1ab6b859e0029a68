"""Every filter row and `o` ordering of the contract table, on a server holding known data only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.sim.helpers import Api
from waldur_sim.launcher import SimProcess

EESSI = "/cvmfs/software.eessi.io/versions/2023.06/software/linux"
TREE: dict[tuple[str, str, str], dict[str, dict[tuple[str, str], list[tuple[str, str]]]]] = {
    # (catalog name, version, type) → package → (version, module_version) → [(family, micro)]
    ("EESSI", "2023.06", "binary_runtime"): {
        "GROMACS": {
            ("2024.4", "2024.4-foss-2023b"): [
                ("x86_64", "generic"),
                ("x86_64", "amd/zen3"),
                ("aarch64", "neoverse_v1"),
            ],
            ("2023.3", "2023.3-foss-2023a"): [("x86_64", "generic")],
        },
        "OpenFOAM": {("11", "11-foss-2023a"): [("aarch64", "generic")]},
        "Python": {},
    },
    ("EESSI", "2025.06", "binary_runtime"): {
        "GROMACS": {("2024.4", "2024.4-foss-2024a"): [("x86_64", "intel/icelake")]},
    },
    ("Spack", "1.0", "source_package"): {"gromacs": {("2024.4", ""): []}},
}
CATALOG_EXTRAS = {
    "2023.06": {
        "description": "European Environment for Scientific Software",
        "auto_update_enabled": True,
    },
    "2025.06": {"description": "next", "auto_update_enabled": False},
    "1.0": {"description": "Spack packages", "auto_update_enabled": True},
}
RELEASE_DATES = {"2024.4-foss-2023b": "2024-05-02", "11-foss-2023a": "2023-07-01"}


@pytest.fixture(scope="module")
def known() -> Iterator[tuple[Api, dict[str, dict[str, Any]]]]:
    """A fresh server holding TREE only; objects by label (`EESSI/2023.06/GROMACS/2024.4`)."""
    with SimProcess() as process:
        api = Api(process)
        objects: dict[str, dict[str, Any]] = {}
        for (name, cat_version, cat_type), packages in TREE.items():
            catalog = api.catalog(
                name=name, version=cat_version, catalog_type=cat_type, **CATALOG_EXTRAS[cat_version]
            )
            objects[f"{name}/{cat_version}"] = catalog
            for package_name, versions in packages.items():
                package = api.package(catalog, name=package_name)
                objects[f"{name}/{cat_version}/{package_name}"] = package
                for (ver, module), targets in versions.items():
                    version = api.version(
                        package,
                        version=ver,
                        module_version=module,
                        release_date=RELEASE_DATES.get(module),
                    )
                    label = f"{name}/{cat_version}/{package_name}/{ver}"
                    objects[label] = version
                    for family, micro in targets:
                        objects[f"{label}/{family}/{micro}"] = api.target(
                            version,
                            cpu_family=family,
                            cpu_microarchitecture=micro,
                            path=f"{EESSI}/{family}/{micro}",
                        )
        yield api, objects
        api.close()


def listed(known: tuple[Api, dict[str, dict[str, Any]]], kind: str, **params: Any) -> set[str]:
    """Labels of the objects a filtered listing returns."""
    api, objects = known
    by_uuid = {obj["uuid"]: label for label, obj in objects.items()}
    return {by_uuid[item["uuid"]] for item in api.items(kind, **params)}


def ordered(
    known: tuple[Api, dict[str, dict[str, Any]]], kind: str, o: str, **params: Any
) -> list[str]:
    api, objects = known
    by_uuid = {obj["uuid"]: label for label, obj in objects.items()}
    return [by_uuid[item["uuid"]] for item in api.items(kind, o=o, **params)]


def bad(known: tuple[Api, dict[str, dict[str, Any]]], kind: str, **params: Any) -> tuple[int, Any]:
    response = known[0].list(kind, **params)
    return response.status_code, response.json()


ALL_CATALOGS = {"EESSI/2023.06", "EESSI/2025.06", "Spack/1.0"}
GROMACS_2024 = "EESSI/2023.06/GROMACS/2024.4"
INVALID_UUID = ["Enter a valid UUID."]


def uuid_of(known: tuple[Api, dict[str, dict[str, Any]]], label: str, hyphens: bool = False) -> str:
    value = known[1][label]["uuid"]
    return str(uuid.UUID(hex=value)) if hyphens else value


# -- catalogs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "ees"}, {"EESSI/2023.06", "EESSI/2025.06"}),
        ({"version": "2023"}, {"EESSI/2023.06"}),
        ({"description": "EUROPEAN"}, {"EESSI/2023.06"}),
        ({"catalog_type": "source_package"}, {"Spack/1.0"}),
        ({"auto_update_enabled": "false"}, {"EESSI/2025.06"}),
        ({"auto_update_enabled": "True"}, {"EESSI/2023.06", "Spack/1.0"}),
        ({"auto_update_enabled": "1"}, {"EESSI/2023.06", "Spack/1.0"}),
        ({"auto_update_enabled": "maybe"}, ALL_CATALOGS),
        ({"name": ""}, ALL_CATALOGS),
        ({"no_such_filter": "x"}, ALL_CATALOGS),
        ({"name": "spack", "version": "2023"}, set()),
    ],
)
def test_catalog_filters(known: Any, params: dict[str, str], expected: set[str]) -> None:
    assert listed(known, "catalog", **params) == expected


def test_catalog_type_must_be_a_known_choice(known: Any) -> None:
    assert bad(known, "catalog", catalog_type="rpm") == (
        400,
        {"catalog_type": ["Select a valid choice. rpm is not one of the available choices."]},
    )


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        ("name,-version", ["EESSI/2025.06", "EESSI/2023.06", "Spack/1.0"]),
        ("-name,version", ["Spack/1.0", "EESSI/2023.06", "EESSI/2025.06"]),
        ("version", ["Spack/1.0", "EESSI/2023.06", "EESSI/2025.06"]),
        ("catalog_type,-version", ["EESSI/2025.06", "EESSI/2023.06", "Spack/1.0"]),
        ("created", ["EESSI/2023.06", "EESSI/2025.06", "Spack/1.0"]),
        ("-modified", ["Spack/1.0", "EESSI/2025.06", "EESSI/2023.06"]),
    ],
)
def test_catalog_ordering(known: Any, o: str, expected: list[str]) -> None:
    assert ordered(known, "catalog", o) == expected


@pytest.mark.parametrize("kind", ["catalog", "package", "version", "target"])
def test_an_unknown_ordering_is_400(known: Any, kind: str) -> None:
    assert bad(known, kind, o="-bogus") == (
        400,
        {"o": ["Select a valid choice. -bogus is not one of the available choices."]},
    )


# -- packages -------------------------------------------------------------------------------------


def test_package_catalog_uuid_takes_both_uuid_forms(known: Any) -> None:
    expected = {"EESSI/2023.06/GROMACS", "EESSI/2023.06/OpenFOAM", "EESSI/2023.06/Python"}
    for hyphens in (False, True):
        assert (
            listed(known, "package", catalog_uuid=uuid_of(known, "EESSI/2023.06", hyphens))
            == expected
        )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "grom"}, {"EESSI/2023.06/GROMACS", "EESSI/2025.06/GROMACS", "Spack/1.0/gromacs"}),
        (
            {"name_exact": "gromacs"},
            {"EESSI/2023.06/GROMACS", "EESSI/2025.06/GROMACS", "Spack/1.0/gromacs"},
        ),
        ({"name_exact": "GROM"}, set()),
        ({"catalog_name": "spa"}, {"Spack/1.0/gromacs"}),
        ({"catalog_version": "2025"}, {"EESSI/2025.06/GROMACS"}),
        ({"cpu_family": "aarch64"}, {"EESSI/2023.06/GROMACS", "EESSI/2023.06/OpenFOAM"}),
        (
            {"cpu_family": ["aarch64", "x86_64"]},
            {"EESSI/2023.06/GROMACS", "EESSI/2023.06/OpenFOAM", "EESSI/2025.06/GROMACS"},
        ),
        ({"cpu_microarchitecture": "amd/zen3"}, {"EESSI/2023.06/GROMACS"}),
        (
            {"cpu_microarchitecture": ["generic", "intel/icelake"]},
            {"EESSI/2023.06/GROMACS", "EESSI/2023.06/OpenFOAM", "EESSI/2025.06/GROMACS"},
        ),
        ({"cpu_family": "x86_64", "cpu_microarchitecture": "generic"}, {"EESSI/2023.06/GROMACS"}),
        ({"has_version": "2023.3"}, {"EESSI/2023.06/GROMACS"}),
        ({"has_version": "2023"}, set()),  # exact, not a substring
    ],
)
def test_package_filters(known: Any, params: dict[str, Any], expected: set[str]) -> None:
    assert listed(known, "package", **params) == expected


@pytest.mark.parametrize(
    ("o", "expected"),
    [
        (
            "name",
            [
                "EESSI/2023.06/GROMACS",
                "EESSI/2025.06/GROMACS",
                "EESSI/2023.06/OpenFOAM",
                "EESSI/2023.06/Python",
                "Spack/1.0/gromacs",
            ],
        ),
        (
            "-catalog_version,-name",
            [
                "EESSI/2025.06/GROMACS",
                "EESSI/2023.06/Python",
                "EESSI/2023.06/OpenFOAM",
                "EESSI/2023.06/GROMACS",
                "Spack/1.0/gromacs",
            ],
        ),
        (
            "-catalog_name,created",
            [
                "Spack/1.0/gromacs",
                "EESSI/2023.06/GROMACS",
                "EESSI/2023.06/OpenFOAM",
                "EESSI/2023.06/Python",
                "EESSI/2025.06/GROMACS",
            ],
        ),
    ],
)
def test_package_ordering(known: Any, o: str, expected: list[str]) -> None:
    assert ordered(known, "package", o) == expected


# -- versions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"version": "2024"},
            {GROMACS_2024, "EESSI/2025.06/GROMACS/2024.4", "Spack/1.0/gromacs/2024.4"},
        ),
        (
            {"version_exact": "2024.4"},
            {GROMACS_2024, "EESSI/2025.06/GROMACS/2024.4", "Spack/1.0/gromacs/2024.4"},
        ),
        ({"version_exact": "2024"}, set()),
        ({"package_name": "FOAM"}, {"EESSI/2023.06/OpenFOAM/11"}),
        ({"cpu_family": "aarch64"}, {GROMACS_2024, "EESSI/2023.06/OpenFOAM/11"}),
        (
            {"cpu_microarchitecture": ["amd/zen3", "intel/icelake"]},
            {GROMACS_2024, "EESSI/2025.06/GROMACS/2024.4"},
        ),
    ],
)
def test_version_filters(known: Any, params: dict[str, Any], expected: set[str]) -> None:
    assert listed(known, "version", **params) == expected


def test_version_parent_uuid_filters(known: Any) -> None:
    package = uuid_of(known, "EESSI/2023.06/GROMACS")
    assert listed(known, "version", package_uuid=package) == {
        GROMACS_2024,
        "EESSI/2023.06/GROMACS/2023.3",
    }
    catalog = uuid_of(known, "EESSI/2023.06", hyphens=True)
    assert listed(known, "version", catalog_uuid=catalog) == {
        GROMACS_2024,
        "EESSI/2023.06/GROMACS/2023.3",
        "EESSI/2023.06/OpenFOAM/11",
    }


@pytest.mark.parametrize(
    ("o", "first", "last"),
    [
        ("release_date", "EESSI/2023.06/OpenFOAM/11", None),  # dates ascending, no date last
        ("-release_date", None, "EESSI/2023.06/OpenFOAM/11"),  # no date first
    ],
)
def test_version_ordering(known: Any, o: str, first: str | None, last: str | None) -> None:
    labels = ordered(known, "version", o)
    dates = {label: known[1][label]["release_date"] for label in labels}
    if first is not None:
        assert labels[0] == first
    else:
        assert dates[labels[0]] is None
    if last is not None:
        assert labels[-1] == last
    else:
        assert dates[labels[-1]] is None


def test_version_ordering_by_package_name(known: Any) -> None:
    labels = ordered(known, "version", "-package_name")
    package_names = [known[1][label]["package_name"] for label in labels]
    assert package_names == sorted(package_names, reverse=True)


def test_version_ordering_by_version_and_created(known: Any) -> None:
    labels = ordered(known, "version", "version,created")
    assert [known[1][label]["version"] for label in labels] == [
        "11",
        "2023.3",
        "2024.4",
        "2024.4",
        "2024.4",
    ]
    assert labels[2:] == [GROMACS_2024, "EESSI/2025.06/GROMACS/2024.4", "Spack/1.0/gromacs/2024.4"]


# -- targets --------------------------------------------------------------------------------------

X86_GENERIC = {f"{GROMACS_2024}/x86_64/generic", "EESSI/2023.06/GROMACS/2023.3/x86_64/generic"}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"cpu_family": "X86_64"},
            X86_GENERIC
            | {
                f"{GROMACS_2024}/x86_64/amd/zen3",
                "EESSI/2025.06/GROMACS/2024.4/x86_64/intel/icelake",
            },
        ),
        ({"cpu_family": "x86"}, set()),  # case-insensitive but exact
        (
            {"cpu_microarchitecture": "GENERIC"},
            X86_GENERIC | {"EESSI/2023.06/OpenFOAM/11/aarch64/generic"},
        ),
        (
            {"cpu_microarchitecture": ["amd/zen3", "neoverse_v1"]},
            {f"{GROMACS_2024}/x86_64/amd/zen3", f"{GROMACS_2024}/aarch64/neoverse_v1"},
        ),
        (
            {"cpu_family": "aarch64", "cpu_microarchitecture": "generic"},
            {"EESSI/2023.06/OpenFOAM/11/aarch64/generic"},
        ),
        (
            {"path": "LINUX/AARCH64"},
            {f"{GROMACS_2024}/aarch64/neoverse_v1", "EESSI/2023.06/OpenFOAM/11/aarch64/generic"},
        ),
    ],
)
def test_target_filters(known: Any, params: dict[str, Any], expected: set[str]) -> None:
    assert listed(known, "target", **params) == expected


def test_target_parent_uuid_filters(known: Any) -> None:
    in_version = {
        f"{GROMACS_2024}/x86_64/generic",
        f"{GROMACS_2024}/x86_64/amd/zen3",
        f"{GROMACS_2024}/aarch64/neoverse_v1",
    }
    assert listed(known, "target", version_uuid=uuid_of(known, GROMACS_2024)) == in_version
    in_package = in_version | {"EESSI/2023.06/GROMACS/2023.3/x86_64/generic"}
    assert (
        listed(known, "target", package_uuid=uuid_of(known, "EESSI/2023.06/GROMACS", True))
        == in_package
    )
    in_catalog = in_package | {"EESSI/2023.06/OpenFOAM/11/aarch64/generic"}
    assert listed(known, "target", catalog_uuid=uuid_of(known, "EESSI/2023.06")) == in_catalog
    assert listed(known, "target", offering_uuid=uuid.uuid4().hex) == set()


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        ("package", ["catalog_uuid"]),
        ("version", ["package_uuid", "catalog_uuid"]),
        ("target", ["catalog_uuid", "package_uuid", "version_uuid", "offering_uuid"]),
    ],
)
def test_malformed_uuids_are_400_naming_each_parameter(
    known: Any, kind: str, params: list[str]
) -> None:
    for param in params:
        assert bad(known, kind, **{param: "nope"}) == (400, {param: INVALID_UUID})
    assert bad(known, kind, **dict.fromkeys(params, "123")) == (
        400,
        dict.fromkeys(params, INVALID_UUID),
    )


def test_target_ordering(known: Any) -> None:
    labels = ordered(known, "target", "cpu_microarchitecture,package_name")
    micros = [known[1][label]["cpu_microarchitecture"] for label in labels]
    assert micros == sorted(micros)
    by_package = ordered(known, "target", "-package_name,-created")
    assert by_package[0] == "EESSI/2023.06/OpenFOAM/11/aarch64/generic"
    assert by_package[1:4] == [
        "EESSI/2025.06/GROMACS/2024.4/x86_64/intel/icelake",
        "EESSI/2023.06/GROMACS/2023.3/x86_64/generic",
        f"{GROMACS_2024}/aarch64/neoverse_v1",
    ]


def test_a_repeated_single_value_filter_uses_the_last_value(known: Any) -> None:
    assert listed(known, "catalog", version=["2025", "2023"]) == {"EESSI/2023.06"}
