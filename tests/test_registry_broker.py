"""Provisioned credentials against a real Mosquitto started with the registry's password and ACL files."""

from __future__ import annotations

import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from registry import credentials, provision, sites
from registry.broker_files import BrokerFiles
from registry.db import open_registry
from ruongso.local_services import Mosquitto
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from tests.api.secured_broker import broker_files, start_secured_broker, without_reload
from tests.waiting import wait_until

OPEN_CLIENTS: list[mqtt.Client] = []


@dataclass
class Fleet:
    broker: Mosquitto
    files: BrokerFiles
    registry_url: str
    node_a: dict[str, str]
    node_b: dict[str, str]
    ingest_password: str


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    files = broker_files(tmp_path)
    conn = open_registry(url)
    sites.add_site(conn, "site-a", "A", "fish_pond")
    sites.add_site(conn, "site-b", "B", "fish_pond")
    # The broker is not running yet: provision with no reload, then start it on the files.
    cold = without_reload(files)
    a = provision.add_node(conn, cold, "mqtt://unused:1883", "site-a", "n1").config
    b = provision.add_node(conn, cold, "mqtt://unused:1883", "site-b", "n2").config
    ingest = provision.set_service_account(conn, cold, "ingest")
    conn.close()
    broker = start_secured_broker(tmp_path, files)
    yield Fleet(broker, files, url, a, b, ingest)
    while OPEN_CLIENTS:
        client = OPEN_CLIENTS.pop()
        client.disconnect()
        client.loop_stop()
    broker.stop()


def connect(broker: Mosquitto, username: str, password: str) -> mqtt.Client:
    target = parse_mqtt_url(broker.url)
    client = make_client(target, username=username, password=password)
    client.reconnect_delay_set(min_delay=60, max_delay=60)  # a refused client must not retry during the test
    connect_and_wait(client, target, timeout=5)
    OPEN_CLIENTS.append(client)
    return client


def subscriber(broker: Mosquitto, username: str, password: str, topic: str) -> tuple[mqtt.Client, queue.Queue[str]]:
    got: queue.Queue[str] = queue.Queue()
    client = connect(broker, username, password)
    subscribed = threading.Event()
    client.on_message = lambda c, u, m: got.put(m.topic)
    client.on_subscribe = lambda *args: subscribed.set()
    client.subscribe(topic, qos=1)
    assert subscribed.wait(5)
    return client, got


def topics_until(got: queue.Queue[str], marker: str) -> list[str]:
    """Every topic received up to and including `marker` (a later message from the same publisher)."""
    seen: list[str] = []

    def arrived() -> bool:
        while not got.empty():
            seen.append(got.get())
        return marker in seen

    wait_until(arrived, 10, what=f"message on {marker}")
    return seen


def publish(client: mqtt.Client, topic: str, payload: bytes = b"{}") -> None:
    client.publish(topic, payload, qos=1).wait_for_publish(5)


def test_a_node_publishes_its_own_telemetry_but_never_another_nodes(fleet: Fleet) -> None:
    ingest, got = subscriber(fleet.broker, "ingest", fleet.ingest_password, "farm/#")
    node_a = connect(fleet.broker, fleet.node_a["username"], fleet.node_a["password"])

    publish(node_a, "farm/site-b/n2/telemetry")
    publish(node_a, "farm/site-a/n2/telemetry")
    publish(node_a, "farm/site-a/n1/config")
    publish(node_a, "farm/site-a/alerts")
    publish(node_a, "farm/site-a/n1/telemetry")

    seen = topics_until(got, "farm/site-a/n1/telemetry")
    assert seen == ["farm/site-a/n1/telemetry"]
    node_a.disconnect()
    ingest.disconnect()


def test_a_node_reads_only_its_own_config_and_ack(fleet: Fleet) -> None:
    node_a, got = subscriber(fleet.broker, fleet.node_a["username"], fleet.node_a["password"], "farm/#")
    ingest = connect(fleet.broker, "ingest", fleet.ingest_password)

    publish(ingest, "farm/site-b/n2/config")
    publish(ingest, "farm/site-b/n2/ack")
    publish(ingest, "farm/site-a/n1/ack")
    publish(ingest, "farm/site-a/n1/config")

    assert topics_until(got, "farm/site-a/n1/config") == ["farm/site-a/n1/ack", "farm/site-a/n1/config"]
    node_a.disconnect()
    ingest.disconnect()


def test_a_wrong_password_is_refused(fleet: Fleet) -> None:
    with pytest.raises(ConnectionError, match="refused"):
        connect(fleet.broker, fleet.node_a["username"], fleet.node_b["password"])
    with pytest.raises(ConnectionError, match="refused"):
        connect(fleet.broker, "nobody", "x")


def test_a_revoked_node_is_disconnected_and_cannot_connect_again(fleet: Fleet) -> None:
    node_a = connect(fleet.broker, fleet.node_a["username"], fleet.node_a["password"])
    dropped = threading.Event()
    node_a.on_disconnect = lambda *args: dropped.set()
    conn = open_registry(fleet.registry_url)

    _, synced = provision.revoke_node(conn, fleet.files, "site-a", "n1")

    assert synced
    assert dropped.wait(10), "the broker kept a revoked node's session open after reload"
    node_a.loop_stop()
    with pytest.raises(ConnectionError, match="refused"):
        connect(fleet.broker, fleet.node_a["username"], fleet.node_a["password"])
    # Node B is untouched.
    connect(fleet.broker, fleet.node_b["username"], fleet.node_b["password"]).disconnect()


def test_a_node_added_while_the_broker_runs_works_after_the_reload(fleet: Fleet) -> None:
    conn = open_registry(fleet.registry_url)
    added = provision.add_node(conn, fleet.files, fleet.broker.url, "site-b", "n3")
    assert added.broker_synced
    _ingest, got = subscriber(fleet.broker, "ingest", fleet.ingest_password, "farm/+/+/telemetry")
    # SIGHUP is asynchronous: retry the first connection until the broker has re-read its files.
    node = wait_until(lambda: _try_connect(fleet.broker, added.config), 10, what="new node accepted")
    assert node is not None
    publish(node, "farm/site-b/n3/telemetry")
    assert topics_until(got, "farm/site-b/n3/telemetry") == ["farm/site-b/n3/telemetry"]


def _try_connect(broker: Mosquitto, config: dict[str, str]) -> mqtt.Client | None:
    try:
        return connect(broker, config["username"], config["password"])
    except ConnectionError:
        return None


def test_our_hashes_use_mosquitto_passwd_format(tmp_path: Path) -> None:
    tool = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    pw_file = tmp_path / "pw"
    subprocess.run([tool, "-b", "-c", str(pw_file), "someone", "s3cret-pass"], check=True, capture_output=True)
    theirs = pw_file.read_text().strip().split(":", 1)[1]
    assert theirs.startswith(f"$7${credentials.DEFAULT_ITERATIONS}$")
    assert credentials.verify_password("s3cret-pass", theirs)
    assert not credentials.verify_password("s3cret-pasS", theirs)
    ours = credentials.hash_password("s3cret-pass")
    assert [len(p) for p in ours.split("$")] == [len(p) for p in theirs.split("$")]
