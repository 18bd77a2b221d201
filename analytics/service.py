"""`ruongso analytics run`: MQTT in (telemetry, status, control), alert events and points out.

The MQTT callback only enqueues (nothing raises out of it); one worker thread decodes with the
contract, runs the engine and publishes events on `farm/{site}/alerts` (QoS 1); a writer thread
writes the `alert` and `derived` points to InfluxDB in batches, so a slow database never delays an
alert. Writes that a retry can fix are kept (bounded) and retried; others are logged and dropped.
Firing alerts and silences are saved to a state file, and rebuilt from InfluxDB's `alert`
measurement when there is none, so a restart does not announce them again.

Scale-out: `--partition i/n` keeps the sites whose stable hash (CRC-32 of the slug) mod n is i, so a
node's readings always reach the same instance (Mosquitto's shared subscriptions are round-robin and
would split a node's stream).
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from analytics import rules as rules_mod
from analytics.control import ALL_CONTROL, ControlError, decode_control, parse_control_topic
from analytics.engine import Engine, Output
from analytics.lifecycle import Active, Lifecycle
from analytics.lines import alert_line
from analytics.sites import SiteDirectory, SitesError, registry_lookup
from analytics.warmup import replay
from contract import topics
from contract.topics import NodeTopic, NodeTopicKind, TopicError
from contract.wire import Decoded, WireError, decode_status, decode_telemetry
from ruongso.influx import InfluxClient, InfluxError, quote_ident
from ruongso.logs import configure, event
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from ruongso.paths import state_root
from ruongso.profiles import profile_ids
from ruongso.settings import ServiceSettings, SettingsError, build

log = logging.getLogger("analytics")

MAX_PENDING_LINES = 200_000
SESSION_EXPIRY_S = 3600


class AnalyticsSettings(ServiceSettings):
    partition: str | None = None
    sites_file: str | None = None
    registry_url: str | None = None
    # Empty: <state root>/analytics/<client id>-<db>.json (ruongso.paths), never the working directory.
    state_file: str = ""
    client_id: str | None = None
    repeat_interval_s: float = 4 * 3600.0
    flush_interval_s: float = 0.5
    tick_interval_s: float = 5.0
    # Hours of stored readings replayed through the detectors at start (analytics/warmup.py); 0: none.
    warmup_hours: float = 48.0


def parse_partition(text: str | None) -> tuple[int, int]:
    if not text:
        return 0, 1
    try:
        i, n = (int(p) for p in text.split("/"))
    except ValueError:
        raise SettingsError(f"invalid settings: partition={text!r}: must be i/n, e.g. 0/4") from None
    if not (n >= 1 and 0 <= i < n):
        raise SettingsError(f"invalid settings: partition={text!r}: need n ≥ 1 and 0 ≤ i < n")
    return i, n


def site_partition(site: str, n: int) -> int:
    return zlib.crc32(site.encode()) % n


def now_ms() -> int:
    return int(time.time() * 1000)


class AnalyticsService:
    def __init__(self, settings: AnalyticsSettings) -> None:
        self.settings = settings
        self.part, self.parts = parse_partition(settings.partition)
        self.target = parse_mqtt_url(settings.mqtt_url)
        registry = registry_lookup(settings.registry_url) if settings.registry_url else None
        self.engine = Engine(SiteDirectory(settings.sites_file, registry),
                             Lifecycle(int(settings.repeat_interval_s * 1000)))
        self.inbox: queue.Queue[tuple[str, bytes, int] | None] = queue.Queue(maxsize=200_000)
        self.influx = InfluxClient(settings.influx_url, settings.influx_db, settings.influx_user,
                                   settings.influx_password)
        self.lines: list[str] = []
        self.stats = {"messages": 0, "rejected": 0, "events": 0, "points": 0, "dropped": 0, "write_errors": 0,
                      "already_replayed": 0}
        self.stopping = threading.Event()
        self.subscribed = threading.Event()
        self.client: Any = None
        self._worker: threading.Thread | None = None
        self._writes: queue.Queue[list[str] | None] = queue.Queue()
        self._writer: threading.Thread | None = None
        self._dirty = False
        self.replayed: dict[tuple[str, str], set[int]] = {}  # (site, node) → its latest readings replayed

    # -- lifecycle -----------------------------------------------------------------------------------

    def start(self) -> None:
        try:
            self.influx.create_database()
        except InfluxError as exc:
            event(log, "create_database_deferred", logging.WARNING, error=str(exc)[:200])
        for profile_id in profile_ids():  # compile every profile's rules now, not on a first reading
            rules_mod.build(profile_id)
        restored = self._restore()
        event(log, "state_restored", firing=restored)
        self._warm_up()
        self._worker = threading.Thread(target=self._run, name="analytics-worker", daemon=True)
        self._worker.start()
        self._writer = threading.Thread(target=self._write_loop, name="analytics-writer", daemon=True)
        self._writer.start()
        s = self.settings
        client = make_client(self.target, self.client_id, v5=True, ca_file=s.mqtt_ca_file)
        client.on_connect = self._on_connect
        client.on_message = self._on_message
        client.on_subscribe = lambda *a: self.subscribed.set()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = SESSION_EXPIRY_S
        self.client = client
        connect_and_wait(client, self.target, clean_start=False, properties=props)

    def stop(self) -> None:
        self.stopping.set()
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()
        self.inbox.put(None)
        if self._worker is not None:
            self._worker.join(30)
        self._flush()
        self._writes.put(None)
        if self._writer is not None:
            self._writer.join(30)
        self._save_state()
        self.influx.close()
        event(log, "stopped", **self.stats)

    # -- MQTT callbacks: convert and enqueue only ----------------------------------------------------

    def _on_connect(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any = None) -> None:
        try:
            if getattr(rc, "is_failure", False):
                return
            client.subscribe([(topics.ALL_TELEMETRY, 1), (topics.ALL_STATUS, 1), (ALL_CONTROL, 1)])
            event(log, "subscribed", broker=str(self.target), partition=f"{self.part}/{self.parts}")
        except Exception as exc:  # nothing may raise out of a callback
            event(log, "subscribe_failed", logging.ERROR, error=str(exc))

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        try:
            self.inbox.put_nowait((msg.topic, msg.payload, now_ms()))
        except queue.Full:
            self.stats["dropped"] += 1
        except Exception:  # nothing may raise out of a callback
            self.stats["dropped"] += 1

    # -- the worker ----------------------------------------------------------------------------------

    def _run(self) -> None:
        s = self.settings
        next_flush = time.monotonic() + s.flush_interval_s
        next_tick = time.monotonic() + s.tick_interval_s
        next_report = time.monotonic() + 30.0
        while True:
            try:
                item = self.inbox.get(timeout=min(s.flush_interval_s, s.tick_interval_s))
            except queue.Empty:
                item = ()  # type: ignore[assignment]
            if item is None:
                return
            try:
                if item:
                    self.handle(*item)
                mono = time.monotonic()
                if mono >= next_tick:
                    self._emit(self.engine.tick(now_ms()))
                    next_tick = mono + s.tick_interval_s
                if mono >= next_flush or len(self.lines) >= 5000:
                    self._flush()
                    if self._dirty:
                        self._save_state()
                    next_flush = mono + s.flush_interval_s
                if mono >= next_report:
                    event(log, "progress", **self.stats, nodes=len(self.engine.nodes))
                    next_report = mono + 30.0
            except Exception as exc:  # one bad message must not stop the alerts
                event(log, "processing_error", logging.ERROR, error=repr(exc)[:300])

    def handle(self, topic: str, payload: bytes, now: int) -> None:
        site = parse_control_topic(topic)
        if site is not None:
            if not self._mine(site):
                return
            if not payload:
                return  # an empty retained message clears the topic
            try:
                control = decode_control(payload, site)
            except ControlError as exc:
                event(log, "control_rejected", logging.WARNING, topic=topic, reason=str(exc))
                return
            event(log, "control", site=site, acks=len(control.acks), silences=len(control.silences))
            self._emit(self.engine.control(control, now))
            return
        try:
            t = NodeTopic.parse(topic)
        except TopicError:
            return
        if not self._mine(t.site):
            return
        self.stats["messages"] += 1
        try:
            if t.kind is NodeTopicKind.TELEMETRY:
                decoded = decode_telemetry(payload, t.node, now)
                if self.replayed and not self._fresh(t.site, decoded):
                    return
                self._emit(self.engine.process(t.site, decoded, now))
            elif t.kind is NodeTopicKind.STATUS and payload:  # an empty retained payload clears the topic
                self._emit(self.engine.status(t.site, t.node, decode_status(payload), now))
        except WireError:
            self.stats["rejected"] += 1  # ingest counts and dead-letters it; analytics just skips it

    def _warm_up(self) -> None:
        hours = self.settings.warmup_hours
        if hours <= 0:
            return
        started = time.monotonic()
        try:
            self.replayed, n = replay(self.engine, self.influx, hours, self._mine, now_ms())
        except InfluxError as exc:
            event(log, "warmup_failed", logging.WARNING, error=str(exc)[:200])
            return
        event(log, "warmup", hours=hours, nodes=len(self.replayed), readings=n,
              seconds=round(time.monotonic() - started, 1))

    def _fresh(self, site: str, decoded: Decoded) -> bool:
        """Drop the readings replayed at start that the broker delivers again (its persistent session
        kept them while analytics was down); whether any reading is left."""
        seen = self.replayed.get((site, decoded.node))
        if seen is None:
            return True
        kept = [r for r in decoded.readings if r.ts not in seen]
        if len(kept) < len(decoded.readings):
            self.stats["already_replayed"] += len(decoded.readings) - len(kept)
            seqs = {r.seq for r in kept}
            decoded.readings = kept
            decoded.rejections = [j for j in decoded.rejections if j.seq is None or j.seq in seqs]
        return bool(kept or decoded.rejections)

    def _mine(self, site: str) -> bool:
        return self.parts == 1 or site_partition(site, self.parts) == self.part

    def _emit(self, out: Output) -> None:
        for ev in out.events:
            self.client.publish(str(topics.alerts(ev.site)), ev.encode(), qos=1)
            self.lines.append(alert_line(ev))
            self.stats["events"] += 1
            self._dirty = True
            event(log, "alert", id=ev.id, site=ev.site, node=ev.node or "-", rule=ev.rule, state=ev.state,
                  severity=ev.severity, audience=ev.audience)
        self.lines.extend(out.lines)

    def _flush(self) -> None:
        if self.lines:
            batch, self.lines = self.lines, []
            self._writes.put(batch)

    def _write_loop(self) -> None:
        pending: list[str] = []
        final = False
        while not (final and not pending):
            try:
                item = self._writes.get(timeout=1.0) if not final else None
            except queue.Empty:
                item = []
            if item is None:
                final = True
            else:
                pending.extend(item)
            while not final and len(pending) < 5000:  # take what else is queued into one request
                try:
                    more = self._writes.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    final = True
                else:
                    pending.extend(more)
            if not pending:
                continue
            try:
                self.influx.write(pending)
                self.stats["points"] += len(pending)
                pending = []
            except InfluxError as exc:
                self.stats["write_errors"] += 1
                if not exc.retryable or final:
                    dropped, pending = len(pending), []
                else:
                    dropped = max(0, len(pending) - MAX_PENDING_LINES)
                    pending = pending[-MAX_PENDING_LINES:]
                    time.sleep(1.0)
                event(log, "write_failed", logging.WARNING, error=str(exc)[:200], kept=len(pending), dropped=dropped)

    # -- state across restarts -----------------------------------------------------------------------

    @property
    def client_id(self) -> str:
        return self.settings.client_id or f"ruongso-analytics-{self.part}of{self.parts}"

    @property
    def state_path(self) -> Path:
        if self.settings.state_file:
            return Path(self.settings.state_file)
        return state_root("analytics") / f"{self.client_id}-{self.settings.influx_db}.json"

    def _save_state(self) -> None:
        path = self.state_path
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        try:
            tmp.write_text(json.dumps(self.engine.lifecycle.snapshot(), ensure_ascii=False))
            os.replace(tmp, path)
            self._dirty = False
        except OSError as exc:
            event(log, "state_save_failed", logging.WARNING, path=str(path), error=exc.strerror)

    def _restore(self) -> int:
        path = self.state_path
        if path.exists():
            try:
                return self.engine.lifecycle.restore(json.loads(path.read_text()))
            except (OSError, ValueError, TypeError, KeyError) as exc:
                event(log, "state_file_unreadable", logging.WARNING, path=str(path), error=str(exc)[:200])
        return self._restore_from_influx()

    def _restore_from_influx(self) -> int:
        """Alerts whose last event in InfluxDB is not `resolved` are still firing."""
        q = (
            f"SELECT * FROM {quote_ident('alert')} WHERE time > now() - 30d "
            'GROUP BY "site","node","rule" ORDER BY time DESC LIMIT 1'
        )
        try:
            series = self.influx.query(q)
        except InfluxError as exc:
            event(log, "state_rebuild_failed", logging.WARNING, error=str(exc)[:200])
            return 0
        n = 0
        for s in series:
            for row in s.rows():
                if row.get("state") == "resolved" or not self._mine(s.tags.get("site", "")):
                    continue
                key = (s.tags["site"], s.tags["node"], s.tags["rule"])
                meta = {k: row.get(k) for k in ("quantity", "threshold", "value", "kind", "audience")}
                self.engine.lifecycle.active[key] = Active(
                    key, int(row.get("started") or row["time"]), id=row["id"], started=int(row.get("started") or 0),
                    firing=True, last_sent=int(row["time"]), acked=row.get("state") == "acknowledged",
                    silenced=row.get("state") == "silenced", severity=row.get("severity") or "warning",
                    meta={k: v for k, v in meta.items() if v is not None},
                )
                n += 1
        return n


def main(**flags: Any) -> int:
    try:
        settings = build(AnalyticsSettings, **flags)
        parse_partition(settings.partition)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure(settings.log_json, settings.log_level)
    try:
        svc = AnalyticsService(settings)
    except (SitesError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        svc.start()
    except ConnectionError as exc:
        svc.stop()
        print(f"error: {exc}", file=sys.stderr)
        return 1
    event(log, "started", broker=str(svc.target), influx=settings.influx_url, db=settings.influx_db,
          partition=f"{svc.part}/{svc.parts}", state_file=str(svc.state_path))
    stop.wait()
    svc.stop()
    return 0
