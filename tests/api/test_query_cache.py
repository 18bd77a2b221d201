"""The InfluxQL result cache: identical reads within its window reach InfluxDB once, concurrent misses
of one query run it once, and a cache of 0 s is off."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from api.query_cache import QueryCache
from ruongso.influx import InfluxClient, Series
from tests.api.conftest import NOW_MS, Seeded, write_readings
from tests.waiting import wait_until


def test_concurrent_misses_of_one_query_run_it_once() -> None:
    cache: QueryCache[list[Series]] = QueryCache(ttl_s=60)
    release = threading.Event()
    calls: list[int] = []
    answers: list[list[Series]] = []

    def compute() -> list[Series]:
        calls.append(1)
        release.wait(10)
        return [Series("reading", {}, ["time"], [[1]])]

    threads = [threading.Thread(target=lambda: answers.append(cache.get("q", compute))) for _ in range(8)]
    for t in threads:
        t.start()
    release.set()
    for t in threads:
        t.join(10)

    assert len(calls) == 1 and len(answers) == 8 and all(a is answers[0] for a in answers)
    assert (cache.misses, cache.hits) == (1, 7)


def test_a_zero_second_cache_always_asks() -> None:
    cache: QueryCache[int] = QueryCache(ttl_s=0)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert [cache.get("q", compute) for _ in range(3)] == [1, 2, 3]


def test_repeated_latest_requests_are_answered_once(client: TestClient, seeded: Seeded, influx: InfluxClient) -> None:
    for node in ("n01", "n02"):
        write_readings(influx, "farm-a", node, {"air_temp": 20.0}, NOW_MS - 60_000, 1)
    url = "/sites/farm-a/readings/latest?quantity=air_temp"
    first = client.get(url, headers=seeded.auth("officer")).json()
    second = client.get(url, headers=seeded.auth("farmer_a")).json()
    assert first == second
    text = client.get("/metrics").text
    assert 'ruongso_api_cache_misses{cache="influxql"} 1.0' in text
    assert 'ruongso_api_cache_misses{cache="response"} 1.0' in text
    assert 'ruongso_api_cache_hits{cache="response"} 1.0' in text
    # Authorisation is checked before the cache: the cached answer does not leak to another farmer.
    assert client.get(url, headers=seeded.auth("farmer_b")).status_code == 403


def test_a_stale_answer_is_served_while_one_caller_refreshes_it() -> None:
    cache: QueryCache[str] = QueryCache(ttl_s=0.05, stale_factor=1000)
    assert cache.get("q", lambda: "old") == "old"
    wait_until(lambda: cache.peek("q") is None, 5, what="the answer to go stale")
    refreshing = threading.Event()
    release = threading.Event()
    got: list[str] = []

    def slow() -> str:
        refreshing.set()
        release.wait(10)
        return "new"

    refresher = threading.Thread(target=lambda: got.append(cache.get("q", slow)))
    refresher.start()
    assert refreshing.wait(5)
    assert cache.get("q", lambda: "never computed") == "old"
    release.set()
    refresher.join(10)
    assert got == ["new"] and cache.get("q", lambda: "never computed") == "new"
