"""`ruongso edge check`: read every sensor once, check clock, spool, broker and credentials; one table.

For the technician at install time: each row is OK or FAIL, each FAIL has a hint, and the exit code
is 0 only when every row passed. Nothing is published; the MQTT check connects with its own client
id so a running agent is not kicked off the broker.
"""

from __future__ import annotations

import socket
import sqlite3
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from contract.quantities import QUANTITIES
from edge.clock import Clock
from edge.config import NodeConfig
from edge.drivers import ConfigError, Hardware
from edge.sampler import build_sensors, close_all, read_once
from ruongso.mqtt import connect_and_wait, make_client


@dataclass(frozen=True, slots=True)
class Row:
    name: str
    ok: bool
    detail: str
    hint: str = ""


def check_clock(cfg: NodeConfig, clock: Clock) -> Row:
    problem = clock.problem()
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(clock.wall_ms() / 1000))
    if problem:
        return Row("clock", False, f"{when}: {problem}", "enable NTP (timedatectl set-ntp true) and check the network")
    return Row("clock", True, when + (", synchronised" if cfg.clock.sync_file else ""))


def check_spool(cfg: NodeConfig) -> Row:
    path = cfg.spool.path
    try:
        if path.exists():
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
            try:
                verdict = db.execute("PRAGMA integrity_check").fetchone()[0]
                waiting = db.execute("SELECT COUNT(*) FROM readings").fetchone()[0]
            finally:
                db.close()
            if verdict != "ok":
                return Row("spool", False, f"{path}: {verdict}", "stop the agent, move the file aside, restart")
            return Row("spool", True, f"{path} ({waiting} readings waiting)")
        path.parent.mkdir(parents=True, exist_ok=True)
        probe = path.parent / ".ruongso-edge-write-test"
        probe.write_text("ok")
        probe.unlink()
        return Row("spool", True, f"{path} (new; folder writable)")
    except (OSError, sqlite3.Error) as exc:
        return Row(
            "spool", False, f"{path}: {exc}", f"create {path.parent} writable by the agent's user (install.sh does)"
        )


def check_registry(cfg: NodeConfig, produced: set[str]) -> list[Row]:
    """Do the sensors measure what the fleet registry (the provisioned file) says this node measures?"""
    if not cfg.expected_quantities:
        return []
    missing = [q for q in cfg.expected_quantities if q not in produced]
    if missing:
        return [Row("registry", False, f"the registry expects {', '.join(missing)} but no sensor here produces it",
                    "add the sensor to node.yaml, or correct the node's quantities in the registry")]  # fmt: skip
    return [Row("registry", True, f"sensors produce every quantity the registry expects ({len(produced)} in all)")]


def check_sensors(cfg: NodeConfig, hw: Hardware) -> list[Row]:
    try:
        sensors = build_sensors(cfg.sensors, hw)
    except ConfigError as exc:
        return [Row("sensors", False, str(exc), "fix node.yaml")]
    rows: list[Row] = check_registry(cfg, {q for s in sensors for q in s.driver.quantities})
    env: dict[str, float] = {}
    try:
        for s in sensors:
            start = getattr(s.driver, "start", None)
            if callable(start):
                start()
            try:
                values = read_once(s, env, hw.sleep)
            except Exception as exc:  # SensorError, or a driver bug: either way this row fails
                rows.append(Row(f"sensor {s.name}", False, str(exc), getattr(exc, "hint", "") or "check the wiring"))
                continue
            env.update(values)
            shown = ", ".join(
                f"{q}={v:g}{' ' + QUANTITIES[q].unit if QUANTITIES[q].unit else ''}" for q, v in values.items()
            )
            rows.append(Row(f"sensor {s.name}", True, f"{s.config.driver}: {shown}"))
    finally:
        close_all(sensors)
    return rows


def check_broker(cfg: NodeConfig, timeout: float) -> list[Row]:
    target = cfg.mqtt.target
    try:
        with socket.create_connection((target.host, target.port), timeout=timeout):
            pass
    except OSError as exc:
        return [
            Row(
                "broker",
                False,
                f"{target} unreachable: {exc}",
                "check mqtt.url, the network (4G/Wi-Fi) and the firewall",
            )
        ]
    rows = [Row("broker", True, f"{target} reachable")]
    client = make_client(target, client_id=f"{cfg.node}-check", ca_file=cfg.mqtt.ca_file,
                         username=cfg.mqtt.username, password=cfg.mqtt.password)  # fmt: skip
    try:
        connect_and_wait(client, target, timeout=timeout)
    except (ConnectionError, ssl.SSLError, OSError) as exc:
        hint = "check mqtt.username and password_file (the server admin can re-issue them with `ruongso node add`)"
        if isinstance(exc, ssl.SSLError) or "certificate" in str(exc).lower():
            hint = "check mqtt.ca_file: it must be the CA that signed the broker's certificate"
        return [*rows, Row("credentials", False, str(exc), hint)]
    client.disconnect()
    client.loop_stop()
    return [*rows, Row("credentials", True, f"accepted as {cfg.mqtt.username}" + (" over TLS" if target.tls else ""))]


def run_checks(
    cfg: NodeConfig, hw: Hardware | None = None, clock: Clock | None = None, timeout: float = 5.0
) -> list[Row]:
    hw = hw or Hardware(sys_root=cfg.sys_root)
    clock = clock or Clock(cfg.clock)
    rows = [Row("config", True, f"node {cfg.node} at site {cfg.site}, {len(cfg.sensors)} sensor(s)")]
    rows.append(check_clock(cfg, clock))
    rows.append(check_spool(cfg))
    rows.extend(check_sensors(cfg, hw))
    rows.extend(check_broker(cfg, timeout))
    return rows


def render(rows: list[Row], echo: Callable[[str], None]) -> None:
    width = max(len(r.name) for r in rows) + 2
    echo(f"{'CHECK':<{width}}{'RESULT':<8}DETAIL")
    for r in rows:
        echo(f"{r.name:<{width}}{'OK' if r.ok else 'FAIL':<8}{r.detail}")
        if not r.ok and r.hint:
            echo(f"{'':<{width}}{'':<8}→ {r.hint}")
    failed = sum(not r.ok for r in rows)
    echo("all checks passed" if not failed else f"{failed} check(s) failed")


def config_failure_row(path: Path, exc: Exception) -> Row:
    return Row("config", False, str(exc), f"fix {path} (edge/deploy/samples/ has examples)")
