"""The recorded session with offerings (samples 01 to 121, `data/api_samples/`) replayed against
waldur-sim in the recorded order, and how to compare each answer with the recorded one.

The sim plays the recorded server's two offerings: `--offering "Peer HPC cluster"` (of the
organisation the owner token owns, as offering A was) and `--other-offering "Other HPC
cluster"` (of another organisation, as offering B was). Every uuid the recording names (from
`fixture.json` and `ids.json`, and the ones its answers created) is translated to the sim's
object in each request, in the form the request used (hex, hyphenated, upper case); uuids the
recording made up (`0123…`) are sent as they are.

Differences kept on purpose, removed from the recorded bodies before comparing:
- names the sim gives its organisations and category ("Sim Provider", "Other Provider",
  "HPC") instead of the recording's ("Peer Provider Org", "Peer Other Org", "Peer HPC").
The version and targets upstream's ORM wrote (its `metadata` included) are written through the
sim's writable API (`LOADER_METADATA`).

Not replayed here: 07 and 83 (compared in `test_recorded_bodies.py`), 38 and 71 to 73 (the
public offerings endpoint and `discover` are not served), 97 to 108, 115 and 116 (compared in
`test_options.py` and `test_version.py`), 122 to 128 (partitions: see `test_offering_links.py`).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.sim.helpers import Api
from tests.sim.samples import (
    RECORDED_BASE,
    SAMPLES,
    Sample,
    compared_headers,
    key_order,
    load,
    normalize,
    replay,
)
from waldur_sim.auth import OTHER_PROVIDER, PROVIDER
from waldur_sim.launcher import SimProcess
from waldur_sim.offering_render import CATEGORY_TITLE

#: The `metadata` upstream's ORM wrote into the recorded version (samples 74 and 80).
LOADER_METADATA = {"module": {"module_name": "GROMACS", "module_version": "2024.1-foss-2023b"}}
OFFERING_A = "Peer HPC cluster"
OFFERING_B = "Other HPC cluster"
#: The recorded server: the current dialect, as the build the samples came from (builds.py).
SIM_ARGS = (
    "--dialect",
    "current",
    "--upstream-build",
    "004c5322",
    "--offering",
    OFFERING_A,
    "--other-offering",
    OFFERING_B,
)
SKIPPED = {7, 38, 71, 72, 73, 83, *range(97, 109), 115, 116}
SEQUENCE = tuple(n for n in range(1, 122) if n not in SKIPPED)
CATALOG_SETUP = (1, 3, 4, 5, 6)
#: What the recording calls its organisations and category, and what the sim calls them.
RENAMED = {
    "customer_name": {"Peer Provider Org": PROVIDER.name, "Peer Other Org": OTHER_PROVIDER.name},
    "category_title": {"Peer HPC": CATEGORY_TITLE},
}
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_HYPHENATED = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def recorded_ids() -> tuple[dict[str, Any], dict[str, Any]]:
    """`fixture.json` and `ids.json`: the objects the recording refers to."""
    fixture = json.loads((SAMPLES / "fixture.json").read_text(encoding="utf-8"))
    ids = json.loads((SAMPLES / "ids.json").read_text(encoding="utf-8"))
    return fixture, ids


@dataclass
class Recording:
    sim: SimProcess
    ids: dict[str, str] = field(default_factory=dict)  # recorded uuid (hex) → the sim's
    answers: dict[int, httpx.Response] = field(default_factory=dict)

    def translate(self, text: str) -> str:
        """`text` with the recorded base URL and recorded uuids replaced by the sim's."""

        def swap(match: re.Match[str]) -> str:
            token = match[0]
            mapped = self.ids.get(token.replace("-", "").lower())
            if mapped is None:
                return token
            if "-" in token:
                mapped = str(uuid.UUID(mapped))
            return mapped.upper() if token != token.lower() else mapped

        return _UUID.sub(swap, text.replace(RECORDED_BASE, self.sim.base_url))

    def send(self, sample: Sample) -> httpx.Response:
        body = sample.request_body.decode("utf-8")
        data = json.loads(self.translate(body)) if body else None
        return replay(self.sim, sample, path=self.translate(sample.path), body=data)

    def staff(self) -> dict[str, str]:
        return {"Authorization": f"Token {self.sim.staff_token}"}


def play(sim: SimProcess) -> Recording:
    """Replay the recorded session; every answer is kept by sample number."""
    recording = Recording(sim)
    fixture, ids = recorded_ids()
    listed = httpx.get(
        f"{sim.api_url}marketplace-provider-offerings/", headers=recording.staff()
    ).json()
    by_name = {offering["name"]: offering["uuid"] for offering in listed}
    recording.ids |= {
        fixture["offering"]: by_name[OFFERING_A],
        fixture["other_offering"]: by_name[OFFERING_B],
        fixture["provider_customer"]: PROVIDER.uuid,
        fixture["other_customer"]: OTHER_PROVIDER.uuid,
    }
    for number in SEQUENCE:
        sample = load(number)
        response = recording.send(sample)
        recording.answers[number] = response
        if sample.status == 201 and response.status_code == 201:
            recording.ids[sample.json()["uuid"]] = response.json()["uuid"]
        if number == 2:
            _loader_objects(recording, ids, response.json())
    return recording


def _loader_objects(recording: Recording, ids: dict[str, Any], package: dict[str, Any]) -> None:
    """The version and targets upstream's ORM wrote for the recording (`ids.json`), written
    through the sim's API."""
    api = Api(recording.sim)
    version = api.version(
        package,
        version="2024.1",
        module_version="2024.1-foss-2023b",
        metadata=LOADER_METADATA,
    )
    recording.ids[ids["version"]] = version["uuid"]
    for target in ids["targets"]:
        family, micro = target["family"], target["micro"]
        created = api.create(
            "target",
            version=version["url"],
            target_type="cpu_architecture",
            target_name=family,
            target_subtype=micro,
            location=(
                f"/cvmfs/software.eessi.io/versions/2023.06/software/linux/{family}/{micro}"
                "/software/GROMACS/2024.1-foss-2023b"
            ),
        )
        recording.ids[target["uuid"]] = created["uuid"]
    api.close()


def expected(data: Any) -> Any:
    """A recorded body as the sim answers it: its names."""
    if isinstance(data, list):
        return [expected(item) for item in data]
    if not isinstance(data, dict):
        return data
    body = {key: expected(value) for key, value in data.items()}
    for key, names in RENAMED.items():
        value = body.get(key)
        if isinstance(value, str) and value in names:
            body[key] = names[value]
    return body


def _headers(headers: Any, base: str = RECORDED_BASE) -> dict[str, str]:
    """The compared headers, hyphenated uuids (a query sent that way) made comparable too."""
    compared = compared_headers(headers, base)
    return {name: _HYPHENATED.sub("<uuid>", value) for name, value in compared.items()}


def assert_as_recorded(sample: Sample, response: httpx.Response, base: str) -> None:
    """Status, headers and body (JSON: host, uuids, timestamps made comparable, keys in the
    same order; anything else byte for byte) as recorded."""
    assert response.status_code == sample.status, (sample.name, response.text)
    assert _headers(response.headers, base) == _headers(sample.headers), sample.name
    if sample.headers.get("Content-Type") == "application/json":
        recorded = normalize(expected(sample.json()), RECORDED_BASE)
        actual = normalize(response.json(), base)
        assert actual == recorded, sample.name
        assert key_order(actual) == key_order(recorded), sample.name
    else:
        assert response.content == sample.body, sample.name
