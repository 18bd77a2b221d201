"""API tokens: random bearer secrets stored as SHA-256 hashes, each with a role and (farmers) its sites.

A token carries 256 random bits, so a fast hash is enough (nothing to brute-force) and lets a request
find its token by an indexed lookup.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from registry import validate
from registry.contacts import contact_sites, get_contact
from registry.db import Connection, NotFound, RegistryError, insert_id, now_ms, transaction
from registry.models import ROLES, Token
from registry.sites import site_id

PREFIX = "rs_"


def token_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(
    conn: Connection,
    name: str,
    role: str,
    sites: Iterable[str] = (),
    contact_id: int | None = None,
) -> tuple[Token, str]:
    """A new token and its secret (shown once, never stored). A farmer token needs sites or a contact."""
    validate.one_of(role, ROLES, "role")
    site_list = list(dict.fromkeys(sites))
    if contact_id is not None:
        get_contact(conn, contact_id)
        site_list += [s for s in sorted(contact_sites(conn, contact_id)) if s not in site_list]
    if role == "farmer" and not site_list:
        raise RegistryError("a farmer token needs at least one site (--site) or a contact linked to sites")
    if role != "farmer" and site_list:
        raise RegistryError(f"a {role} token sees every site; sites are for farmer tokens")
    ids = [site_id(conn, s) for s in site_list]
    secret = PREFIX + secrets.token_urlsafe(32)
    with transaction(conn):
        token_id = insert_id(
            conn,
            "INSERT INTO api_tokens (name, token_hash, role, contact_id, created_ms) VALUES (?, ?, ?, ?, ?)",
            (name, token_hash(secret), role, contact_id, now_ms()),
        )
        conn.executemany("INSERT INTO token_sites (token_id, site_id) VALUES (?, ?)", [(token_id, i) for i in ids])
    return get_token(conn, token_id), secret


def _sites(conn: Connection, token_id: int) -> frozenset[str]:
    rows = conn.execute(
        "SELECT s.slug FROM token_sites ts JOIN sites s ON s.id = ts.site_id WHERE ts.token_id = ?", (token_id,)
    )
    return frozenset(r[0] for r in rows)


def get_token(conn: Connection, token_id: int) -> Token:
    row = conn.execute(
        "SELECT id, name, role, contact_id, created_ms, revoked_ms FROM api_tokens WHERE id = ?", (token_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no token {token_id}")
    return Token(sites=_sites(conn, token_id), **dict(row))


def authenticate(conn: Connection, secret: str) -> Token | None:
    """The live token with this secret, or None."""
    row = conn.execute(
        "SELECT id, name, role, contact_id, created_ms, revoked_ms FROM api_tokens "
        "WHERE token_hash = ? AND revoked_ms IS NULL",
        (token_hash(secret),),
    ).fetchone()
    return None if row is None else Token(sites=_sites(conn, int(row["id"])), **dict(row))


def list_tokens(conn: Connection) -> list[Token]:
    ids = [int(r[0]) for r in conn.execute("SELECT id FROM api_tokens ORDER BY id")]
    return [get_token(conn, i) for i in ids]


def revoke_token(conn: Connection, token_id: int) -> Token:
    with transaction(conn):
        conn.execute("UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL", (now_ms(), token_id))
    return get_token(conn, token_id)
