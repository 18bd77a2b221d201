"""Provisioning: create a node with fresh broker credentials, or lock it out, and bring Mosquitto along.

The one place `ruongso node add|revoke` and `POST /nodes`, `POST /nodes/{site}/{node}/revoke` go through.
The password exists only in the returned node.yaml; the registry keeps its hash.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from registry import broker_files, credentials, nodes
from registry.broker_files import BrokerFiles
from registry.db import Connection, RegistryError
from registry.models import Node
from registry.node_yaml import node_config
from ruongso.logs import event

log = logging.getLogger("registry.provision")


def _sync(conn: Connection, files: BrokerFiles) -> bool:
    """Bring Mosquitto along; a failure is logged and reported (the registry change stands, and
    `ruongso node sync-broker` retries it)."""
    try:
        return broker_files.sync(conn, files)
    except (RegistryError, OSError) as exc:
        event(log, "broker_sync_failed", logging.ERROR, error=str(exc))
        return False


@dataclass(frozen=True, slots=True)
class Provisioned:
    node: Node
    config: dict[str, Any]
    broker_synced: bool


def add_node(
    conn: Connection,
    files: BrokerFiles,
    mqtt_url: str,
    site: str,
    node: str,
    sensors: Iterable[str] | None = None,
    interval_s: int = 60,
    firmware: str = "",
    iterations: int = credentials.DEFAULT_ITERATIONS,
) -> Provisioned:
    password = credentials.new_password()
    created = nodes.add_node(
        conn, site, node, credentials.hash_password(password, iterations), sensors, interval_s, firmware
    )
    synced = _sync(conn, files)
    event(log, "node_provisioned", site=site, node=node, broker_synced=synced)
    return Provisioned(created, node_config(created, password, mqtt_url), synced)


def rotate_password(
    conn: Connection, files: BrokerFiles, mqtt_url: str, site: str, node: str,
    iterations: int = credentials.DEFAULT_ITERATIONS,
) -> Provisioned:
    password = credentials.new_password()
    updated = nodes.set_credential(conn, site, node, credentials.hash_password(password, iterations))
    synced = _sync(conn, files)
    event(log, "node_password_rotated", site=site, node=node, broker_synced=synced)
    return Provisioned(updated, node_config(updated, password, mqtt_url), synced)


def revoke_node(conn: Connection, files: BrokerFiles, site: str, node: str) -> tuple[Node, bool]:
    revoked = nodes.revoke_node(conn, site, node)
    synced = _sync(conn, files)
    event(log, "node_revoked", site=site, node=node, broker_synced=synced)
    return revoked, synced


def set_service_account(
    conn: Connection, files: BrokerFiles, username: str, access: str = "readwrite",
    iterations: int = credentials.DEFAULT_ITERATIONS,
) -> str:
    """Create or re-key a service account; returns its new password (shown once)."""
    from registry.accounts import set_account

    password = credentials.new_password()
    set_account(conn, username, credentials.hash_password(password, iterations), access)
    _sync(conn, files)
    event(log, "service_account_set", username=username, access=access)
    return password
