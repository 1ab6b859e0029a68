"""Waldur's own generated client, `waldur-api-client`, against `waldur-sim --dialect current`.

What the client cannot parse, a real server would not send: every answer to list, retrieve and
create of every kind must parse into the client's models (`from_dict` must not raise, `parsed`
must not be None), and the sim must send no field the models do not know.

The client (8.1.x, the API of the recorded server) creates versions and targets without a body,
because upstream makes them read-only: against the recorded profile that is the recorded 500.
Against the writable current profile they are created by sending the client's request with a
body, and its answer is still parsed by the client's own response handling.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import ModuleType
from typing import Any
from uuid import UUID

import pytest
from waldur_api_client import AuthenticatedClient, errors
from waldur_api_client.api.marketplace_software_catalogs import (
    marketplace_software_catalogs_create as catalogs_create,
)
from waldur_api_client.api.marketplace_software_catalogs import (
    marketplace_software_catalogs_list as catalogs_list,
)
from waldur_api_client.api.marketplace_software_catalogs import (
    marketplace_software_catalogs_retrieve as catalogs_retrieve,
)
from waldur_api_client.api.marketplace_software_packages import (
    marketplace_software_packages_create as packages_create,
)
from waldur_api_client.api.marketplace_software_packages import (
    marketplace_software_packages_list as packages_list,
)
from waldur_api_client.api.marketplace_software_packages import (
    marketplace_software_packages_retrieve as packages_retrieve,
)
from waldur_api_client.api.marketplace_software_targets import (
    marketplace_software_targets_create as targets_create,
)
from waldur_api_client.api.marketplace_software_targets import (
    marketplace_software_targets_list as targets_list,
)
from waldur_api_client.api.marketplace_software_targets import (
    marketplace_software_targets_retrieve as targets_retrieve,
)
from waldur_api_client.api.marketplace_software_versions import (
    marketplace_software_versions_create as versions_create,
)
from waldur_api_client.api.marketplace_software_versions import (
    marketplace_software_versions_list as versions_list,
)
from waldur_api_client.api.marketplace_software_versions import (
    marketplace_software_versions_retrieve as versions_retrieve,
)
from waldur_api_client.models import (
    CatalogTypeEnum,
    SoftwareCatalog,
    SoftwareCatalogRequest,
    SoftwareCatalogRequestMetadata,
    SoftwarePackage,
    SoftwarePackageRequest,
    SoftwareTarget,
    SoftwareVersion,
)

from tests.sim.helpers import unique
from waldur_sim.launcher import SimProcess

#: Open JSON objects in the models: their `additional_properties` are their content.
OPEN_MODELS = ("Metadata", "Dependencies", "SoftwareModule", "SoftwareToolchain")


def client_of(sim: SimProcess) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=sim.base_url, token=sim.staff_token, prefix="Token")


def assert_fully_known(value: Any, where: str = "answer") -> None:
    """No field of a parsed answer, at any depth, is unknown to the client's models."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            assert_fully_known(item, f"{where}[{index}]")
        return
    names = [a.name for a in getattr(type(value), "__attrs_attrs__", ())]
    if not names or type(value).__name__.endswith(OPEN_MODELS):
        return
    assert value.additional_properties == {}, f"{where}: fields unknown to the client"
    for name in names:
        if name != "additional_properties":
            assert_fully_known(getattr(value, name), f"{where}.{name}")


def parsed(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    assert response.parsed is not None
    assert_fully_known(response.parsed)
    return response.parsed


def create_with_body(module: ModuleType, client: AuthenticatedClient, body: dict[str, Any]) -> Any:
    """The client's body-less create of a version or target, sent with `body`."""
    kwargs = module._get_kwargs() | {"json": body}
    response = client.get_httpx_client().request(**kwargs)
    return module._build_response(client=client, response=response)


@pytest.fixture(scope="module")
def current() -> Iterator[tuple[SimProcess, AuthenticatedClient]]:
    with SimProcess("--dialect", "current") as sim, client_of(sim) as client:
        yield sim, client


@pytest.fixture(scope="module")
def tree(current: tuple[SimProcess, AuthenticatedClient]) -> dict[str, Any]:
    """One object of every kind, created through the client; each value is the parsed 201."""
    _, client = current
    body = SoftwareCatalogRequest(
        name=unique("EESSI"),
        version="2023.06",
        catalog_type=CatalogTypeEnum.BINARY_RUNTIME,
        source_url="https://www.eessi.io/",
        description="EESSI",
        metadata=SoftwareCatalogRequestMetadata.from_dict({"architectures_map": {}}),
        auto_update_enabled=False,
        update_errors="",
    )
    catalog = parsed(catalogs_create.sync_detailed(client=client, body=body), 201)
    body = SoftwarePackageRequest(
        catalog=catalog.url, name="GROMACS", homepage="https://www.gromacs.org"
    )
    package = parsed(packages_create.sync_detailed(client=client, body=body), 201)
    version = parsed(
        create_with_body(
            versions_create,
            client,
            {"package": package.url, "version": "2024.1", "module_version": "2024.1-foss-2023b"},
        ),
        201,
    )
    target = parsed(
        create_with_body(
            targets_create,
            client,
            {
                "version": version.url,
                "target_type": "cpu_architecture",
                "target_name": "x86_64",
                "target_subtype": "amd/zen3",
                "location": "/cvmfs/x86_64/amd/zen3",
                "gpu_architectures": ["nvidia/cc90"],
            },
        ),
        201,
    )
    return {"catalog": catalog, "package": package, "version": version, "target": target}


def test_created_objects_parse_with_upstream_defaults(tree: dict[str, Any]) -> None:
    catalog, package = tree["catalog"], tree["package"]
    version, target = tree["version"], tree["target"]
    assert isinstance(catalog, SoftwareCatalog)
    assert (catalog.catalog_type, catalog.catalog_type_display) == (
        CatalogTypeEnum.BINARY_RUNTIME,
        "Binary Runtime (EESSI)",
    )
    assert catalog.supports_cpu_target_restrictions is True
    assert (catalog.last_update_attempt, catalog.last_successful_update) == (None, None)
    assert catalog.update_errors == ""
    assert isinstance(package, SoftwarePackage)
    assert (package.categories, package.parent_softwares, package.extension_count) == ([], [], 0)
    assert (package.catalog_type, package.versions) == ("binary_runtime", [])
    assert isinstance(version, SoftwareVersion)
    assert (version.package_name, version.catalog_type, version.target_count) == (
        "GROMACS",
        "binary_runtime",
        0,
    )
    assert version.release_date is None
    assert isinstance(target, SoftwareTarget)
    assert (target.target_name, target.target_subtype, target.gpu_architectures) == (
        "x86_64",
        "amd/zen3",
        ["nvidia/cc90"],
    )


def test_retrieve_parses_every_kind(
    current: tuple[SimProcess, AuthenticatedClient], tree: dict[str, Any]
) -> None:
    _, client = current
    for kind, module in (
        ("catalog", catalogs_retrieve),
        ("package", packages_retrieve),
        ("version", versions_retrieve),
        ("target", targets_retrieve),
    ):
        retrieved = parsed(module.sync_detailed(uuid=tree[kind].uuid, client=client))
        assert retrieved.uuid == tree[kind].uuid
    package = parsed(packages_retrieve.sync_detailed(uuid=tree["package"].uuid, client=client))
    (embedded,) = package.versions
    assert (embedded.uuid, embedded.module_version) == (tree["version"].uuid, "2024.1-foss-2023b")
    (nested_target,) = embedded.targets
    assert (nested_target.uuid, nested_target.target_subtype) == (tree["target"].uuid, "amd/zen3")
    version = parsed(versions_retrieve.sync_detailed(uuid=tree["version"].uuid, client=client))
    assert version.target_count == 1


def test_list_parses_every_kind(
    current: tuple[SimProcess, AuthenticatedClient], tree: dict[str, Any]
) -> None:
    _, client = current
    catalog_uuid: UUID = tree["catalog"].uuid  # the client sends it hyphenated
    answers = {
        "catalog": catalogs_list.sync_detailed(client=client, name=tree["catalog"].name),
        "package": packages_list.sync_detailed(client=client, catalog_uuid=catalog_uuid),
        "version": versions_list.sync_detailed(client=client, catalog_uuid=catalog_uuid),
        "target": targets_list.sync_detailed(client=client, catalog_uuid=catalog_uuid),
    }
    for kind, response in answers.items():
        (item,) = parsed(response)
        assert item.uuid == tree[kind].uuid
        assert response.headers["X-Result-Count"] == "1"


def test_lists_of_many_kinds_of_objects_parse(
    current: tuple[SimProcess, AuthenticatedClient], tree: dict[str, Any]
) -> None:
    _, client = current
    for catalog_type in CatalogTypeEnum:
        body = SoftwareCatalogRequest(name=unique("c"), version="1", catalog_type=catalog_type)
        parsed(catalogs_create.sync_detailed(client=client, body=body), 201)
    catalogs = parsed(catalogs_list.sync_detailed(client=client, page_size=300))
    restrictable = {c.catalog_type: c.supports_cpu_target_restrictions for c in catalogs}
    assert restrictable == {
        CatalogTypeEnum.BINARY_RUNTIME: True,
        CatalogTypeEnum.SOURCE_PACKAGE: False,
        CatalogTypeEnum.PACKAGE_MANAGER: False,
    }
    for module in (packages_list, versions_list, targets_list):
        assert parsed(module.sync_detailed(client=client, page_size=300))


def test_against_the_recorded_profile(recorded_sim: SimProcess) -> None:
    """Read-only versions and targets: the client lists and retrieves them; its own create
    (no body) meets the 500 the recorded server answers."""
    with client_of(recorded_sim) as client:
        for list_module, retrieve_module in (
            (catalogs_list, catalogs_retrieve),
            (packages_list, packages_retrieve),
            (versions_list, versions_retrieve),
            (targets_list, targets_retrieve),
        ):
            items = parsed(list_module.sync_detailed(client=client))
            assert items
            parsed(retrieve_module.sync_detailed(uuid=items[0].uuid, client=client))
        for create in (versions_create, targets_create):
            with pytest.raises(errors.UnexpectedStatus) as raised:
                create.sync_detailed(client=client)
            assert raised.value.status_code == 500


def test_what_upstream_loaders_store_parses(
    current: tuple[SimProcess, AuthenticatedClient], tree: dict[str, Any]
) -> None:
    """A package with a parent, categories and licenses, and a version with full metadata
    (written through the writable profile) parse; the client's own filters find them."""
    sim, client = current
    headers = {"Authorization": f"Token {sim.staff_token}"}
    http = client.get_httpx_client()
    body = {
        "catalog": tree["catalog"].url,
        "name": unique("numpy"),
        "is_extension": True,
        "categories": ["math"],
        "licenses": ["BSD-3-Clause"],
        "maintainers": ["someone"],
        "parent_softwares": [tree["package"].url],
    }
    created = http.post("/api/marketplace-software-packages/", json=body, headers=headers)
    assert created.status_code == 201, created.text
    metadata = {
        "module": {"module_name": "numpy", "module_version": "1.26.0"},
        "required_modules": [{"module_name": "Python", "module_version": "3.11"}],
        "extensions": [{"type": "python", "name": "cython", "version": "3.0"}],
        "toolchain": {"name": "foss", "version": "2023b"},
        "toolchain_families_compatibility": ["2023b_foss"],
    }
    body = {"package": created.json()["url"], "version": "1.26.0", "metadata": metadata}
    body |= {"dependencies": {"build": ["cmake"], "run": ["Python"]}}
    assert http.post("/api/marketplace-software-versions/", json=body, headers=headers)
    extension = parsed(packages_retrieve.sync_detailed(uuid=created.json()["uuid"], client=client))
    (parent,) = extension.parent_softwares
    assert (parent.uuid, parent.name, parent.versions) == (
        tree["package"].uuid,
        "GROMACS",
        ["2024.1"],
    )
    (embedded,) = extension.versions
    assert (embedded.toolchain.name, embedded.toolchain.version) == ("foss", "2023b")
    found = parsed(packages_list.sync_detailed(client=client, has_gpu=False, category="math"))
    assert [p.uuid for p in found] == [extension.uuid]
    gromacs = parsed(packages_retrieve.sync_detailed(uuid=tree["package"].uuid, client=client))
    assert (gromacs.extension_count, [e.name for e in gromacs.extensions]) == (1, [extension.name])
    versions = parsed(versions_list.sync_detailed(client=client, toolchain_name="foss"))
    assert [v.version for v in versions] == ["1.26.0"]
