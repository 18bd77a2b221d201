"""/healthz, /metrics, structured request logs, the OpenAPI document."""

from __future__ import annotations

import json
import logging
import os
import subprocess
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto, free_port
from tests.api.conftest import Seeded, api_settings


def test_healthz_is_ok_when_registry_and_influx_answer(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "registry": True, "influx": True}


def test_healthz_is_503_when_influx_is_down(seeded: Seeded, influxd: Influxd, influx: InfluxClient,
                                            broker: Mosquitto) -> None:
    dead = InfluxClient(f"http://127.0.0.1:{free_port()}", "farm", timeout=1)
    app = create_app(api_settings(seeded, influxd, influx, broker), influx=dead)
    with TestClient(app) as c:
        r = c.get("/healthz")
        assert r.status_code == 503 and r.json()["influx"] is False
        latest = c.get("/sites/farm-a/readings/latest", headers=seeded.auth("admin"))
        assert latest.status_code == 502 and latest.json()["error"] == "influx_unavailable"


def test_metrics_count_requests_by_route_template(client: TestClient, seeded: Seeded) -> None:
    client.get("/sites/farm-a", headers=seeded.auth("admin"))
    client.get("/sites/farm-b", headers=seeded.auth("farmer_a"))
    text = client.get("/metrics").text
    assert 'ruongso_api_requests_total{method="GET",route="/sites/{site}",status="200"} 1.0' in text
    assert 'ruongso_api_requests_total{method="GET",route="/sites/{site}",status="403"} 1.0' in text
    assert "ruongso_api_request_seconds_bucket" in text


def test_each_request_is_logged_once_with_route_status_and_token(client: TestClient, seeded: Seeded,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="api.request"):
        client.get("/sites/farm-a", headers=seeded.auth("farmer_a"))
    [record] = [r for r in caplog.records if r.name == "api.request"]
    fields = record.fields  # type: ignore[attr-defined]
    assert (fields["route"], fields["status"], fields["token"]) == ("/sites/{site}", 200, "ong-ba")
    assert seeded.secrets["farmer_a"] not in caplog.text


def test_openapi_document_lists_every_resource(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for p in ("/nodes", "/sites/{site}/readings/latest", "/sites/{site}/readings.csv", "/alerts", "/fleet",
              "/growing-areas/{code}/history", "/sites/{site}/silences", "/healthz"):
        assert p in paths
    assert client.get("/docs").status_code == 200


def test_the_api_command_prints_its_openapi_schema(ruongso_cmd: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "RUONGSO_REGISTRY_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    done = subprocess.run([*ruongso_cmd, "api", "openapi"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "/sites/{site}/readings/latest" in json.loads(done.stdout)["paths"]


def test_the_api_command_refuses_bad_settings_in_one_line(ruongso_cmd: list[str]) -> None:
    env = {**os.environ, "RUONGSO_INFLUX_URL": "influx.local:8086"}
    done = subprocess.run([*ruongso_cmd, "api", "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.startswith("error: invalid settings: influx_url")
