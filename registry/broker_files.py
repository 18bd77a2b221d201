"""Mosquitto's password and ACL files, rendered from the registry (the one source of truth) and reloaded.

Each active node gets a user block allowing exactly its own topics (Mosquitto 2.0 `acl_file` syntax):
write `farm/{site}/{node}/telemetry` and `…/status` (its last will is published under its name too),
read `…/config` and `…/ack`. Service accounts get `farm/#` and `ruongso/#` (their own coordination).
Revoked nodes appear in neither file, so the
broker refuses them at the next CONNECT, and a reload disconnects one already connected.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shlex
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from contract import topics
from registry.accounts import active_accounts
from registry.db import Connection, RegistryError
from registry.nodes import list_nodes
from ruongso.logs import event

log = logging.getLogger("registry.broker")
HEADER = "# Written by the Ruộng Số registry (`ruongso node …`); edits here are overwritten.\n"


@dataclass(frozen=True, slots=True)
class BrokerFiles:
    password_file: Path | None
    acl_file: Path | None
    # "" (do nothing), "pid:/run/mosquitto/mosquitto.pid" (SIGHUP that pid) or a command to run.
    reload: str = ""


def render_passwords(conn: Connection) -> str:
    lines = [f"{a.username}:{a.credential_hash}" for a in active_accounts(conn)]
    lines += [f"{n.mqtt_username}:{n.credential_hash}" for n in list_nodes(conn, state="active")]
    return "\n".join(lines) + ("\n" if lines else "")


def render_acl(conn: Connection) -> str:
    blocks = [HEADER.rstrip("\n")]
    for a in active_accounts(conn):
        # Services also coordinate among themselves under SERVICE_ROOT (ingest's shared-group progress).
        blocks.append(f"user {a.username}\ntopic {a.access} {topics.ROOT}/#\ntopic {a.access} {topics.SERVICE_ROOT}/#")
    for n in list_nodes(conn, state="active"):
        blocks.append(
            "\n".join(
                [
                    f"user {n.mqtt_username}",
                    f"topic write {topics.telemetry(n.site, n.slug)}",
                    f"topic write {topics.status(n.site, n.slug)}",
                    f"topic read {topics.config(n.site, n.slug)}",
                    f"topic read {topics.ack(n.site, n.slug)}",
                ]
            )
        )
    return "\n\n".join(blocks) + "\n"


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    # Mosquitto may run as its own user in the same group: group-readable, never world-readable.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def reload_broker(how: str) -> None:
    """Make Mosquitto re-read its files. Raises RegistryError saying what failed."""
    if not how:
        return
    if how.startswith("pid:"):
        pid_file = Path(how[4:])
        try:
            pid = int(pid_file.read_text().split()[0])
            os.kill(pid, signal.SIGHUP)
        except (OSError, ValueError, IndexError) as exc:
            raise RegistryError(f"cannot signal Mosquitto from pid file {pid_file}: {exc}") from None
    else:
        try:
            done = subprocess.run(shlex.split(how), capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise RegistryError(f"broker reload command {how!r} failed: {exc}") from None
        if done.returncode != 0:
            raise RegistryError(f"broker reload command {how!r} exited {done.returncode}: {done.stderr.strip()[:200]}")
    event(log, "broker_reloaded", how=how)


def sync(conn: Connection, files: BrokerFiles) -> bool:
    """Rewrite both files from the registry and reload the broker; False when no files are configured."""
    if files.password_file is None and files.acl_file is None:
        return False
    anchor = files.password_file or files.acl_file
    assert anchor is not None
    with _locked(anchor):
        if files.password_file is not None:
            _write_atomically(files.password_file, render_passwords(conn))
        if files.acl_file is not None:
            _write_atomically(files.acl_file, render_acl(conn))
    reload_broker(files.reload)
    return True
