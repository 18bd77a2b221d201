"""Publish a farm's messages to MQTT at QoS 1, paced by simulated time, and wait for every PUBACK.

Pacing: the message a node sends at simulated time t goes out at wall time t0 + (t − start)/speed
(speed = inf: as fast as the broker takes them). At most `window` messages are unacknowledged at a
time, so memory stays flat however long the run. Ctrl-C (or SIGTERM) stops the stream cleanly: what
was published is still acknowledged before the client disconnects.

The paho network loop runs in this thread, not paho's background one: with no second thread paho
writes each PUBLISH straight to the socket, about three times faster than `loop_start()` here
(bench/sim_throughput.py). Waiting between paced messages is spent in `select` on the socket, so
PUBACKs and keep-alives flow while we wait, and a lost connection is re-established from here.
"""

from __future__ import annotations

import logging
import math
import os
import select
import time
from collections import Counter
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from contract.topics import QOS
from ruongso.logs import event
from ruongso.mqtt import MqttTarget, make_client
from simulators.farm import Farm

log = logging.getLogger("simulators.publisher")


class PublishError(RuntimeError):
    pass


@dataclass(slots=True)
class PublishResult:
    reading_sets: int = 0
    messages: int = 0  # telemetry publishes
    statuses: int = 0  # retained status publishes (FarmConfig.status)
    acked: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    faults: Counter[str] = field(default_factory=Counter)


class _Link:
    """One paho client driven from this thread: publish, pump the socket, reconnect, count PUBACKs.

    It uses paho's external-loop API (`socket`, `loop_read`, `loop_write`, `loop_misc`) and never
    `loop()`/`loop_start()`: those add a wake-up socket pair that costs a second syscall per publish.
    """

    def __init__(self, target: MqttTarget) -> None:
        self.target = target
        self.acked = 0
        self.client = make_client(target, f"ruongso-sim-{os.getpid()}-{os.urandom(3).hex()}", v5=False)
        # MQTT 3.1.1: a broker acknowledges incoming QoS 1 at once, without a receive maximum to respect.
        self.client.max_inflight_messages_set(1000)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        self.client.on_connect = self._on_connect
        self._connack: object = None
        self._next_reconnect = 0.0

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, rc: object, props: object = None) -> None:
        self.acked += 1

    def _on_connect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: object, props: object = None
    ) -> None:
        self._connack = rc

    def connect(self, timeout: float = 10.0) -> None:
        try:
            self.client.connect(self.target.host, self.target.port, keepalive=30)
        except OSError as exc:
            raise ConnectionError(f"cannot reach MQTT broker {self.target}: {exc}") from None
        deadline = time.monotonic() + timeout
        while self._connack is None:
            if time.monotonic() > deadline:
                raise ConnectionError(f"no answer from MQTT broker {self.target} within {timeout:.0f} s")
            self.pump(0.1)
        if getattr(self._connack, "is_failure", False):
            raise ConnectionError(f"MQTT broker {self.target} refused the connection: {self._connack}")

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=QOS, retain=retain)
        if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            # NO_CONN means queued until the reconnect; anything else is a bug worth stopping for.
            raise PublishError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")

    def pump(self, timeout: float = 0.0) -> None:
        sock = self.client.socket()
        if sock is None:
            self._reconnect(timeout)
            return
        want_write = self.client.want_write()
        try:
            readable, writable, _ = select.select([sock], [sock] if want_write else [], [], timeout)
        except (OSError, ValueError):
            readable = writable = []
        if readable:
            self.client.loop_read()
        if writable:
            self.client.loop_write()
        self.client.loop_misc()

    def _reconnect(self, timeout: float) -> None:
        now = time.monotonic()
        if now < self._next_reconnect:
            time.sleep(min(timeout, self._next_reconnect - now))
            return
        self._next_reconnect = now + 1.0
        event(log, "sim reconnecting", level=logging.WARNING, target=str(self.target))
        try:
            self.client.reconnect()
        except OSError as exc:
            event(log, "sim reconnect failed", level=logging.WARNING, target=str(self.target), error=str(exc))

    def wait_acked(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.acked < n:
            if time.monotonic() > deadline:
                return False
            self.pump(0.05)
        return True

    def close(self) -> None:
        # Without a network thread paho writes DISCONNECT at once and closes the socket itself.
        self.client.disconnect()


def publish_farm(
    farm: Farm, target: MqttTarget, *, speed: float, window: int = 1000, ack_timeout: float = 60.0
) -> PublishResult:
    """Publish every message of `farm`; returns counts once all are acknowledged (or raises PublishError)."""
    link = _Link(target)
    link.connect()
    result = PublishResult()
    start_ms = farm.config.start_ms
    t0 = time.monotonic()
    event(log, "sim started", target=str(target), sites=len(farm.sites), speed=speed)
    last_ms = start_ms
    try:
        for topic, payload, meta in farm.messages():
            if not math.isinf(speed):
                _wait_until(link, t0 + (meta.at_ms - start_ms) / 1000.0 / speed)
            _send(link, result, window, topic, payload, meta.kind == "status", len(meta.seqs) if not meta.repeat else 0)
            last_ms = meta.at_ms
    except KeyboardInterrupt:
        result.interrupted = True
        farm.close()
        for topic, payload, _meta in farm.farewell(last_ms):
            _send(link, result, window, topic, payload, True, 0)
    sent = result.messages + result.statuses
    try:
        if not link.wait_acked(sent, ack_timeout):
            raise PublishError(
                f"only {link.acked} of {sent} messages acknowledged by {target} within {ack_timeout:.0f} s"
            )
    finally:
        result.acked = link.acked
        result.seconds = time.monotonic() - t0
        result.faults = Counter(farm.fault_counts)
        link.close()
    return result


def _send(link: _Link, result: PublishResult, window: int, topic: str, payload: bytes, retain: bool, sets: int) -> None:
    while result.messages + result.statuses - link.acked >= window:
        link.pump(0.01)
    link.publish(topic, payload, retain=retain)
    if retain:
        result.statuses += 1
    else:
        result.messages += 1
        result.reading_sets += sets
    if (result.messages + result.statuses) % 64 == 0:
        link.pump()


def _wait_until(link: _Link, due: float) -> None:
    while True:
        left = due - time.monotonic()
        if left <= 0:
            return
        # Waiting inside the network loop keeps PUBACKs and keep-alives flowing; short slices keep Ctrl-C quick.
        link.pump(min(left, 0.25))
