"""Readings endpoints against a real InfluxDB: latest, aggregated range, CSV, growing-area history."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from ruongso.influx import InfluxClient
from tests.api.conftest import MINUTE_MS, NOW_MS, Seeded, write_readings

HOUR_MS = 60 * MINUTE_MS


def test_latest_gives_each_node_its_newest_value_per_quantity(client: TestClient, seeded: Seeded,
                                                               influx: InfluxClient) -> None:
    start = NOW_MS - 10 * MINUTE_MS
    write_readings(influx, "farm-a", "n01", {"air_temp": 20.0, "water_level": 3.0}, start, 10, battery_v=3.9, rssi=-70)
    write_readings(influx, "farm-a", "n02", {"air_temp": 30.0}, start, 5)
    write_readings(influx, "farm-b", "n01", {"dissolved_oxygen": 5.0}, start, 3)

    r = client.get("/sites/farm-a/readings/latest", headers=seeded.auth("farmer_a"))

    assert r.status_code == 200, r.text
    nodes = {n["node"]: {v["quantity"]: v for v in n["values"]} for n in r.json()["nodes"]}
    assert set(nodes) == {"n01", "n02"}
    assert nodes["n01"]["air_temp"]["value"] == 29.0
    assert nodes["n01"]["air_temp"]["t"] == start + 9 * MINUTE_MS
    assert nodes["n01"]["air_temp"]["unit"] == "°C"
    assert nodes["n01"]["water_level"]["value"] == 12.0
    assert nodes["n01"]["battery_v"]["value"] == 3.9
    assert nodes["n02"]["air_temp"]["value"] == 34.0
    assert "water_level" not in nodes["n02"]


def test_range_aggregates_mean_min_max_per_bucket_and_node(client: TestClient, seeded: Seeded,
                                                            influx: InfluxClient) -> None:
    start = (NOW_MS // HOUR_MS - 3) * HOUR_MS
    write_readings(influx, "farm-a", "n01", {"air_temp": 10.0}, start, 120)  # 10..129 over two hours

    r = client.get("/sites/farm-a/readings", headers=seeded.auth("officer"), params={
        "quantity": "air_temp", "every": "1h", "start": start, "end": start + 2 * HOUR_MS,
    })

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["every_s"] == 3600
    [series] = body["series"]
    assert (series["node"], series["quantity"], series["unit"]) == ("n01", "air_temp", "°C")
    assert series["t"] == [start, start + HOUR_MS]
    assert series["min"] == [10.0, 70.0]
    assert series["max"] == [69.0, 129.0]
    assert series["mean"] == [39.5, 99.5]


def test_range_for_one_node_and_one_aggregate(client: TestClient, seeded: Seeded, influx: InfluxClient) -> None:
    start = (NOW_MS // HOUR_MS - 2) * HOUR_MS
    write_readings(influx, "farm-a", "n01", {"air_temp": 10.0}, start, 60)
    write_readings(influx, "farm-a", "n02", {"air_temp": 50.0}, start, 60)

    r = client.get("/sites/farm-a/readings", headers=seeded.auth("admin"), params={
        "quantity": "air_temp", "agg": "max", "node": "n02", "every": "1h", "start": start, "end": start + HOUR_MS,
    })

    assert r.status_code == 200, r.text
    [series] = r.json()["series"]
    assert series["node"] == "n02" and series["max"] == [109.0] and series["mean"] is None


def test_range_that_would_return_too_many_values_is_refused(client: TestClient, seeded: Seeded) -> None:
    r = client.get("/sites/farm-a/readings", headers=seeded.auth("admin"), params={
        "every": "10s", "start": "2025-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z",
    })
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_input"


def test_csv_export_for_officers(client: TestClient, seeded: Seeded, influx: InfluxClient) -> None:
    start = (NOW_MS // HOUR_MS - 2) * HOUR_MS
    write_readings(influx, "farm-a", "n01", {"air_temp": 10.0, "air_humidity": 80.0}, start, 60)

    r = client.get("/sites/farm-a/readings.csv", headers=seeded.auth("officer"), params={
        "quantity": ["air_temp", "air_humidity"], "every": "30m", "start": start, "end": start + HOUR_MS,
    })

    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert len(rows) == 4
    temp = [row for row in rows if row["quantity"] == "air_temp"]
    assert [float(row["min"]) for row in temp] == [10.0, 40.0]
    assert temp[0]["unit"] == "°C" and temp[0]["node"] == "n01"


def test_csv_export_is_not_for_farmers(client: TestClient, seeded: Seeded) -> None:
    r = client.get("/sites/farm-a/readings.csv", headers=seeded.auth("farmer_a"))
    assert r.status_code == 403
    assert r.json()["error"] == "forbidden"


def test_growing_area_history_gives_daily_values_per_site(client: TestClient, seeded: Seeded,
                                                          influx: InfluxClient) -> None:
    # 00:00 in Vietnam (UTC+7) is 17:00 UTC: a day bucket starts there.
    day_ms = 24 * HOUR_MS
    ict_midnight = ((NOW_MS - 17 * HOUR_MS) // day_ms) * day_ms + 17 * HOUR_MS - 2 * day_ms
    write_readings(influx, "farm-a", "n01", {"air_temp": 20.0}, ict_midnight, 24, step_ms=HOUR_MS)
    write_readings(influx, "farm-b", "n01", {"water_temp": 25.0}, ict_midnight, 24, step_ms=HOUR_MS)
    write_readings(influx, "farm-c", "n01", {"air_temp": 99.0 - 50}, ict_midnight, 24, step_ms=HOUR_MS)

    r = client.get("/growing-areas/VN-HD-TK-01/history", headers=seeded.auth("officer"), params={
        "quantity": ["air_temp", "water_temp"], "start": ict_midnight, "end": ict_midnight + day_ms,
    })

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["sites"] == ["farm-a", "farm-b"] and body["every_s"] == 86_400
    got = {(s["site"], s["quantity"]): s for s in body["series"]}
    assert set(got) == {("farm-a", "air_temp"), ("farm-b", "water_temp")}
    assert got[("farm-a", "air_temp")]["t"] == [ict_midnight]
    assert got[("farm-a", "air_temp")]["min"] == [20.0] and got[("farm-a", "air_temp")]["max"] == [43.0]


def test_growing_area_history_shows_a_farmer_only_their_sites(client: TestClient, seeded: Seeded) -> None:
    r = client.get("/growing-areas/VN-HD-TK-01/history", headers=seeded.auth("farmer_b"))
    assert r.status_code == 200 and r.json()["sites"] == ["farm-b"]
    assert client.get("/growing-areas/VN-HD-TK-02/history", headers=seeded.auth("farmer_b")).status_code == 403
    assert client.get("/growing-areas/NOPE/history", headers=seeded.auth("admin")).status_code == 404


def test_identifiers_that_are_not_slugs_never_reach_influxdb(client: TestClient, seeded: Seeded) -> None:
    for path in ('/sites/farm-a"%3B DROP DATABASE x/readings/latest', "/sites/farm-a/readings?node=n01' OR 1=1"):
        r = client.get(path, headers=seeded.auth("admin"))
        assert r.status_code in (404, 422), (path, r.status_code)
    r = client.get("/sites/farm-a/readings", headers=seeded.auth("admin"), params={"quantity": "seq"})
    assert r.status_code == 422


def test_latest_finds_a_node_silent_for_days_within_the_lookback(client: TestClient, seeded: Seeded,
                                                                 influx: InfluxClient) -> None:
    write_readings(influx, "farm-a", "n01", {"air_temp": 21.0}, NOW_MS - 5 * 24 * HOUR_MS, 1)
    write_readings(influx, "farm-a", "n02", {"air_temp": 22.0}, NOW_MS - MINUTE_MS, 1)
    write_readings(influx, "farm-a", "n01", {"water_level": 5.0}, NOW_MS - 40 * 24 * HOUR_MS, 1)

    r = client.get("/sites/farm-a/readings/latest", headers=seeded.auth("admin"),
                   params={"quantity": ["air_temp", "water_level"]})

    nodes = {n["node"]: {v["quantity"]: v["value"] for v in n["values"]} for n in r.json()["nodes"]}
    assert nodes == {"n01": {"air_temp": 21.0}, "n02": {"air_temp": 22.0}}  # 40 days is past the 30-day lookback
