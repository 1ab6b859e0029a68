"""Fault injection (`--fault-rate`, `--throttle`, `--drop-rate`, `--stall-rate`, aiming, seeds),
the statistics endpoint and `--latency-ms`."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any

import httpx
import pytest

from tests.sim.helpers import Api, unique
from tests.waiting import wait_until
from waldur_sim.launcher import SimProcess

FAULTS = {500, 502, 503, 504}


def statuses(process: SimProcess, count: int) -> list[int]:
    api = Api(process)
    try:
        return [api.list("catalog").status_code for _ in range(count)]
    finally:
        api.close()


def stats(process: SimProcess) -> dict[str, Any]:
    return httpx.get(f"{process.api_url}_sim/stats/").json()


def test_fault_rate_is_deterministic_for_a_seed(sim: Any) -> None:
    args = ("--fault-rate", "0.5", "--fault-seed", "7")
    first = statuses(sim(*args), 60)
    assert set(first) <= FAULTS | {200}
    assert 10 < sum(s in FAULTS for s in first) < 50
    assert len(set(first) & FAULTS) >= 3  # the statuses vary
    assert statuses(sim(*args), 60) == first
    assert statuses(sim("--fault-rate", "0.5", "--fault-seed", "8"), 60) != first


def test_injected_errors_are_counted_and_not_json(sim: Any) -> None:
    process = sim("--fault-rate", "1", "--fault-seed", "1")
    response = httpx.get(process.api_url + "marketplace-software-catalogs/")
    assert response.status_code in FAULTS
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(ValueError):
        response.json()
    assert stats(process)["faults"]["error"] == 1


def test_faults_can_be_aimed_at_methods_and_nothing_is_written(sim: Any) -> None:
    api = Api(sim("--fault-rate", "1", "--fault-methods", "POST"))
    assert api.list("catalog").status_code == 200
    response = api.post("catalog", {"name": unique(), "version": "1"})
    assert response.status_code in FAULTS
    assert api.count("catalog") == 0


def test_faults_can_be_aimed_at_kinds(sim: Any) -> None:
    api = Api(sim("--fault-rate", "1", "--fault-kinds", "target"))
    catalog = api.catalog()
    version = api.version(api.package(catalog))
    assert api.list("target").status_code in FAULTS
    response = api.post(
        "target", {"version": version["url"], "cpu_family": "x", "cpu_microarchitecture": "y"}
    )
    assert response.status_code in FAULTS
    assert api.get(catalog["url"])["target_count"] == 0


def test_throttle_answers_429_with_retry_after(sim: Any) -> None:
    process = sim("--throttle", "5")
    api = Api(process)
    answers = [api.list("catalog") for _ in range(12)]
    assert [r.status_code for r in answers[:5]] == [200] * 5
    throttled = [r for r in answers if r.status_code == 429]
    assert len(throttled) >= 5
    assert int(throttled[0].headers["Retry-After"]) >= 1
    assert throttled[0].json()["detail"].startswith("Request was throttled. Expected available in ")
    # Answered again once the one-second window has moved on (throttled requests take no slot).
    wait_until(lambda: api.list("catalog").status_code == 200, "an answer other than 429", 5)
    assert stats(process)["faults"]["throttled"] >= len(throttled)


def test_a_dropped_write_is_committed_but_never_answered(sim: Any) -> None:
    process = sim("--drop-rate", "1", "--fault-methods", "POST")
    api = Api(process)
    name = unique()
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("catalog", {"name": name, "version": "1"})
    assert [c["name"] for c in api.items("catalog")] == [name]
    assert stats(process)["faults"]["dropped"] == 1


def test_drops_only_hit_writes(sim: Any) -> None:
    api = Api(sim("--drop-rate", "1"))
    assert api.list("catalog").status_code == 200


def test_a_stalled_answer_outlasts_the_client_but_not_a_stop(sim: Any) -> None:
    process = sim("--stall-rate", "1", "--stall-seconds", "60", "--fault-methods", "GET")
    api = Api(process)
    catalog = api.catalog()  # POST is not aimed at
    with pytest.raises(httpx.ReadTimeout):
        api.http.get(catalog["url"], timeout=0.5)
    pending = threading.Thread(target=_get_quietly, args=(catalog["url"],), daemon=True)
    pending.start()  # a second stalled request, still waiting while the server stops
    wait_until(lambda: stats(process)["faults"]["stalled"] == 2, "the second request to stall")
    assert process.stop(timeout=5) == 0  # not killed: it stopped without waiting out the stall


def _get_quietly(url: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        httpx.get(url, timeout=30)


def test_stats_count_requests_by_method_status_and_kind(sim: Any) -> None:
    process = sim()
    api = Api(process)
    catalog = api.catalog()
    api.list("catalog")
    api.request("GET", api.detail("package", "0" * 32), None)
    body = stats(process)
    assert body["total"] == 3
    assert body["requests"] == {"GET": {"200": 1, "404": 1}, "POST": {"201": 1}}
    assert body["kinds"] == {"catalog": {"GET": 1, "POST": 1}, "package": {"GET": 1}}
    assert body["faults"] == {"error": 0, "throttled": 0, "dropped": 0, "stalled": 0}
    assert httpx.delete(f"{process.api_url}_sim/stats/").status_code == 204
    assert stats(process)["total"] == 0
    assert catalog


def test_latency_is_added_to_every_answer(sim: Any) -> None:
    api = Api(sim("--latency-ms", "150"))
    started = time.monotonic()
    for _ in range(3):
        api.list("catalog")
    assert time.monotonic() - started >= 0.45


def test_stats_keep_the_most_requests_in_flight_at_once(sim: Any) -> None:
    process = sim("--stall-rate", "1", "--stall-seconds", "60", "--fault-methods", "GET")
    url = process.api_url + "marketplace-software-catalogs/"
    assert stats(process)["max_in_flight"] == 0  # the stats requests themselves do not count
    for _ in range(3):  # three answers held back: three requests in flight together
        threading.Thread(target=_get_quietly, args=(url,), daemon=True).start()
    wait_until(lambda: stats(process)["faults"]["stalled"] == 3, "three requests to stall")
    assert stats(process)["max_in_flight"] == 3
    assert httpx.delete(f"{process.api_url}_sim/stats/").status_code == 204
    assert stats(process)["max_in_flight"] == 3  # a reset keeps what is still in flight
    assert process.stop(timeout=5) == 0
