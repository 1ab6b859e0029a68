"""The raw exchanges recorded from a real upstream Waldur (`data/api_samples/`), and how to
replay one against waldur-sim and compare the answers.

A missing sample is an error, never a skip: the samples are part of the repository.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from waldur_sim.launcher import SimProcess

SAMPLES = Path(__file__).resolve().parents[2] / "data" / "api_samples"

#: The headers a comparison looks at (the others are the transport's: Server, Date,
#: Connection; gunicorn closes every connection, waldur-sim keeps it alive).
COMPARED_HEADERS = (
    "Content-Type",
    "Location",
    "X-Result-Count",
    "Link",
    "WWW-Authenticate",
    "Vary",
    "Allow",
    "X-Frame-Options",
    "Content-Language",
)
_RAW = re.compile(r"^response body \(raw, (\d+) bytes\):\n", re.MULTILINE)
_UUID = re.compile(r"[0-9a-f]{32}")
_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
RECORDED_BASE = "http://127.0.0.1:8000"


@dataclass(frozen=True)
class Sample:
    name: str
    caller: str  # "staff", "non-staff", "owner" or "anonymous"
    method: str
    url: str
    request_body: bytes
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def path(self) -> str:
        """The request's path and query, without the recorded host."""
        parts = urlsplit(self.url)
        return f"{parts.path}?{parts.query}" if parts.query else parts.path

    def json(self) -> Any:
        return json.loads(self.body)


def load(number: int) -> Sample:
    """Sample `number` (e.g. 97 → `97-g-options-software-catalogs-list-staff.txt`)."""
    found = sorted(SAMPLES.glob(f"{number:02d}-*.txt"))
    assert len(found) == 1, f"sample {number} is not in {SAMPLES} (found {found})"
    text = found[0].read_text(encoding="utf-8")
    fields = dict(re.findall(r"^(caller|request|request body|status):[ \t]*(.*)$", text, re.M))
    method, url = fields["request"].split(" ", 1)
    request_body = fields["request body"]
    headers: dict[str, str] = {}
    block = text.split("response headers:\n", 1)[1].split("\n\n", 1)[0]
    for line in block.splitlines():
        name, _, value = line.strip().partition(": ")
        headers[name] = value
    match = _RAW.search(text)
    body = b""
    if match is not None:
        size = int(match[1])
        body = text[match.end() :].encode("utf-8")[:size]
    return Sample(
        name=found[0].name,
        caller=fields["caller"].split(" ", 1)[0],
        method=method,
        url=url,
        request_body=b"" if request_body == "(none)" else request_body.encode("utf-8"),
        status=int(fields["status"].split()[1]),
        headers=headers,
        body=body,
    )


def token_of(sim: SimProcess, caller: str) -> dict[str, str]:
    """The Authorization header of the recorded caller's counterpart on waldur-sim."""
    tokens = {"staff": sim.staff_token, "non-staff": sim.user_token, "owner": sim.owner_token}
    token = tokens.get(caller)
    assert token is not None or caller == "anonymous", f"no counterpart for caller {caller!r}"
    return {"Authorization": f"Token {token}"} if token else {}


def replay(
    sim: SimProcess, sample: Sample, path: str | None = None, body: Any = None
) -> httpx.Response:
    """Send the sample's request to `sim`: its method and caller, its path and body unless
    another `path` or `body` (for objects whose uuids differ on the sim) is given."""
    headers = token_of(sim, sample.caller)
    content = sample.request_body if body is None else json.dumps(body).encode()
    if content:
        headers["Content-Type"] = "application/json"
    url = f"{sim.base_url}{path or sample.path}"
    return httpx.request(sample.method, url, headers=headers, content=content)


def compared_headers(headers: Any, base: str = RECORDED_BASE) -> dict[str, str]:
    """The headers a comparison looks at, with the host and uuids made comparable."""
    return {
        name: normalize_text(headers[name], base)
        for name in COMPARED_HEADERS
        if headers.get(name) is not None
    }


def normalize_text(text: str, base: str) -> str:
    return _UUID.sub("<uuid>", text.replace(base, "<base>"))


def normalize(data: Any, base: str) -> Any:
    """A body with its host, uuids and timestamps replaced: uuids are numbered in order of first
    appearance, so a body that refers to its own objects consistently still compares equal."""
    numbers: dict[str, str] = {}

    def uuid_sub(match: re.Match[str]) -> str:
        return numbers.setdefault(match[0], f"<uuid-{len(numbers) + 1}>")

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        if isinstance(value, str):
            if _STAMP.match(value):
                return "<timestamp>"
            return _UUID.sub(uuid_sub, value.replace(base, "<base>"))
        return value

    return walk(data)


def key_order(data: Any) -> Any:
    """The keys of every object, in order, except inside `metadata` (a JSON field, which
    Postgres's jsonb returns with its keys re-ordered: shorter first)."""
    if isinstance(data, dict):
        return [(key, None if key == "metadata" else key_order(v)) for key, v in data.items()]
    if isinstance(data, list):
        return [key_order(item) for item in data]
    return None
