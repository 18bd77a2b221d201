"""Helpers for the ingest tests: an in-process ingestor on the fixtures' services, a QoS 1 publisher,
and readings built with the wire contract."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from contract import topics
from contract.wire import Reading, encode_reading
from ingest.service import Ingestor
from ingest.settings import IngestSettings
from ruongso.influx import InfluxClient
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from ruongso.settings import build

_sites = itertools.count()


def new_site(prefix: str = "ti") -> str:
    """A site slug no other test uses, so retained and queued messages of other tests never match."""
    return f"{prefix}{time.monotonic_ns() % 10**9}-{next(_sites)}"


def settings(mqtt_url: str, influx_url: str, db: str, state: Path, **kw: Any) -> IngestSettings:
    base: dict[str, Any] = {"mqtt_url": mqtt_url, "influx_url": influx_url, "influx_db": db,
                            "state_dir": state, "metrics_port": 0, "batch_ms": 50, "ack_interval_s": 0.2,
                            "pipeline_interval_s": 1.0, "retry_budget_s": 1.0, "retry_max_s": 0.5}
    base.update(kw)
    return build(IngestSettings, **base)


@contextmanager
def running(s: IngestSettings) -> Iterator[Ingestor]:
    ing = Ingestor(s)
    ing.start()
    try:
        assert ing.wait_subscribed(10), "ingest never subscribed"
        yield ing
    finally:
        ing.stop()
    assert ing.failed is None, ing.failed


class Publisher:
    def __init__(self, url: str, client_id: str = "") -> None:
        target = parse_mqtt_url(url)
        self.client = make_client(target, client_id or f"pub-{time.monotonic_ns()}")
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        connect_and_wait(self.client, target)

    def publish(self, topic: str, payload: bytes | str, retain: bool = False) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=1, retain=retain)

    def publish_all(self, items: list[tuple[str, bytes]], timeout: float = 60) -> None:
        infos = [self.publish(t, p) for t, p in items]
        deadline = time.monotonic() + timeout
        for i in infos:
            i.wait_for_publish(max(0.1, deadline - time.monotonic()))
            assert i.is_published(), "broker did not take a message"

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def reading(node: str, seq: int, ts: int | None = None, boot: str = "b1", **m: float) -> Reading:
    return Reading(node, boot, seq, ts if ts is not None else int(time.time() * 1000) - 60_000 + seq,
                   m or {"air_temp": 20.0 + seq % 100 / 10, "air_humidity": 70.5}, battery_v=3.9, rssi=-70.0)


def telemetry(site: str, r: Reading) -> tuple[str, bytes]:
    return str(topics.telemetry(site, r.node)), encode_reading(r)


def stored(influx: InfluxClient, site: str) -> dict[tuple[str, int], dict[str, Any]]:
    """(node, ts) → fields of every `reading` point of `site`."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for s in influx.query(f"SELECT * FROM \"reading\" WHERE site='{site}' GROUP BY \"node\""):
        for row in s.rows():
            ts = row.pop("time")
            row.pop("site", None)
            out[(s.tags["node"], ts)] = {k: v for k, v in row.items() if v is not None}
    return out


def rejected_by_reason(influx: InfluxClient, site: str | None = None) -> dict[str, int]:
    where = f" WHERE site='{site}'" if site else ""
    got: dict[str, int] = {}
    for s in influx.query(f'SELECT sum("count") FROM "rejected"{where} GROUP BY "reason"'):
        got[s.tags["reason"]] = int(s.values[0][1])
    return got


class AckListener:
    """The retained end-to-end acks of one site, as a node would see them."""

    def __init__(self, url: str, site: str) -> None:
        self.acks: dict[str, bytes] = {}
        self.lock = threading.Lock()
        target = parse_mqtt_url(url)
        self.client = make_client(target, f"acks-{time.monotonic_ns()}")
        self.client.on_message = self._on_message
        connect_and_wait(self.client, target)
        self.client.subscribe(topics.node_filter(topics.NodeTopicKind.ACK, site), qos=1)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.acks[topics.NodeTopic.parse(msg.topic).node] = bytes(msg.payload)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
