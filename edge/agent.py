"""The agent: sample on schedule → outbox → MQTT, with status, remote config and clock handling.

Two threads of ours: the sampler (this module's `_sample_loop`: schedule, read, store, commit) and the
link worker (`_link_loop`: MQTT events, publishing from the outbox, status, remote config). They share
only the outbox (locked) and a few flags. Readings of sensors due at the same aligned instant become
one reading set with that instant as `ts`.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import secrets
import signal
import threading
import time
from typing import Any

from contract.quantities import HEALTH_FIELDS
from contract.topics import NodeTopic, NodeTopicKind, TopicError
from contract.wire import Status
from edge import FIRMWARE_VERSION
from edge.clock import Clock
from edge.config import NodeConfig, RemoteConfig, parse_remote_config
from edge.drivers import ConfigError, Hardware
from edge.forwarder import Forwarder
from edge.link import Event, Link
from edge.outbox import Outbox, Pending, body_of
from edge.sampler import ActiveSensor, build_sensors, close_all, sample, start_all
from ruongso.logs import event

log = logging.getLogger("edge.agent")
REMOTE_META = "remote_config"
MAX_PENDING = 500
# Sensors producing these are read first in a round, so others can compensate with their values.
TEMPERATURES = frozenset({"air_temp", "water_temp", "soil_temp"})


class Agent:
    def __init__(self, cfg: NodeConfig, hw: Hardware | None = None, clock: Clock | None = None) -> None:
        self.cfg = cfg
        self.hw = hw or Hardware(sys_root=cfg.sys_root)
        self.clock = clock or Clock(cfg.clock)
        self.boot = secrets.token_hex(4)
        self.seq = 0
        self.started = time.monotonic()
        self.outbox = Outbox(cfg.spool.path, cfg.spool.max_bytes)
        self.events: queue.Queue[Event] = queue.Queue()
        self.link = Link(cfg, self.events, self._status("offline"))
        self.forwarder = Forwarder(
            self.outbox, self.link, cfg.node, cfg.spool.batch_size, cfg.spool.ack_timeout_s, cfg.spool.confirm
        )
        self.stop_event = threading.Event()
        self.status_every_s = cfg.status_every_s
        self.config_source = "file"
        self.config_error: str | None = None
        self.broker_error: str | None = None
        self._remote_hash: str | None = None
        self._incoming: list[ActiveSensor] | None = None
        self._incoming_lock = threading.Lock()
        self._status_wanted = threading.Event()
        self.env: dict[str, float] = {}
        self.clock_problem: str | None = "not checked yet"
        self.sensors = build_sensors(cfg.sensors, self.hw)
        self._restore_remote()
        start_all(self.sensors)

    # --- configuration -------------------------------------------------------------------------

    def _restore_remote(self) -> None:
        """A node that boots without network keeps the last remote config it accepted."""
        saved = self.outbox.get_meta(REMOTE_META)
        if not saved:
            return
        try:
            remote = parse_remote_config(saved)
            sensors = build_sensors(remote.sensors, self.hw, "config topic: sensors")
        except ConfigError as exc:
            event(log, "saved_remote_config_unusable", logging.WARNING, error=str(exc))
            return
        close_all(self.sensors)
        self.sensors = sensors
        self._adopt_remote(remote, saved)

    def _adopt_remote(self, remote: RemoteConfig, text: str) -> None:
        self.config_source = "remote"
        self.config_error = None
        self._remote_hash = hashlib.sha256(text.encode()).hexdigest()
        if remote.status_every_s:
            self.status_every_s = remote.status_every_s

    def apply_remote(self, payload: bytes) -> None:
        """A config topic message: validate whole, then swap the sensors (or refuse and keep the old)."""
        digest = hashlib.sha256(payload).hexdigest()
        if digest == self._remote_hash:
            return  # the retained message again after a reconnect
        self._remote_hash = digest
        try:
            if not payload:
                event(log, "remote_config_cleared")
                sensors = build_sensors(self.cfg.sensors, self.hw)
                self.outbox.set_meta(REMOTE_META, None)
                self.config_source, self.config_error, self.status_every_s = "file", None, self.cfg.status_every_s
            else:
                text = payload.decode("utf-8")
                remote = parse_remote_config(text)
                sensors = build_sensors(remote.sensors, self.hw, "config topic: sensors")
                self.outbox.set_meta(REMOTE_META, text)
                self._adopt_remote(remote, text)
                event(log, "remote_config_applied", sensors=",".join(s.name for s in sensors))
        except (ConfigError, UnicodeDecodeError) as exc:
            self.config_error = str(exc)
            event(log, "remote_config_refused", logging.WARNING, error=self.config_error)
        else:
            with self._incoming_lock:
                superseded, self._incoming = self._incoming, sensors
            if superseded is not None:
                close_all(superseded)  # a newer config came before the sampler took this one
        self._status_wanted.set()

    # --- status ----------------------------------------------------------------------------------

    def faults(self) -> dict[str, str]:
        return {s.name: s.fault for s in self.sensors if s.fault}

    def _status(self, state: str) -> bytes:
        extra: dict[str, Any] = {"boot": self.boot}
        if state == "online":
            extra.update(
                uptime_s=int(time.monotonic() - self.started),
                spool={
                    "depth": self.outbox.depth,
                    "bytes": self.outbox.used_bytes(),
                    "held": self.outbox.held,
                    "evicted": self.outbox.evicted,
                    "unstampable": self.outbox.unstampable,
                },
                faults=self.faults(),
                clock="ok" if self.clock_problem is None else self.clock_problem,
                config={"source": self.config_source, "error": self.config_error,
                        "sensors": [s.name for s in self.sensors]},
            )  # fmt: skip
        return Status(state, self.clock.wall_ms(), FIRMWARE_VERSION, extra).encode()

    def publish_status(self) -> None:
        self.link.publish(self.link.status_topic, self._status("online"), retain=True)

    # --- sampling --------------------------------------------------------------------------------

    def _take_reading(self, slot_ms: int, group: list[ActiveSensor], sane: bool) -> None:
        m: dict[str, float] = {}
        health: dict[str, float] = {}
        for s in sorted(group, key=lambda s: not TEMPERATURES & set(s.driver.quantities)):
            values = sample(s, self.env, self.hw.sleep)
            if values is None:
                continue
            self.env.update(values)
            for q, v in values.items():
                (health if q in HEALTH_FIELDS else m)[q] = v
        if not m and not health:
            return
        ts = slot_ms if sane else None
        mono = self.clock.mono_ns() if sane else slot_ms * 1_000_000
        body = body_of(m, health.get("battery_v"), health.get("rssi"))
        self.outbox.add(Pending(self.boot, self.seq, ts, self.clock.kernel_boot, mono, body))
        self.seq += 1

    def _swap_sensors(self) -> None:
        with self._incoming_lock:
            incoming, self._incoming = self._incoming, None
        if incoming is None:
            return
        old = {s.name: s for s in self.sensors}
        for s in incoming:
            prev = old.get(s.name)
            if prev is not None and prev.config.interval_s == s.config.interval_s:
                s.last_slot = prev.last_slot  # no extra reading just because the config changed
        close_all(self.sensors)
        start_all(incoming)
        self.sensors = incoming
        self._status_wanted.set()

    def _sample_round(self, domain: list[str]) -> float:
        """Read every sensor whose slot has come; return seconds until the next slot starts."""
        self._swap_sensors()
        problem = self.clock.problem(self.outbox.last_ts)
        if problem != self.clock_problem:
            event(log, "clock", logging.INFO if problem is None else logging.WARNING, problem=problem or "ok")
            self.clock_problem = problem
            self._status_wanted.set()
        sane = problem is None
        if sane and self.outbox.held:
            self.outbox.flush(self.clock.stamp)
            stamped, lost = self.outbox.stamp_held(self.clock.stamp, self.clock.kernel_boot)
            event(log, "held_readings_stamped", stamped=stamped, unstampable=lost)
        now_ms = self.clock.wall_ms() if sane else self.clock.mono_ns() // 1_000_000
        if domain[0] != ("wall" if sane else "mono"):
            domain[0] = "wall" if sane else "mono"
            for s in self.sensors:
                s.last_slot = None
        faults_before = self.faults()
        groups: dict[int, list[ActiveSensor]] = {}
        for s in self.sensors:
            interval_ms = int(s.config.interval_s * 1000)
            slot = now_ms // interval_ms
            if s.last_slot != slot:
                s.last_slot = slot
                groups.setdefault(slot * interval_ms, []).append(s)
        for slot_ms in sorted(groups):
            self._take_reading(slot_ms, groups[slot_ms], sane)
        faults = self.faults()
        if faults != faults_before:
            self._status_wanted.set()
            for name in faults.keys() | faults_before.keys():
                if name not in faults:
                    event(log, "sensor_recovered", sensor=name)
                elif faults[name] != faults_before.get(name):
                    event(log, "sensor_fault", logging.WARNING, sensor=name, fault=faults[name])
        now_ms = self.clock.wall_ms() if sane else self.clock.mono_ns() // 1_000_000
        next_ms = min(
            ((s.last_slot or 0) + 1) * int(s.config.interval_s * 1000) for s in self.sensors
        ) if self.sensors else now_ms + 1000  # fmt: skip
        return max(0.0, (next_ms - now_ms) / 1000)

    def _sample_loop(self) -> None:
        domain = ["none"]
        last_flush = time.monotonic()
        while not self.stop_event.is_set():
            try:
                wait = self._sample_round(domain)
            except Exception as exc:  # e.g. a full SD card while stamping: keep the node alive, retry
                event(log, "sample_round_failed", logging.ERROR, error=repr(exc))
                wait = 1.0
            since = time.monotonic() - last_flush
            if since >= self.cfg.spool.commit_every_s or self.outbox.pending_count() >= MAX_PENDING:
                self._flush()
                last_flush = time.monotonic()
                since = 0.0
            wait = min(wait, 1.0, max(0.0, self.cfg.spool.commit_every_s - since))
            self.stop_event.wait(wait)
        self._flush()

    def _flush(self) -> None:
        try:
            n = self.outbox.flush(self.clock.stamp if self.clock_problem is None else None)
        except Exception as exc:  # a full or failing SD card: keep sampling, retry next time
            event(log, "outbox_write_failed", logging.ERROR, error=repr(exc))
            return
        if n:
            self.events.put(("flushed", n))

    # --- MQTT ------------------------------------------------------------------------------------

    def _handle(self, ev: Event) -> None:
        kind = ev[0]
        if kind == "published":
            self.forwarder.on_puback(ev[1])
        elif kind == "message":
            self._on_message(ev[1], ev[2])
        elif kind == "connected":
            event(log, "connected", broker=str(self.cfg.mqtt.target))
            self.broker_error = None
            self.forwarder.on_connect()
            self._status_wanted.set()
        elif kind == "disconnected":
            if self.forwarder.connected:
                event(log, "disconnected", logging.WARNING, reason=ev[1])
            self.forwarder.on_disconnect()
        elif kind == "unreachable":
            if self.broker_error != "unreachable":
                event(log, "broker_unreachable", logging.WARNING, broker=str(self.cfg.mqtt.target),
                      hint="readings wait in the outbox; check the network and mqtt.url")  # fmt: skip
            self.broker_error = "unreachable"
        elif kind == "refused":
            if self.broker_error != ev[1]:
                event(
                    log, "broker_refused", logging.ERROR, reason=ev[1], hint="check mqtt.username/password and the ACL"
                )
            self.broker_error = ev[1]

    def _on_message(self, topic: str, payload: bytes) -> None:
        try:
            kind = NodeTopic.parse(topic).kind
        except TopicError:
            return
        if kind == NodeTopicKind.ACK:
            self.forwarder.on_ack(payload)
        elif kind == NodeTopicKind.CONFIG:
            self.apply_remote(payload)

    def _link_loop(self) -> None:
        last_status = 0.0
        published = False
        while True:
            try:
                # After a publish more may be ready (a replay): come back at once. Otherwise wait for an
                # event (new rows flushed, an ack, a PUBACK) or the half-second tick of the ack timeout.
                ev = self.events.get(timeout=0.001 if published else 0.5)
                self._handle(ev)
                while True:
                    self._handle(self.events.get_nowait())
            except queue.Empty:
                pass
            except Exception as exc:  # one bad event must not stop forwarding
                event(log, "link_event_error", logging.ERROR, error=repr(exc))
            if self.stop_event.is_set():
                return
            try:
                if self.forwarder.connected and (
                    self._status_wanted.is_set() or time.monotonic() - last_status >= self.status_every_s
                ):
                    self._status_wanted.clear()
                    self.publish_status()
                    last_status = time.monotonic()
                published = False
                for _ in range(64):
                    if not self.forwarder.pump():
                        break
                    published = True
                    self._drain_nowait()
            except Exception as exc:
                event(log, "forward_error", logging.ERROR, error=repr(exc))
                self.stop_event.wait(1.0)

    def _drain_nowait(self) -> None:
        try:
            while True:
                self._handle(self.events.get_nowait())
        except queue.Empty:
            pass

    # --- lifecycle -------------------------------------------------------------------------------

    def stop(self) -> None:
        self.stop_event.set()

    def run(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, lambda *_: self.stop())
        event(log, "starting", node=self.cfg.node, site=self.cfg.site, boot=self.boot, fw=FIRMWARE_VERSION,
              sensors=",".join(s.name for s in self.sensors), spool_depth=self.outbox.depth)  # fmt: skip
        self.link.start()
        worker = threading.Thread(target=self._link_loop, name="edge-link", daemon=True)
        worker.start()
        try:
            self._sample_loop()
        finally:
            self.stop_event.set()
            worker.join(5)
            self.link.stop(self._status("offline"))
            close_all(self.sensors)
            self.outbox.close()
            event(log, "stopped", node=self.cfg.node)
