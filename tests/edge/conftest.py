"""Fixtures for the edge agent's tests: node configs, an agent on a thread, and a stand-in for ingest.

The ack publisher here plays ingest's part of the end-to-end acknowledgement (docs/wire-format.md):
it decodes telemetry with the contract and publishes, retained, the highest seq per boot up to which
it has seen every reading set. The real ingestor is written in parallel; this keeps the edge tests
independent of it while speaking the same contract.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from contract import topics
from contract.wire import Ack, decode_status, decode_telemetry
from edge.agent import Agent
from edge.config import NodeConfig
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from tests.waiting import wait_until

_nodes = itertools.count()

SIM_SENSORS = [
    {"name": "air", "driver": "simulated", "interval": "0.2s", "quantities": ["air_temp", "air_humidity"]},
    {"name": "water", "driver": "simulated", "interval": "0.2s", "quantities": ["water_temp", "dissolved_oxygen"]},
]


def write_config(tmp_path: Path, broker_url: str, sensors: list[dict[str, Any]] | None = None, **sections: Any) -> Path:
    n = next(_nodes)
    doc: dict[str, Any] = {
        "site": f"edge-site-{n}",
        "node": f"edge-node-{n}",
        "mqtt": {"url": broker_url, "reconnect_max": "1s"},
        "spool": {"path": str(tmp_path / "spool.sqlite"), "commit_every": "0.2s", "ack_timeout": "3s"},
        "status_every": "1s",
        "sensors": sensors if sensors is not None else SIM_SENSORS,
    }
    for key, value in sections.items():
        if isinstance(value, dict):
            doc.setdefault(key, {}).update(value)
        else:
            doc[key] = value
    path = tmp_path / "node.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class Ingest:
    """Collects a node's telemetry and status; acks like ingest does (unless `acking` is False)."""

    def __init__(self, broker_url: str, site: str, node: str, acking: bool = True) -> None:
        self.site, self.node = site, node
        self.acking = acking
        self.received: list[tuple[str, int]] = []
        self.quantities: set[str] = set()
        self.timestamps: dict[tuple[str, int], int] = {}
        self.ts_received: list[int] = []  # a reading sent again under a rebased boot keeps its ts
        self.statuses: list[dict[str, Any]] = []
        self._contiguous: dict[str, int] = {}
        self._seen: dict[str, set[int]] = {}
        self._lock = threading.Lock()
        target = parse_mqtt_url(broker_url)
        self.client = make_client(target, client_id=f"test-ingest-{node}")
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(min_delay=1, max_delay=1)  # back quickly after a broker restart
        self.client.on_connect = lambda c, *a: c.subscribe(
            [(str(topics.telemetry(site, node)), 1), (str(topics.status(site, node)), 1)]
        )
        # A persistent session, like the real ingest's: what a node replays while this subscriber is
        # still reconnecting after a broker restart is queued for it instead of reaching nobody.
        expiry = Properties(PacketTypes.CONNECT)
        expiry.SessionExpiryInterval = 3600
        # on_connect subscribes, again after every reconnect
        connect_and_wait(self.client, target, clean_start=False, properties=expiry)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith("/status"):
            if msg.payload:
                status = decode_status(bytes(msg.payload))
                self.statuses.append({"state": status.state, "fw": status.fw, **status.extra})
            return
        decoded = decode_telemetry(bytes(msg.payload), self.node)
        assert not decoded.rejections, decoded.rejections
        with self._lock:
            for r in decoded.readings:
                self.received.append((r.boot, r.seq))
                self.quantities.update(r.m)
                self.timestamps[(r.boot, r.seq)] = r.ts
                self.ts_received.append(r.ts)
                seen = self._seen.setdefault(r.boot, set())
                seen.add(r.seq)
            for boot, seen in self._seen.items():
                # Like ingest (ingest/progress.py): a boot's watermark starts below seq 0.
                upto = self._contiguous.get(boot, -1)
                while upto + 1 in seen:
                    upto += 1
                self._contiguous[boot] = upto
                if self.acking and upto >= 0:
                    ack = Ack(boot, upto, int(time.time() * 1000))
                    client.publish(str(topics.ack(self.site, self.node)), ack.encode(), qos=1, retain=True)

    def unique(self) -> set[tuple[str, int]]:
        with self._lock:
            return set(self.received)

    def last_status(self) -> dict[str, Any]:
        return self.statuses[-1] if self.statuses else {}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@contextmanager
def running(cfg: NodeConfig, **kw: Any) -> Iterator[Agent]:
    agent = Agent(cfg, **kw)
    thread = threading.Thread(target=agent.run, name="agent-under-test", daemon=True)
    thread.start()
    try:
        yield agent
    finally:
        agent.stop()
        thread.join(15)
        assert not thread.is_alive(), "agent did not stop"


@pytest.fixture
def ingest_for() -> Iterator[Any]:
    made: list[Ingest] = []

    def make(broker_url: str, cfg: NodeConfig, acking: bool = True) -> Ingest:
        ing = Ingest(broker_url, cfg.site, cfg.node, acking)
        made.append(ing)
        return ing

    yield make
    for ing in made:
        ing.close()


def publish_retained(broker_url: str, topic: str, payload: bytes) -> None:
    target = parse_mqtt_url(broker_url)
    client = make_client(target, client_id="")
    connect_and_wait(client, target)
    client.publish(topic, payload, qos=1, retain=True).wait_for_publish(5)
    client.disconnect()
    client.loop_stop()


def status_where(ingest: Ingest, predicate: Any, timeout: float = 10.0, what: str = "") -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next((s for s in reversed(ingest.statuses) if predicate(s)), None)

    status: dict[str, Any] = wait_until(found, timeout, what=what)  # type: ignore[arg-type]
    return status
