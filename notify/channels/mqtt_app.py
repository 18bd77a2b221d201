"""The farm app's channel: the message as JSON on an MQTT topic of the recipient (QoS 1).

Sent once the broker's PUBACK arrives. The app dedupes by the message's `key`.
"""

from __future__ import annotations

import json

from notify.channels.base import SendResult
from notify.message import Message


class MqttAppChannel:
    name = "mqtt"

    def __init__(self, client: object, topic_template: str, timeout: float = 10.0) -> None:
        if "{recipient}" not in topic_template:
            raise ValueError(f"notify_mqtt_topic {topic_template!r} must contain {{recipient}}")
        self.client = client  # a connected paho client with its loop running (the dispatcher's own)
        self.topic_template = topic_template
        self.timeout = timeout

    def topic(self, message: Message) -> str:
        who = "".join(c if c.isalnum() or c in "-_." else "_" for c in (message.address or message.recipient))
        return self.topic_template.replace("{recipient}", who)

    def send(self, message: Message) -> SendResult:
        body = json.dumps(message.public(), ensure_ascii=False, separators=(",", ":"))
        try:
            info = self.client.publish(self.topic(message), body, qos=1)  # type: ignore[attr-defined]
            info.wait_for_publish(self.timeout)
        except (RuntimeError, ValueError, OSError) as exc:
            return SendResult.retry(f"{type(exc).__name__}: {exc}")
        if not info.is_published():
            return SendResult.retry("no PUBACK from the broker in time")
        return SendResult.sent(str(info.mid))

    def close(self) -> None:
        pass
