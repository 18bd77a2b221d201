"""A test's own MQTT subscriber: records telemetry as the broker delivers it to any consumer."""

from __future__ import annotations

import threading
import time

import paho.mqtt.client as mqtt

from contract import topics
from ruongso.local_services import Mosquitto
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from tests.waiting import wait_until


class TelemetryRecorder:
    """Every telemetry message (of sites starting with `prefix`, when given) with its arrival time in ms."""

    def __init__(self, broker: Mosquitto, prefix: str | None = None) -> None:
        self.prefix = prefix
        self.barrier_site = f"{prefix or 'rec'}x-barrier"
        self.messages: list[tuple[str, bytes, int]] = []
        self.barriers = 0
        self.lock = threading.Lock()
        target = parse_mqtt_url(broker.url)
        self.client = make_client(target, client_id=f"recorder-{prefix or 'all'}-{time.monotonic_ns()}")
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_message = self._on_message
        # Subscribed on every connect, so the recorder keeps listening after a broker restart.
        self.client.on_connect = lambda c, *a: c.subscribe(topics.ALL_TELEMETRY, qos=1)
        connect_and_wait(self.client, target)
        assert subscribed.wait(5)

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        site = topics.NodeTopic.parse(msg.topic).site
        with self.lock:
            if site == self.barrier_site:
                self.barriers += 1
            elif self.prefix is None or site.startswith(self.prefix + "-"):
                self.messages.append((msg.topic, bytes(msg.payload), int(time.time() * 1000)))

    @property
    def payloads(self) -> list[bytes]:
        with self.lock:
            return [p for _, p, _ in self.messages]

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def drain(self) -> None:
        """Return once the broker has delivered everything published before this call.

        The broker handles messages in the order it receives them, so our own marker arrives after
        everything a publisher had published (and got PUBACKs for) before it exited. Only for tests
        without an ingest on the same broker: the marker is not a valid reading.
        """
        with self.lock:
            expected = self.barriers + 1
        self.client.publish(str(topics.telemetry(self.barrier_site, "marker")), b"{}", qos=1)
        wait_until(lambda: self.barriers >= expected, 10, what="the barrier message")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
