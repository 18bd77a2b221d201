"""POST /nodes and revoke through the API, against a real Mosquitto that the API's files and reloads drive."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from registry import provision
from registry.broker_files import BrokerFiles
from registry.db import open_registry
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from tests.api.conftest import Seeded, api_settings
from tests.api.secured_broker import broker_files, start_secured_broker, without_reload
from tests.waiting import wait_until


@pytest.fixture
def secured_broker(tmp_path: Path, seeded: Seeded) -> Iterator[tuple[Mosquitto, BrokerFiles]]:
    files = broker_files(tmp_path)
    conn = open_registry(seeded.registry_url)
    provision.set_service_account(conn, without_reload(files), "ingest")
    conn.close()
    broker = start_secured_broker(tmp_path, files)
    yield broker, files
    broker.stop()


def _connects(broker: Mosquitto, username: str, password: str) -> bool:
    target = parse_mqtt_url(broker.url)
    client = make_client(target, username=username, password=password)
    client.reconnect_delay_set(min_delay=60, max_delay=60)
    try:
        connect_and_wait(client, target, timeout=5)
    except ConnectionError:
        return False
    client.disconnect()
    client.loop_stop()
    return True


def test_a_node_provisioned_by_the_api_connects_and_is_locked_out_when_revoked(
    seeded: Seeded, influxd: Influxd, influx: InfluxClient, secured_broker: tuple[Mosquitto, BrokerFiles]
) -> None:
    broker, files = secured_broker
    settings = api_settings(seeded, influxd, influx, broker, mosquitto_password_file=files.password_file,
                            mosquitto_acl_file=files.acl_file, mosquitto_reload=files.reload,
                            node_mqtt_url=broker.url)
    with TestClient(create_app(settings, influx=influx)) as client:
        r = client.post("/nodes", headers=seeded.auth("technician"), json={"site": "farm-c", "node": "n7"})
        assert r.status_code == 201, r.text
        config = r.json()["config"]
        assert r.json()["broker_synced"] is True and config["mqtt_url"] == broker.url

        wait_until(lambda: _connects(broker, config["username"], config["password"]), 10,
                   what="the broker to accept the new node after its reload")

        revoked = client.post("/sites/farm-c/nodes/n7/revoke", headers=seeded.auth("technician"))
        assert revoked.status_code == 200 and revoked.json()["broker_synced"] is True
        wait_until(lambda: not _connects(broker, config["username"], config["password"]), 10,
                   what="the broker to refuse the revoked node")


