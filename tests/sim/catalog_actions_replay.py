"""The recorded session of the catalog actions (samples 129 to 183, `data/api_samples/`)
replayed against waldur-sim in the recorded order, and how each answer is compared.

The sim plays the recorded build: today's upstream profile (`--dialect current
--read-only-kinds version,target --upstream-build 004c5322`), Celery eager (`--load-seconds 0`:
the load runs before the 202), the EESSI API sample as its EESSI source, and the recorded source
URLs (`--eessi-url`, `--spack-url`, which the catalogs and the error texts name). What the
recording changed between calls is changed through `/api/_sim/loaders/`: before 148 the source
loses `Salmon`, before 151 both sources become unreachable, before 158 they are back.

Differences kept on purpose, removed before comparing:
- the memory address of a `urllib3` connection object inside an error text (`0x7f…`);
- the Spack source: the recording's `repology.json` (50 packages, 281 versions) was not kept; the
  sim's (`data/spack/repology.json.xz`, made the same way from the same scan) has the same 50
  package count but its own versions, so a Spack catalog's `version_count` and `target_count`
  are the sim's source's, checked against that file;
- lists of packages, versions and targets are compared object by object, matched by natural
  key (the page the recording shows may hold another object first), with embedded lists in
  key order; 145's body was cut in the recording, so only its count is compared.
"""

from __future__ import annotations

import json
import lzma
import re
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.sim.recording import Recording
from tests.sim.samples import SAMPLES, Sample, load, normalize
from waldur_sim.launcher import SimProcess

FIRST, LAST = 129, 183
SEQUENCE = tuple(range(FIRST, LAST + 1))
DATA = SAMPLES.parent
EESSI_SAMPLE = DATA / "eessi" / "api_format_sample" / "eessi_api_metadata_software.sample.json.xz"
SPACK_SOURCE = DATA / "spack" / "repology.json.xz"
SIM_ARGS = (
    "--dialect",
    "current",
    "--read-only-kinds",
    "version,target",
    "--upstream-build",
    "004c5322",
    "--load-seconds",
    "0",
    "--eessi-source",
    str(EESSI_SAMPLE),
    "--spack-source",
    str(SPACK_SOURCE),
    "--eessi-url",
    "http://127.0.0.1:8010/eessi/api_data/data/",
    "--spack-url",
    "http://127.0.0.1:8010/spack/data/repology.json",
)
#: what the recording changed before a call, as the sim's control endpoint changes it
SOURCE_CHANGES = {
    148: {"drop": {"EESSI": ["Salmon"]}},
    151: {"fail": ["EESSI", "Spack"]},
    158: {"fail": [], "drop": {}},
}
#: list samples: the kind listed and the natural key an object is matched by
LISTS = {133: "package", 144: "package", 146: "target", 150: "package", 162: "package"}
CUT = {145}  # bodies the recording cut at 3,000 bytes

_ADDRESS = re.compile(r" object at 0x[0-9a-f]+>")


def spack_counts() -> tuple[int, int]:
    """(versions, targets) of the sim's Spack source: one `build_variant` target a version."""
    data = json.loads(lzma.decompress(SPACK_SOURCE.read_bytes()))
    versions = sum(len(p["version"]) for p in data["packages"].values())
    return versions, versions


@dataclass
class ActionsRecording:
    recording: Recording
    answers: dict[int, httpx.Response] = field(default_factory=dict)


def play(sim: SimProcess) -> ActionsRecording:
    played = ActionsRecording(Recording(sim))
    for number in SEQUENCE:
        changes = SOURCE_CHANGES.get(number)
        if changes is not None:
            response = httpx.patch(f"{sim.api_url}_sim/loaders/", json=changes)
            assert response.status_code == 200, response.text
        sample = load(number)
        response = played.recording.send(sample)
        played.answers[number] = response
        _learn_ids(played.recording, sample, response)
    return played


def _learn_ids(recording: Recording, sample: Sample, response: httpx.Response) -> None:
    """The recorded uuids of catalogs a call created or listed, mapped to the sim's."""
    if "marketplace-software-catalogs" not in sample.url or response.status_code not in (200, 201):
        return
    if not sample.body.startswith((b"{", b"[")) or "json" not in response.headers["content-type"]:
        return
    recorded, actual = sample.json(), response.json()
    if isinstance(recorded, dict):
        recorded, actual = [recorded], [actual]
    if isinstance(recorded, list) and isinstance(actual, list) and len(recorded) == len(actual):
        for old, new in zip(recorded, actual, strict=True):
            if isinstance(old, dict) and "uuid" in old and isinstance(new, dict):
                recording.ids.setdefault(old["uuid"], new["uuid"])


def comparable(data: Any, base: str, *, spack: tuple[int, int] | None = None) -> Any:
    """A body with hosts, uuids and timestamps made comparable, error texts without memory
    addresses, embedded lists in key order, and (`spack`) a Spack catalog's counts replaced."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            body = {key: walk(item) for key, item in value.items()}
            spack_catalog = body.get("catalog_type") == "source_package" and "target_count" in body
            if spack is not None and spack_catalog and body.get("package_count"):
                body["version_count"], body["target_count"] = spack
            for key in ("targets", "versions"):
                if isinstance(body.get(key), list):
                    body[key] = sorted(body[key], key=_natural_key)
            return body
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, str):
            return _ADDRESS.sub(" object at 0x…>", value)
        return value

    return normalize(walk(data), base)


def _natural_key(item: Any) -> tuple[str, ...]:
    if not isinstance(item, dict):
        return ()
    fields = ("target_type", "target_name", "target_subtype", "version", "module_version", "name")
    return tuple(str(item.get(name, "")) for name in fields)


def list_key(kind: str, item: dict[str, Any]) -> tuple[str, ...]:
    if kind == "target":
        return (item["target_type"], item["target_name"], item["target_subtype"], item["location"])
    return (item["name"],)
