"""Waldur's generated client (`waldur-api-client` 8.1.x) reads the sim's offerings, links and
CPU targets as it reads the recorded server's.

The client's offering model is of a slightly different upstream than the recorded one: it does
not know six fields the recorded server sends (`roles`, `terms_of_service`, …). The sim sends
exactly the recorded server's fields, so it is held to that: whatever the client does not know
of a sim offering, it does not know of the recorded one either. The client's link model
requires `partition_name`, which upstream sends only for a link with a partition: the client
cannot parse upstream's own answer to `update_software_catalog` for a link without one
(sample 46), nor, faithfully, the sim's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import pytest
from waldur_api_client import AuthenticatedClient
from waldur_api_client.api.marketplace_provider_offerings import (
    marketplace_provider_offerings_add_software_catalog as add_catalog,
)
from waldur_api_client.api.marketplace_provider_offerings import (
    marketplace_provider_offerings_list as offerings_list,
)
from waldur_api_client.api.marketplace_provider_offerings import (
    marketplace_provider_offerings_retrieve as offerings_retrieve,
)
from waldur_api_client.api.marketplace_provider_offerings import (
    marketplace_provider_offerings_update_software_catalog_partial_update as update_catalog,
)
from waldur_api_client.api.marketplace_software_catalogs import (
    marketplace_software_catalogs_cpu_targets_list as cpu_targets_list,
)
from waldur_api_client.models import (
    OfferingSoftwareCatalog,
    OfferingSoftwareCatalogRequest,
    PatchedOfferingSoftwareCatalogUpdateRequest,
    ProviderOfferingDetails,
    SoftwareCatalogCpuTarget,
)

from tests.sim.helpers import Api
from tests.sim.samples import load
from waldur_sim.launcher import SimProcess


def client_of(sim: SimProcess, token: str) -> AuthenticatedClient:
    return AuthenticatedClient(base_url=sim.base_url, token=token, prefix="Token")


@pytest.fixture(scope="module")
def linked() -> Iterator[tuple[SimProcess, dict[str, Any]]]:
    """An offering ("HPC") linked to a catalog, and another catalog with an architectures map
    and a package, not linked yet."""
    with SimProcess("--dialect", "current", "--offering", "HPC", "--other-offering", "X") as sim:
        api = Api(sim)
        (offering,) = api.get(f"{sim.api_url}marketplace-provider-offerings/?name=HPC", "staff")
        url = f"{sim.api_url}marketplace-provider-offerings/{offering['uuid']}/"
        first = api.catalog()
        added = api.request("POST", f"{url}add_software_catalog/", json={"catalog": first["uuid"]})
        assert added.status_code == 201
        archmap = {"1.0": {"x86_64/generic": "x86_64/generic"}}
        catalog = api.catalog(metadata={"architectures_map": archmap})
        api.package(catalog)
        api.close()
        yield sim, catalog


def unknown_fields(offering: ProviderOfferingDetails) -> set[str]:
    for link in offering.software_catalogs:
        assert link.additional_properties == {}
        assert link.catalog.additional_properties == {}
    return set(offering.additional_properties)


def test_the_client_reads_offerings_links_and_cpu_targets(
    linked: tuple[SimProcess, dict[str, Any]],
) -> None:
    sim, catalog = linked
    with client_of(sim, sim.staff_token) as client:
        offerings = offerings_list.sync_detailed(client=client, name_exact="HPC").parsed
        assert offerings is not None
        (offering,) = offerings
        body = OfferingSoftwareCatalogRequest(
            offering=offering.uuid,
            catalog=UUID(catalog["uuid"]),
            enabled_cpu_family=["x86_64"],
            enabled_cpu_microarchitectures=["generic"],
        )
        added = add_catalog.sync_detailed(uuid=offering.uuid, client=client, body=body)
        assert added.status_code == 201 and added.parsed is not None
        detail = offerings_retrieve.sync_detailed(uuid=offering.uuid, client=client).parsed
        assert isinstance(detail, ProviderOfferingDetails)
        link = detail.software_catalogs[-1]
        assert (link.uuid, link.catalog.uuid) == (added.parsed.uuid, UUID(catalog["uuid"]))
        assert (link.enabled_cpu_family, link.package_count, link.partition) == (
            ["x86_64"],
            1,
            None,
        )
        assert link.catalog.supports_cpu_target_restrictions is True
        recorded = ProviderOfferingDetails.from_dict(load(33).json())
        assert unknown_fields(detail) == unknown_fields(recorded)
        listed = offerings_list.sync_detailed(client=client).parsed
        assert listed is not None and len(listed) == 2
        for item in listed:
            assert unknown_fields(item) <= unknown_fields(recorded)
        targets = cpu_targets_list.sync_detailed(uuid=UUID(catalog["uuid"]), client=client)
        assert targets.parsed == [SoftwareCatalogCpuTarget("x86_64", "generic", "x86_64/generic")]


def test_the_client_cannot_read_an_update_answer_without_a_partition(
    linked: tuple[SimProcess, dict[str, Any]],
) -> None:
    with pytest.raises(KeyError, match="partition_name"):
        OfferingSoftwareCatalog.from_dict(load(46).json())  # upstream's own answer
    sim, _ = linked
    with client_of(sim, sim.owner_token) as client:
        (offering,) = offerings_list.sync_detailed(client=client).parsed or []
        link = offering.software_catalogs[0]
        body = PatchedOfferingSoftwareCatalogUpdateRequest(
            offering_catalog_uuid=link.uuid, enabled_cpu_family=["aarch64"]
        )
        with pytest.raises(KeyError, match="partition_name"):
            update_catalog.sync_detailed(uuid=offering.uuid, client=client, body=body)
        again = offerings_retrieve.sync_detailed(uuid=offering.uuid, client=client).parsed
        assert again is not None
        assert again.software_catalogs[0].enabled_cpu_family == ["aarch64"]
