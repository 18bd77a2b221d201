"""Publishing a site's alert-control message (registry.alert_control) on MQTT, retained, QoS 1.

One short connection per publish: acks and silences are rare, and a broker outage must not leave a
half-dead client inside the API. A failed publish is reported, not raised: the registry already holds
the decision and analytics also reads it there.
"""

from __future__ import annotations

import logging

from ruongso.logs import event
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url

log = logging.getLogger("api.publish")


class ControlPublisher:
    def __init__(self, mqtt_url: str, ca_file: str | None = None, timeout: float = 5.0) -> None:
        self.target = parse_mqtt_url(mqtt_url)
        self.ca_file = ca_file
        self.timeout = timeout

    def publish(self, topic: str, payload: bytes) -> bool:
        client = make_client(self.target, ca_file=self.ca_file)
        try:
            connect_and_wait(client, self.target, timeout=self.timeout)
            info = client.publish(topic, payload, qos=1, retain=True)
            info.wait_for_publish(self.timeout)
            ok = info.is_published()
        except (ConnectionError, OSError, RuntimeError, ValueError) as exc:
            event(log, "control_publish_failed", logging.WARNING, topic=topic, error=str(exc))
            return False
        finally:
            client.disconnect()
            client.loop_stop()
        if not ok:
            event(log, "control_publish_failed", logging.WARNING, topic=topic, error="no PUBACK in time")
        return ok
