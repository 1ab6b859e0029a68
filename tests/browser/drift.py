"""Changes made to a waldur-sim behind the reconciler's back, with plain HTTP."""

from __future__ import annotations

import httpx


def delete_target(api_url: str, token: str, package: str, version: str, micro: str) -> None:
    """Delete the target `micro` (e.g. ``amd/zen3``) of `package` `version` on the server."""
    with httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=10) as http:
        found = http.get(
            api_url + "marketplace-software-packages/", params={"name_exact": package}
        ).json()
        assert len(found) == 1, found
        versions = [v for v in found[0]["versions"] if v["version"] == version]
        assert len(versions) == 1, versions
        targets = http.get(
            api_url + "marketplace-software-targets/",
            params={"version_uuid": versions[0]["uuid"], "page_size": 100},
        ).json()
        matching = [
            t for t in targets if t.get("cpu_microarchitecture", t.get("target_subtype")) == micro
        ]
        assert len(matching) == 1, targets
        assert http.delete(matching[0]["url"]).status_code == 204


def add_package(api_url: str, token: str, catalog: str, name: str) -> None:
    """A package the files do not declare, in the catalog named `catalog`."""
    with httpx.Client(headers={"Authorization": f"Token {token}"}, timeout=10) as http:
        catalogs = http.get(api_url + "marketplace-software-catalogs/").json()
        url = next(c["url"] for c in catalogs if c["name"] == catalog)
        answer = http.post(
            api_url + "marketplace-software-packages/", json={"catalog": url, "name": name}
        )
        assert answer.status_code == 201, answer.text
