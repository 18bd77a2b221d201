"""MQTT connection settings from a URL, and paho-mqtt 2.x clients built the same way everywhere.

`mqtt://user:pass@host:1883`, `mqtts://host:8883` (TLS; CA file optional). Stdlib + paho only:
the edge agent uses this module too.
"""

from __future__ import annotations

import ssl
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class MqttUrlError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class MqttTarget:
    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    def __str__(self) -> str:
        # Never print the password.
        user = f"{self.username}@" if self.username else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}"


def parse_mqtt_url(url: str) -> MqttTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise MqttUrlError(f"MQTT URL {url!r} must start with mqtt:// or mqtts://")
    if not parts.hostname:
        raise MqttUrlError(f"MQTT URL {url!r} has no host")
    tls = parts.scheme in ("mqtts", "ssl")
    try:
        port = parts.port or (8883 if tls else 1883)
    except ValueError:
        raise MqttUrlError(f"MQTT URL {url!r} has an invalid port") from None
    return MqttTarget(
        parts.hostname,
        port,
        tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def make_client(
    target: MqttTarget,
    client_id: str = "",
    *,
    v5: bool = True,
    ca_file: str | None = None,
    username: str | None = None,
    password: str | None = None,
    manual_ack: bool = False,
    client_class: type[mqtt.Client] = mqtt.Client,
) -> mqtt.Client:
    """A paho client with credentials and TLS applied; the caller sets callbacks and connects.

    `client_class` lets a high-volume consumer (ingest) use a paho subclass tuned for throughput.
    """
    client = client_class(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    user = username or target.username
    if user:
        client.username_pw_set(user, password if password is not None else target.password)
    if target.tls:
        client.tls_set(ca_certs=ca_file, cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


def connect_and_wait(client: mqtt.Client, target: MqttTarget, timeout: float = 10.0, **kw: object) -> None:
    """Connect, start the network loop and wait for CONNACK; raise ConnectionError with the broker's reason."""
    done = threading.Event()
    result: dict[str, object] = {}
    previous = client.on_connect

    def on_connect(c: mqtt.Client, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        result["rc"] = rc
        done.set()
        if previous is not None:
            previous(c, userdata, flags, rc, props)  # type: ignore[call-arg]

    client.on_connect = on_connect
    try:
        client.connect(target.host, target.port, keepalive=30, **kw)  # type: ignore[arg-type]
    except OSError as exc:
        raise ConnectionError(f"cannot reach MQTT broker {target}: {exc}") from None
    client.loop_start()
    if not done.wait(timeout):
        client.loop_stop()
        raise ConnectionError(f"no answer from MQTT broker {target} within {timeout:.0f} s")
    client.on_connect = previous
    rc = result["rc"]
    if getattr(rc, "is_failure", False):
        client.loop_stop()
        raise ConnectionError(f"MQTT broker {target} refused the connection: {rc}")
