"""The node's MQTT connection: credentials, TLS, last will, subscriptions. Callbacks only enqueue.

paho's network thread runs the callbacks; each turns what happened into an event tuple on a queue
that the agent's link worker handles, so nothing ever raises out of a callback and no driver or
database work happens on paho's thread.

Events: ("connected",) ("refused", reason) ("unreachable",) ("disconnected", reason)
("message", topic, payload) ("published", mid).
"""

from __future__ import annotations

import logging
import queue
from typing import Any

import paho.mqtt.client as mqtt

from contract import topics
from contract.topics import QOS
from edge.config import NodeConfig
from ruongso.logs import event
from ruongso.mqtt import make_client

log = logging.getLogger("edge.link")
Event = tuple[Any, ...]


class Link:
    def __init__(self, cfg: NodeConfig, events: queue.Queue[Event], will: bytes) -> None:
        self.cfg = cfg
        self.events = events
        self.telemetry_topic = str(topics.telemetry(cfg.site, cfg.node))
        self.status_topic = str(topics.status(cfg.site, cfg.node))
        self.config_topic = str(topics.config(cfg.site, cfg.node))
        self.ack_topic = str(topics.ack(cfg.site, cfg.node))
        m = cfg.mqtt
        self.client = make_client(
            m.target, client_id=cfg.node, ca_file=m.ca_file, username=m.username, password=m.password
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=max(1, int(m.reconnect_max_s)))
        self.client.will_set(self.status_topic, will, qos=QOS, retain=True)
        # Bound paho's own queue: the outbox is the buffer, paho only holds what is in flight.
        self.client.max_queued_messages_set(1000)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_publish = self._on_publish
        self.client.on_connect_fail = self._on_connect_fail

    def start(self) -> None:
        target = self.cfg.mqtt.target
        self.client.connect_async(target.host, target.port, keepalive=30)
        self.client.loop_start()

    def publish(self, topic: str, payload: bytes, retain: bool = False) -> mqtt.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=QOS, retain=retain)

    def stop(self, last_status: bytes | None = None, timeout: float = 5.0) -> None:
        try:
            if last_status is not None and self.client.is_connected():
                info = self.publish(self.status_topic, last_status, retain=True)
                info.wait_for_publish(timeout)
        except (RuntimeError, ValueError, OSError):
            pass  # stopping anyway; the broker's last will says offline
        self.client.disconnect()
        self.client.loop_stop()

    # --- paho callbacks: convert, enqueue, never raise ---------------------------------------------

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, rc: Any, props: object = None) -> None:
        try:
            if getattr(rc, "is_failure", False):
                self.events.put(("refused", str(rc)))
                return
            client.subscribe([(self.config_topic, QOS), (self.ack_topic, QOS)])
            self.events.put(("connected",))
        except Exception as exc:
            event(log, "callback_error", logging.ERROR, where="on_connect", error=repr(exc))

    def _on_disconnect(
        self, client: mqtt.Client, userdata: object, flags: object, rc: Any, props: object = None
    ) -> None:
        self.events.put(("disconnected", str(rc)))

    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        self.events.put(("unreachable",))

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.events.put(("message", msg.topic, bytes(msg.payload)))

    def _on_publish(
        self, client: mqtt.Client, userdata: object, mid: int, rc: Any = None, props: object = None
    ) -> None:
        self.events.put(("published", mid))
