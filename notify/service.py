"""`ruongso notify`: the dispatcher as a service on MQTT.

The broker session is persistent (clean_start off, session expiry 7 days) and events are acked by
hand only after their messages are committed to the outbox: an event that arrives while we are down
or crash waits in the broker, and one redelivered after a crash adds nothing (same keys).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from contract.topics import ALL_ALERTS, QOS
from contract.wire import WireError
from notify import channels as channel_registry
from notify.directory import Directory
from notify.dispatcher import Dispatcher, Policy
from notify.outbox import Outbox
from notify.settings import NotifySettings
from registry.alert_control import CONTROL_FILTER
from ruongso.logs import event as log_event

log = logging.getLogger("notify")
# The API's retained acknowledgements per site: `farm/{site}/alerts/control` (registry/alert_control.py).
CONTROL_SUFFIX = CONTROL_FILTER.removeprefix("farm/+")
SESSION_EXPIRY_S = 7 * 86400


def open_directory(s: NotifySettings) -> Directory:
    from notify.routing_registry import RegistryDirectory
    from notify.routing_yaml import YamlDirectory

    if s.notify_routing:
        return YamlDirectory.load(s.notify_routing, tuple(channel_registry.CHANNELS))
    if s.registry_url:
        return RegistryDirectory(s.registry_url)
    raise ValueError("no routing: give --routing routing.yaml or --registry sqlite:///registry.db")


RECORD_TRIES = 3


def _record(dispatcher: Dispatcher, msg: Any) -> None:
    if msg.topic.endswith(CONTROL_SUFFIX):
        dispatcher.accept_control(msg.payload)
    else:
        dispatcher.accept(msg.payload, msg.topic)


def _on_message(dispatcher: Dispatcher) -> Any:
    def on_message(client: Any, userdata: object, msg: Any) -> None:
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                _record(dispatcher, msg)
                break
            except WireError as exc:
                # A bad event will not get better: drop it (acked), said once with its reason.
                log_event(log, "alert_rejected", logging.WARNING, topic=msg.topic, reason=str(exc.reason),
                          detail=str(exc))  # fmt: skip
                break
            except Exception as exc:
                # E.g. the registry or the disk is busy: try again shortly. Still failing: leave it
                # unacknowledged, so the broker sends it again after the next reconnect.
                log_event(log, "alert_not_recorded", logging.ERROR, topic=msg.topic, attempt=attempt,
                          error=f"{type(exc).__name__}: {exc}")  # fmt: skip
                if attempt == RECORD_TRIES:
                    return
                time.sleep(0.2 * attempt)
        try:
            client.ack(msg.mid, msg.qos)
        except Exception as exc:
            log_event(log, "ack_failed", logging.ERROR, error=str(exc))

    return on_message


def run(s: NotifySettings, stop: threading.Event | None = None) -> None:
    from paho.mqtt.packettypes import PacketTypes
    from paho.mqtt.properties import Properties

    from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url

    stop = stop or threading.Event()
    directory = open_directory(s)
    outbox = Outbox(s.notify_outbox)
    target = parse_mqtt_url(s.mqtt_url)
    client = make_client(target, s.notify_client_id, ca_file=s.mqtt_ca_file, manual_ack=True)
    chans = channel_registry.build(s, outbox, client)
    if not chans:
        log_event(log, "no_channels", logging.WARNING, hint="set RUONGSO_SMTP_URL, _WEBHOOK_URL, _SMS_URL, _ZALO_*")
    dispatcher = Dispatcher(directory, outbox, chans, Policy.from_settings(s))

    def on_connect(c: Any, userdata: object, flags: object, rc: object, props: object = None) -> None:
        c.subscribe([(ALL_ALERTS, QOS), (CONTROL_FILTER, QOS)])

    client.on_connect = on_connect
    client.on_message = _on_message(dispatcher)
    props = Properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = SESSION_EXPIRY_S
    connect_and_wait(client, target, clean_start=False, properties=props)
    if "://127." in s.public_url or "://localhost" in s.public_url:
        log_event(log, "public_url_is_local", logging.WARNING, public_url=s.public_url,
                  hint="acknowledge links will not open on phones: set RUONGSO_PUBLIC_URL")  # fmt: skip
    log_event(log, "notify_started", outbox=s.notify_outbox, channels=",".join(chans), broker=str(target))

    for sig in (signal.SIGTERM, signal.SIGINT):
        if threading.current_thread() is threading.main_thread():
            signal.signal(sig, lambda *_: stop.set())
    try:
        dispatcher.run(stop)
    finally:
        client.disconnect()
        client.loop_stop()
        for ch in chans.values():
            ch.close()
        outbox.close()
        log_event(log, "notify_stopped", **dispatcher.counts)
