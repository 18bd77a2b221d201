"""Publish a farm's messages to MQTT at QoS 1, paced by simulated time, and wait for every PUBACK.

Pacing: the message a node sends at simulated time t goes out at wall time t0 + (t − start)/speed
(speed = inf: as fast as the broker takes them). At most `window` messages are unacknowledged at a
time, so memory stays flat however long the run. Ctrl-C (or SIGTERM) stops the stream cleanly: what
was published is still acknowledged before the client disconnects.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from contract.topics import QOS
from ruongso.logs import event
from ruongso.mqtt import MqttTarget, connect_and_wait, make_client
from simulators.farm import Farm

log = logging.getLogger("simulators.publisher")


class PublishError(RuntimeError):
    pass


@dataclass(slots=True)
class PublishResult:
    reading_sets: int = 0
    messages: int = 0
    acked: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    faults: Counter[str] = field(default_factory=Counter)


class _Acks:
    """Counts PUBACKs (paho's network thread) and bounds the unacknowledged window."""

    def __init__(self, window: int) -> None:
        self.window = threading.Semaphore(window)
        self.count = 0
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)

    def on_publish(self, client: mqtt.Client, userdata: object, mid: int, rc: object, props: object = None) -> None:
        # Nothing may raise out of a paho callback.
        try:
            with self.lock:
                self.count += 1
                self.done.notify_all()
            self.window.release()
        except Exception:  # pragma: no cover - defensive
            log.exception("puback handling failed")

    def wait_for(self, n: int, timeout: float) -> bool:
        with self.lock:
            return self.done.wait_for(lambda: self.count >= n, timeout)


def publish_farm(
    farm: Farm, target: MqttTarget, *, speed: float, window: int = 1000, ack_timeout: float = 60.0
) -> PublishResult:
    """Publish every message of `farm`; returns counts once all are acknowledged (or raises PublishError)."""
    acks = _Acks(window)
    client = make_client(target, f"ruongso-sim-{os.getpid()}-{os.urandom(3).hex()}", v5=False)
    # MQTT 3.1.1: a broker acknowledges incoming QoS 1 at once, without a receive maximum to respect.
    client.max_inflight_messages_set(min(window, 1000))
    client.max_queued_messages_set(0)
    client.on_publish = acks.on_publish
    connect_and_wait(client, target)
    result = PublishResult()
    start_ms = farm.config.start_ms
    t0 = time.monotonic()
    event(log, "sim started", target=str(target), sites=len(farm.sites), speed=speed)
    try:
        for topic, payload, meta in farm.messages():
            if not math.isinf(speed):
                _wait_until(t0 + (meta.at_ms - start_ms) / 1000.0 / speed)
            while not acks.window.acquire(timeout=1.0):
                if not client.is_connected():
                    event(log, "sim waiting for broker", level=logging.WARNING, target=str(target))
            info = client.publish(topic, payload, qos=QOS)
            if info.rc not in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
                # NO_CONN means queued for the reconnect; anything else is a bug worth stopping for.
                raise PublishError(f"publish to {topic} failed: {mqtt.error_string(info.rc)}")
            result.messages += 1
            if not meta.repeat:
                result.reading_sets += len(meta.seqs)
    except KeyboardInterrupt:
        result.interrupted = True
        farm.close()
    try:
        if not acks.wait_for(result.messages, ack_timeout):
            raise PublishError(
                f"only {acks.count} of {result.messages} messages acknowledged by {target} within {ack_timeout:.0f} s"
            )
    finally:
        result.acked = acks.count
        result.seconds = time.monotonic() - t0
        result.faults = Counter(farm.fault_counts)
        client.disconnect()
        client.loop_stop()
    return result


def _wait_until(due: float) -> None:
    while True:
        left = due - time.monotonic()
        if left <= 0:
            return
        # Short sleeps keep Ctrl-C responsive.
        time.sleep(min(left, 0.25))
