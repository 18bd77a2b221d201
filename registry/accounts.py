"""Broker accounts of the server-side services: ingest and analytics read every node's topics."""

from __future__ import annotations

from registry import validate
from registry.db import Connection, now_ms, transaction
from registry.models import ServiceAccount

ACCESS = ("readwrite", "read")


def set_account(conn: Connection, username: str, credential_hash: str, access: str = "readwrite") -> None:
    """Create or re-key a service account (username is a slug, so it never collides with a node's `site.node`)."""
    validate.slug(username, "service account")
    validate.one_of(access, ACCESS, "access")
    with transaction(conn):
        conn.execute(
            "INSERT INTO service_accounts (username, credential_hash, access, created_ms) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (username) DO UPDATE SET credential_hash = excluded.credential_hash, "
            "access = excluded.access, revoked_ms = NULL",
            (username, credential_hash, access, now_ms()),
        )


def revoke_account(conn: Connection, username: str) -> bool:
    with transaction(conn):
        cur = conn.execute(
            "UPDATE service_accounts SET revoked_ms = ? WHERE username = ? AND revoked_ms IS NULL", (now_ms(), username)
        )
    return cur.rowcount > 0


def active_accounts(conn: Connection) -> list[ServiceAccount]:
    rows = conn.execute(
        "SELECT id, username, credential_hash, access, created_ms, revoked_ms FROM service_accounts "
        "WHERE revoked_ms IS NULL ORDER BY username"
    )
    return [ServiceAccount(**dict(r)) for r in rows]
