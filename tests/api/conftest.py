"""Fixtures for the API tests: a registry of three sites with nodes and one token per role, an app on the
real InfluxDB (fresh database per test) and the session's Mosquitto, and helpers to write data."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from contract.wire import Reading, to_line
from registry import credentials, nodes, sites, tokens
from registry.db import open_registry
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto

NOW_MS = int(time.time() * 1000)
MINUTE_MS = 60_000


@dataclass
class Seeded:
    registry_url: str
    secrets: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets[who]}"}


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    conn = open_registry(url)
    sites.add_commune(conn, "an-thanh", "An Thanh", "Tứ Kỳ", "Hải Dương")
    sites.add_site(conn, "farm-a", "Ruộng ông Ba", "rice_paddy", "an-thanh", 20.8, 106.4, "VN-HD-TK-01")
    sites.add_site(conn, "farm-b", "Ao cá bà Tư", "fish_pond", "an-thanh", 20.81, 106.41, "VN-HD-TK-01")
    sites.add_site(conn, "farm-c", "Nhà lưới", "net_house", "an-thanh", None, None, "VN-HD-TK-02")
    hashed = credentials.hash_password("unused")
    nodes.add_node(conn, "farm-a", "n01", hashed, ["air_temp", "air_humidity", "water_level"])
    nodes.add_node(conn, "farm-a", "n02", hashed, ["air_temp", "air_humidity", "water_level"])
    nodes.add_node(conn, "farm-b", "n01", hashed, ["dissolved_oxygen", "water_temp"])
    secrets = {}
    for role in ("admin", "officer", "technician"):
        secrets[role] = tokens.create_token(conn, role, role)[1]
    secrets["farmer_a"] = tokens.create_token(conn, "ong-ba", "farmer", ["farm-a"])[1]
    secrets["farmer_b"] = tokens.create_token(conn, "ba-tu", "farmer", ["farm-b"])[1]
    revoked, secrets["revoked"] = tokens.create_token(conn, "old", "officer")
    tokens.revoke_token(conn, revoked.id)
    conn.close()
    return Seeded(url, secrets)


def api_settings(
    seeded: Seeded, influxd: Influxd, influx: InfluxClient, broker: Mosquitto, **extra: object
) -> ApiSettings:
    return ApiSettings(
        registry_url=seeded.registry_url, influx_url=influxd.url, influx_db=influx.database, mqtt_url=broker.url,
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def client(seeded: Seeded, influxd: Influxd, influx: InfluxClient, broker: Mosquitto) -> Iterator[TestClient]:
    app = create_app(api_settings(seeded, influxd, influx, broker), influx=influx)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def write_readings(
    influx: InfluxClient, site: str, node: str, values: dict[str, float], start_ms: int, count: int,
    step_ms: int = MINUTE_MS, battery_v: float | None = None, rssi: float | None = None,
) -> list[int]:
    """`count` reading sets, one per `step_ms` from `start_ms`; value i is `values[q] + i`."""
    lines, times = [], []
    for i in range(count):
        ts = start_ms + i * step_ms
        times.append(ts)
        lines.append(to_line(site, Reading(node, "b1", i, ts, {q: v + i for q, v in values.items()}, battery_v, rssi)))
    influx.write(lines)
    return times
