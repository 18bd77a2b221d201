"""The ingest service: MQTT (persistent session, manual acks) → converter → writer thread → InfluxDB.

The MQTT callback only converts and enqueues; the writer thread batches, writes and then acks.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from contract import topics
from contract.wire import Ack, WireError, decode_ack
from ingest.convert import Converted, Converter
from ingest.deadletters import DeadLetterFile, now_ms
from ingest.fastmqtt import BufferedClient
from ingest.metrics import Metrics, instance_tag, serve
from ingest.progress import decode_progress, encode_progress, progress_topic
from ingest.settings import IngestSettings
from ingest.spool import Spool
from ingest.writer import Pending, Seq, Writer, WriterConfig
from ruongso.influx import InfluxClient, InfluxError
from ruongso.logs import event
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url

log = logging.getLogger("ruongso.ingest")
ACK_FILTER = topics.node_filter(topics.NodeTopicKind.ACK)


class IngestError(RuntimeError):
    """Ingest cannot start; the message says why and what to do."""


def _public_url(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class Ingestor:
    def __init__(self, settings: IngestSettings) -> None:
        self.settings = settings
        self.target = parse_mqtt_url(settings.mqtt_url)
        self.converter = Converter(settings.max_future_ms)
        self.metrics = Metrics(instance_tag(settings.client_id))
        self._gen = 0
        self._accepting = False
        self._lock_file: Any = None
        self._metrics_server: Any = None
        self.client: mqtt.Client | None = None
        self.writer: Writer | None = None
        self._subscribed = threading.Event()
        self._max_held = settings.receive_maximum
        self._progress_topic = progress_topic(settings.share_group) if settings.share_group else None

    # --- lifecycle ------------------------------------------------------------------------------

    def describe(self) -> str:
        s = self.settings
        metrics = f"http://{s.metrics_host}:{s.metrics_port}/metrics" if s.metrics_port else "off"
        return (
            f"ruongso ingest: reading {self.target} ({s.telemetry_filter}, {topics.ALL_STATUS}) as {s.client_id} "
            f"→ writing {_public_url(s.influx_url)} db={s.influx_db}; spool {s.state_path / 'spool'}; "
            f"dead letters {s.dead_letter_path}; metrics {metrics}"
        )

    def start(self) -> None:
        s = self.settings
        self._lock_state_dir(s.state_path)
        self.spool = Spool(s.state_path / "spool", s.spool_max_bytes)
        self.dead = DeadLetterFile(s.dead_letter_path, s.dead_letter_max_bytes)
        self.influx = InfluxClient(s.influx_url, s.influx_db, s.influx_user, s.influx_password)
        try:
            self.influx.create_database()
        except InfluxError as exc:  # the writer creates it when InfluxDB answers; spooling meanwhile
            event(log, "create_database_deferred", logging.WARNING, error=str(exc)[:200])
        cfg = WriterConfig(s.batch_size, s.batch_ms, s.retry_budget_s, s.retry_max_s, s.ack_interval_s,
                           s.pipeline_interval_s)
        self.writer = Writer(cfg, self.influx, self.spool, self.dead, self.metrics, self._ack, self._publish_acks,
                             self._share_progress if self._progress_topic else None)
        self.writer.start()
        if s.metrics_port:
            try:
                self._metrics_server = serve(self.metrics, s.metrics_host, s.metrics_port)
            except OSError as exc:  # a busy port must not stop the data: say so and carry on
                event(log, "metrics_unavailable", logging.WARNING, port=s.metrics_port, error=str(exc))
        self._connect()

    def _connect(self) -> None:
        s = self.settings
        client = make_client(self.target, s.client_id, v5=True, ca_file=s.mqtt_ca_file, manual_ack=True,
                             client_class=BufferedClient)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = s.session_expiry_s
        props.ReceiveMaximum = min(s.receive_maximum, 65535)
        self.client = client
        self._accepting = True
        try:
            connect_and_wait(client, self.target, clean_start=False, properties=props)
        except ConnectionError as exc:
            self._accepting = False
            raise IngestError(str(exc)) from None

    def wait_subscribed(self, timeout: float = 10.0) -> bool:
        return self._subscribed.wait(timeout)

    def stop(self) -> None:
        """Stop taking messages, write and ack what was taken, publish the last acks, disconnect."""
        self._accepting = False
        if self.writer is not None and self.writer.is_alive():
            self.writer.stopping.set()
            self.writer.queue.put(None)
            self.writer.join(60)
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
        if self.writer is not None:
            self.spool.close()
            self.dead.close()
            self.influx.close()
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    @property
    def failed(self) -> BaseException | None:
        return self.writer.failed if self.writer is not None else None

    def _lock_state_dir(self, state: Path) -> None:
        state.mkdir(parents=True, exist_ok=True)
        f = open(state / "lock", "w")  # noqa: SIM115 - held for the service's lifetime
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            f.close()
            raise IngestError(
                f"another ingest is using {state} (its spool and dead letters); give this one its own "
                "--client-id or --state-dir"
            ) from None
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._lock_file = f

    # --- MQTT callbacks (network thread: convert, enqueue, never raise) -------------------------

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: Any, rc: Any, props: Any = None) -> None:
        try:
            # PUBACKs for messages of an earlier connection are meaningless now (the broker sends
            # those messages again), and a stale packet id could ack a different message.
            self._gen += 1
            if getattr(rc, "is_failure", False):
                event(log, "mqtt_refused", logging.ERROR, reason=str(rc))
                return
            event(log, "mqtt_connected", session_present=bool(getattr(flags, "session_present", False)))
            if self.settings.share_group:
                # A session that once subscribed without a group would otherwise get every message
                # twice: once for the old plain subscription, once through the group.
                client.unsubscribe(topics.ALL_TELEMETRY)
            subs = [
                (self.settings.telemetry_filter, SubscribeOptions(qos=1)),
                (topics.ALL_STATUS, SubscribeOptions(qos=1)),
                # Retained acks say what an earlier run settled; our own publishes need not come back.
                (ACK_FILTER, SubscribeOptions(qos=1, noLocal=True)),
            ]
            if self._progress_topic:
                subs.append((self._progress_topic, SubscribeOptions(qos=1, noLocal=True)))
            client.subscribe(subs)
        except Exception as exc:
            event(log, "on_connect_failed", logging.ERROR, error=repr(exc))

    def _on_subscribe(self, client: mqtt.Client, userdata: object, mid: int, reason_codes: Any,
                      props: Any = None) -> None:
        # Said once per (re)subscription, so an operator (and `ruongso demo`) can tell from the log
        # that nothing published from now on is missed.
        if not self._subscribed.is_set():
            event(log, "mqtt_subscribed", filter=self.settings.telemetry_filter)
        self._subscribed.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: Any, rc: Any, props: Any = None) -> None:
        if self._accepting:
            event(log, "mqtt_disconnected", logging.WARNING, reason=str(rc), effect="reconnecting")

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if not self._accepting or self.writer is None:
            return  # shutting down: left unacked, so the broker keeps it for the next run
        try:
            try:
                topic = msg.topic
            except UnicodeDecodeError:
                topic = msg._topic.decode("utf-8", errors="replace")
            payload = bytes(msg.payload)  # already bytes on the fast path: no copy
            seed = progress = None
            if topic.endswith("/ack"):
                conv, seed = Converted(), _ack_seed(topic, payload)
            elif topic == self._progress_topic:
                conv, progress = Converted(), _progress(payload)
            else:
                conv = self.converter.convert(topic, payload)
            queue = self.writer.queue
            # Memory bound. Mosquitto 2.0 keeps to our Receive Maximum only until the first PUBACK
            # (measured: 10 allowed, 5 acked, 60 arrived), so when the writer cannot keep up (InfluxDB
            # down, spool full) the network thread waits here: TCP pushes back and the broker keeps
            # the backlog in our session.
            while queue.qsize() >= self._max_held and self._accepting:
                time.sleep(0.01)
            queue.put(Pending(msg.mid, msg.qos, self._gen, conv, seed, progress))
        except Exception as exc:  # nothing raises out of a callback; the message stays unacked
            event(log, "message_not_handled", logging.ERROR, error=repr(exc))

    # --- called by the writer thread --------------------------------------------------------------

    def _ack(self, batch: list[Pending]) -> None:
        client, gen = self.client, self._gen
        if isinstance(client, BufferedClient):
            client.ack_many([p.mid for p in batch if p.qos == 1 and p.gen == gen])

    def _publish_acks(self, marks: list[Seq]) -> None:
        client = self.client
        if client is None:
            return
        ts = now_ms()
        for site, node, boot, seq in marks:
            try:
                client.publish(str(topics.ack(site, node)), Ack(boot, seq, ts).encode(), qos=1, retain=True)
            except (ValueError, RuntimeError) as exc:
                event(log, "ack_not_published", logging.WARNING, node=node, error=str(exc))

    def _share_progress(self, seqs: list[Seq]) -> None:
        client = self.client
        if client is not None and self._progress_topic:
            client.publish(self._progress_topic, encode_progress(seqs), qos=1)

    def run_until(self, stop: threading.Event) -> int:
        """Block until `stop` is set (or the writer died); 0 on a clean stop."""
        while not stop.wait(0.5):
            if self.failed is not None:
                return 1
        return 0


def _ack_seed(topic: str, payload: bytes) -> Seq | None:
    try:
        t = topics.NodeTopic.parse(topic)
        if not payload:
            return None
        a = decode_ack(payload)
    except (topics.TopicError, WireError, ValueError):
        return None
    return (t.site, t.node, a.boot, a.seq)


def _progress(payload: bytes) -> list[Seq] | None:
    try:
        return decode_progress(payload)
    except ValueError as exc:
        event(log, "progress_ignored", logging.WARNING, error=str(exc)[:200])
        return None
