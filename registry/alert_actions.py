"""What people decided about alerts: acknowledgements (by alert id) and silences (maintenance windows).

Stored here; the API also publishes each site's current set on `farm/{site}/alerts/control`
(registry.alert_control) so analytics can honour them without polling.
"""

from __future__ import annotations

from registry.db import Connection, NotFound, RegistryError, insert_id, now_ms, transaction
from registry.models import Ack, Silence
from registry.sites import site_id

MAX_SILENCE_MS = 30 * 86_400_000
ACK_MEMORY_MS = 7 * 86_400_000


def acknowledge(conn: Connection, site: str, alert_id: str, by: str, note: str = "") -> Ack:
    if not 0 < len(alert_id) <= 64:
        raise RegistryError("alert id must be 1-64 characters")
    sid = site_id(conn, site)
    at = now_ms()
    with transaction(conn):
        conn.execute(
            "INSERT INTO alert_acks (alert_id, site_id, acked_by, note, acked_ms) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (alert_id) DO UPDATE SET acked_by = excluded.acked_by, note = excluded.note, "
            "acked_ms = excluded.acked_ms",
            (alert_id, sid, by, note, at),
        )
    return Ack(alert_id, site, by, note, at)


def acks(conn: Connection, site: str, since_ms: int | None = None) -> list[Ack]:
    since = now_ms() - ACK_MEMORY_MS if since_ms is None else since_ms
    rows = conn.execute(
        "SELECT alert_id, acked_by, note, acked_ms FROM alert_acks WHERE site_id = ? AND acked_ms >= ? "
        "ORDER BY acked_ms",
        (site_id(conn, site), since),
    )
    return [Ack(site=site, **dict(r)) for r in rows]


def silence(
    conn: Connection, site: str, node: str | None, start_ms: int, end_ms: int, by: str, reason: str = ""
) -> Silence:
    if end_ms <= start_ms:
        raise RegistryError("a silence must end after it starts")
    if end_ms - start_ms > MAX_SILENCE_MS:
        raise RegistryError("a silence may last at most 30 days; revoke a node that is gone for good")
    sid = site_id(conn, site)
    if node is not None and conn.execute(
        "SELECT 1 FROM nodes WHERE site_id = ? AND slug = ?", (sid, node)
    ).fetchone() is None:
        raise NotFound(f"no node {node!r} at site {site!r}")
    with transaction(conn):
        silence_id = insert_id(
            conn,
            "INSERT INTO silences (site_id, node_slug, start_ms, end_ms, reason, created_by, created_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sid, node, start_ms, end_ms, reason, by, now_ms()),
        )
    return get_silence(conn, silence_id)


_SILENCE_SELECT = (
    "SELECT x.id, s.slug AS site, x.node_slug AS node, x.start_ms, x.end_ms, x.reason, x.created_by, x.created_ms, "
    "x.cancelled_ms FROM silences x JOIN sites s ON s.id = x.site_id"
)


def get_silence(conn: Connection, silence_id: int) -> Silence:
    row = conn.execute(f"{_SILENCE_SELECT} WHERE x.id = ?", (silence_id,)).fetchone()
    if row is None:
        raise NotFound(f"no silence {silence_id}")
    return Silence(**dict(row))


def silences(conn: Connection, site: str, at_ms: int | None = None) -> list[Silence]:
    """Silences of `site` not yet over (and not cancelled) at `at_ms` (default now), soonest first."""
    at = now_ms() if at_ms is None else at_ms
    rows = conn.execute(
        f"{_SILENCE_SELECT} WHERE x.site_id = ? AND x.end_ms > ? AND x.cancelled_ms IS NULL ORDER BY x.start_ms",
        (site_id(conn, site), at),
    )
    return [Silence(**dict(r)) for r in rows]


def cancel_silence(conn: Connection, silence_id: int) -> Silence:
    get_silence(conn, silence_id)
    with transaction(conn):
        conn.execute("UPDATE silences SET cancelled_ms = ? WHERE id = ? AND cancelled_ms IS NULL",
                     (now_ms(), silence_id))
    return get_silence(conn, silence_id)


def is_silenced(conn: Connection, site: str, node: str | None, at_ms: int | None = None) -> bool:
    """Whether an alert of `node` (None: site-wide) at `at_ms` falls in a silence (analytics asks this)."""
    at = now_ms() if at_ms is None else at_ms
    return any(s.active(at) and (s.node is None or s.node == node) for s in silences(conn, site, at))


def acks_for(conn: Connection, alert_ids: list[str]) -> dict[str, Ack]:
    """Acknowledgements of these alert ids (the API overlays them on alert lists)."""
    out: dict[str, Ack] = {}
    for i in range(0, len(alert_ids), 500):
        chunk = alert_ids[i:i + 500]
        rows = conn.execute(
            "SELECT a.alert_id, s.slug AS site, a.acked_by, a.note, a.acked_ms FROM alert_acks a "
            f"JOIN sites s ON s.id = a.site_id WHERE a.alert_id IN ({', '.join('?' * len(chunk))})",
            chunk,
        )
        out.update({r["alert_id"]: Ack(**dict(r)) for r in rows})
    return out
