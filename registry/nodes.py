"""Nodes: which site, which sensors, how often, which firmware, and their broker credential (hash only)."""

from __future__ import annotations

from collections.abc import Iterable

from registry import validate
from registry.db import Conflict, Connection, NotFound, RegistryError, Row, now_ms, split_list, transaction
from registry.models import RESERVED_NODE_SLUGS, Node
from registry.sites import get_site, site_id

_SELECT = (
    "SELECT n.id, s.slug AS site, n.slug, n.sensors, n.interval_s, n.firmware, n.mqtt_username, "
    "n.credential_hash, n.state, n.created_ms, n.revoked_ms FROM nodes n JOIN sites s ON s.id = n.site_id"
)
MIN_INTERVAL_S = 5
MAX_INTERVAL_S = 86_400


def mqtt_username(site: str, node: str) -> str:
    """`{site}.{node}`: '.' never occurs in a slug, so the name is unambiguous and unique per node."""
    return f"{site}.{node}"


def _node(row: Row) -> Node:
    d = dict(row)
    d["sensors"] = split_list(d["sensors"])
    return Node(**d)


def add_node(
    conn: Connection,
    site: str,
    node: str,
    credential_hash: str,
    sensors: Iterable[str] | None = None,
    interval_s: int = 60,
    firmware: str = "",
) -> Node:
    """A new active node. Sensors default to what the site's profile measures."""
    validate.slug(node, "node")
    if node in RESERVED_NODE_SLUGS:
        raise RegistryError(f"node slug {node!r} is reserved")
    if not MIN_INTERVAL_S <= interval_s <= MAX_INTERVAL_S:
        raise RegistryError(f"interval {interval_s} s must be within {MIN_INTERVAL_S}..{MAX_INTERVAL_S}")
    from ruongso.profiles import measured_quantities

    s = get_site(conn, site)
    chosen = validate.quantities(sensors if sensors is not None else measured_quantities(s.profile))
    with transaction(conn):
        existing = conn.execute(
            "SELECT state FROM nodes WHERE site_id = ? AND slug = ?", (s.id, node)
        ).fetchone()
        if existing is not None:
            raise Conflict(f"node {node!r} already exists at site {site!r} ({existing[0]})")
        conn.execute(
            "INSERT INTO nodes (site_id, slug, sensors, interval_s, firmware, mqtt_username, credential_hash, state, "
            "created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?)",
            (s.id, node, ",".join(chosen), interval_s, firmware, mqtt_username(site, node), credential_hash, now_ms()),
        )
    return get_node(conn, site, node)


def get_node(conn: Connection, site: str, node: str) -> Node:
    row = conn.execute(f"{_SELECT} WHERE s.slug = ? AND n.slug = ?", (site, node)).fetchone()
    if row is None:
        raise NotFound(f"no node {node!r} at site {site!r}")
    return _node(row)


def list_nodes(conn: Connection, site: str | None = None, state: str | None = None) -> list[Node]:
    sql, args = _SELECT + " WHERE 1 = 1", []
    if site is not None:
        site_id(conn, site)
        sql += " AND s.slug = ?"
        args.append(site)
    if state is not None:
        sql += " AND n.state = ?"
        args.append(state)
    return [_node(r) for r in conn.execute(sql + " ORDER BY s.slug, n.slug", args)]


def revoke_node(conn: Connection, site: str, node: str) -> Node:
    with transaction(conn):
        cur = conn.execute(
            "UPDATE nodes SET state = 'revoked', revoked_ms = ? "
            "WHERE site_id = (SELECT id FROM sites WHERE slug = ?) AND slug = ? AND state = 'active'",
            (now_ms(), site, node),
        )
    n = get_node(conn, site, node)
    if cur.rowcount == 0 and n.state == "revoked":
        raise Conflict(f"node {node!r} at site {site!r} is already revoked")
    return n


def set_credential(conn: Connection, site: str, node: str, credential_hash: str) -> Node:
    """A new password for an active node (the old one stops working at the broker's next reload)."""
    n = get_node(conn, site, node)
    if n.state != "active":
        raise Conflict(f"node {node!r} at site {site!r} is revoked; add it again under a new slug")
    with transaction(conn):
        conn.execute("UPDATE nodes SET credential_hash = ? WHERE id = ?", (credential_hash, n.id))
    return get_node(conn, site, node)


def set_firmware(conn: Connection, site: str, node: str, firmware: str) -> None:
    with transaction(conn):
        conn.execute(
            "UPDATE nodes SET firmware = ? WHERE site_id = (SELECT id FROM sites WHERE slug = ?) AND slug = ?",
            (firmware, site, node),
        )
