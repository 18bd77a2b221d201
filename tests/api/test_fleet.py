"""Fleet health from `reading`, `node_status` and `node_health`, joined with the registry."""

from __future__ import annotations

from fastapi.testclient import TestClient

from ruongso.influx import InfluxClient
from tests.api.conftest import MINUTE_MS, NOW_MS, Seeded, write_readings


def test_fleet_reports_last_seen_battery_rssi_status_and_loss(client: TestClient, seeded: Seeded,
                                                              influx: InfluxClient) -> None:
    t0 = NOW_MS - 20 * MINUTE_MS
    times = write_readings(influx, "farm-a", "n01", {"air_temp": 25.0}, t0, 10, battery_v=3.71, rssi=-88)
    influx.write([
        f'node_status,site=farm-a,node=n01 online=1i,state="online",fw="1.4.2",uptime_s=3600.0,spool_depth=12i,'
        f'sensor_faults="sht31,ds18b20" {t0}',
        f"node_health,site=farm-a,node=n01 received=90i,duplicates=1i,gaps=10i,last_seq=99i {t0}",
        f"node_health,site=farm-a,node=n01 received=95i,duplicates=0i,gaps=5i,last_seq=199i {t0 + MINUTE_MS}",
        f'node_status,site=farm-b,node=n01 online=0i,state="offline",fw="1.4.1" {t0}',
    ])

    r = client.get("/fleet", headers=seeded.auth("technician"))

    assert r.status_code == 200, r.text
    rows = {(n["site"], n["node"]): n for n in r.json()}
    assert set(rows) == {("farm-a", "n01"), ("farm-a", "n02"), ("farm-b", "n01")}
    a1 = rows[("farm-a", "n01")]
    assert a1["last_seen"] == times[-1] and a1["battery_v"] == 3.71 and a1["rssi"] == -88
    assert a1["online"] is True and a1["firmware"] == "1.4.2" and a1["spool_depth"] == 12
    assert a1["sensor_faults"] == ["sht31", "ds18b20"]
    assert (a1["received"], a1["gaps"], a1["loss_rate"]) == (185, 15, 0.075)
    assert a1["registry_state"] == "active" and a1["sensors"] == ["air_temp", "air_humidity", "water_level"]
    assert rows[("farm-b", "n01")]["online"] is False
    silent = rows[("farm-a", "n02")]
    assert silent["last_seen"] is None and silent["online"] is None and silent["loss_rate"] is None


def test_fleet_shows_a_node_that_publishes_without_being_registered(client: TestClient, seeded: Seeded,
                                                                    influx: InfluxClient) -> None:
    write_readings(influx, "farm-c", "stray", {"air_temp": 25.0}, NOW_MS - MINUTE_MS, 1)
    rows = client.get("/fleet", headers=seeded.auth("admin"), params={"site": "farm-c"}).json()
    assert [(n["node"], n["registry_state"]) for n in rows] == [("stray", "unregistered")]


def test_fleet_for_a_farmer_covers_only_their_sites(client: TestClient, seeded: Seeded) -> None:
    rows = client.get("/fleet", headers=seeded.auth("farmer_b")).json()
    assert {n["site"] for n in rows} == {"farm-b"}


def test_fleet_finds_the_last_reading_of_a_node_silent_for_days(client: TestClient, seeded: Seeded,
                                                                 influx: InfluxClient) -> None:
    old = write_readings(influx, "farm-a", "n02", {"air_temp": 25.0}, NOW_MS - 3 * 24 * 60 * MINUTE_MS, 1,
                         battery_v=3.4, rssi=-101)
    new = write_readings(influx, "farm-a", "n01", {"air_temp": 25.0}, NOW_MS - MINUTE_MS, 1, battery_v=4.1)

    rows = {n["node"]: n for n in client.get("/fleet", headers=seeded.auth("admin"),
                                             params={"site": "farm-a"}).json()}

    assert (rows["n02"]["last_seen"], rows["n02"]["battery_v"], rows["n02"]["rssi"]) == (old[0], 3.4, -101)
    assert (rows["n01"]["last_seen"], rows["n01"]["battery_v"], rows["n01"]["rssi"]) == (new[0], 4.1, None)
    assert rows["n02"]["age_s"] > 3 * 86_400 - 60
