"""The persistent outbox (SQLite): every message to send, its delivery status, alert state, tokens.

A message is recorded under its idempotency key (alert | recipient | channel | state) before the
MQTT event that caused it is acknowledged, so a redelivered event adds nothing. Sending is
record-before-send / ack-after-send: status `sending` is committed before the channel is called and
`sent` after it answers. A crash between the two leaves `sending`, which is sent again after a
restart with the same key (at-least-once; docs/notify.md explains how receivers close the window).

The API reads the view `delivery_status` (docs/notify.md, "Delivery status").
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.alerts import AlertEvent
from notify.message import Message

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,      -- arrival order: per-recipient order follows it
    key TEXT NOT NULL UNIQUE,                  -- idempotency key alert|recipient|channel|state
    alert_id TEXT NOT NULL,
    site TEXT NOT NULL,
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    severity TEXT NOT NULL,
    message TEXT NOT NULL,                     -- notify.message.Message as JSON
    status TEXT NOT NULL DEFAULT 'pending',    -- pending sending sent failed expired
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0,
    hold_reason TEXT,                          -- quiet_hours / rate_limit while a warning waits
    created_ms INTEGER NOT NULL,
    last_attempt_ms INTEGER,
    sent_ms INTEGER,
    provider_ref TEXT,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS deliveries_open ON deliveries (channel, status, recipient, id);
CREATE INDEX IF NOT EXISTS deliveries_alert ON deliveries (alert_id);
CREATE INDEX IF NOT EXISTS deliveries_sent ON deliveries (recipient, channel, sent_ms);
CREATE TABLE IF NOT EXISTS alerts (
    alert_id TEXT PRIMARY KEY,
    site TEXT NOT NULL,
    audience TEXT NOT NULL,
    severity TEXT NOT NULL,
    state TEXT NOT NULL,
    event TEXT NOT NULL,                       -- the last event, wire format v1 JSON
    first_seen_ms INTEGER NOT NULL,
    acked_ms INTEGER,
    resolved_ms INTEGER,
    escalation_level INTEGER NOT NULL DEFAULT 0,
    escalate_at_ms INTEGER                     -- NULL: nothing to escalate
);
CREATE TABLE IF NOT EXISTS kv (k TEXT PRIMARY KEY, v TEXT NOT NULL, updated_ms INTEGER NOT NULL);
CREATE VIEW IF NOT EXISTS delivery_status AS
    SELECT alert_id, site, recipient, channel, state, severity, status, attempts, hold_reason,
           created_ms, last_attempt_ms, sent_ms, provider_ref, last_error
    FROM deliveries;
"""

OPEN = ("pending", "sending")


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    key: str
    recipient: str
    channel: str
    severity: str
    status: str
    attempts: int
    next_attempt_ms: int
    created_ms: int
    hold_reason: str | None
    message: Message


class Outbox:
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=10.0)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()  # the MQTT thread, channel workers and escalation share it
        self._conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a commit survives power loss too, not only a killed process.
        self._conn.execute("PRAGMA synchronous = FULL")
        self._conn.execute("PRAGMA busy_timeout = 10000")
        self._conn.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def _tx(self, fn: Any) -> Any:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                out = fn(self._conn)
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
            return out

    # --- accepting events -------------------------------------------------------------------------

    def record(self, event: AlertEvent, messages: list[Message], now_ms: int, escalate_at_ms: int | None) -> int:
        """Store the event's alert state and its messages in one transaction; return how many are new."""
        return self.record_messages(messages, now_ms, lambda c: _upsert_alert(c, event, now_ms, escalate_at_ms))

    def record_messages(self, messages: list[Message], now_ms: int, after: Any = None) -> int:
        """Insert messages not seen before (by key) and run `after(conn)`, all in one transaction."""

        def tx(c: sqlite3.Connection) -> int:
            added = 0
            for m in messages:
                cur = c.execute(
                    "INSERT OR IGNORE INTO deliveries (key, alert_id, site, recipient, channel, state, severity, "
                    "message, created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (m.key, m.alert_id, m.site, m.recipient, m.channel, m.state, m.severity, m.to_json(), now_ms),
                )
                added += cur.rowcount
            if after is not None:
                after(c)
            return added

        return int(self._tx(tx))

    # --- delivering -------------------------------------------------------------------------------

    def open_rows(self, channel: str) -> list[Row]:
        """Unsent messages of one channel, grouped by recipient, oldest first within each."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, key, recipient, channel, severity, status, attempts, next_attempt_ms, created_ms, "
                "hold_reason, message "
                "FROM deliveries WHERE channel = ? AND status IN ('pending', 'sending') ORDER BY recipient, id",
                (channel,),
            ).fetchall()
        return [
            Row(r["id"], r["key"], r["recipient"], r["channel"], r["severity"], r["status"], r["attempts"],
                r["next_attempt_ms"], r["created_ms"], r["hold_reason"], Message.from_json(r["message"]))
            for r in rows
        ]  # fmt: skip

    def mark_sending(self, row_id: int, now_ms: int) -> None:
        self._tx(lambda c: c.execute(
            "UPDATE deliveries SET status = 'sending', attempts = attempts + 1, last_attempt_ms = ?, "
            "hold_reason = NULL WHERE id = ?", (now_ms, row_id)))  # fmt: skip

    def mark_sent(self, row_id: int, now_ms: int, ref: str | None) -> None:
        self._tx(lambda c: c.execute(
            "UPDATE deliveries SET status = 'sent', sent_ms = ?, provider_ref = ?, last_error = NULL WHERE id = ?",
            (now_ms, ref, row_id)))  # fmt: skip

    def mark_retry(self, row_id: int, next_ms: int, error: str) -> None:
        self._tx(lambda c: c.execute(
            "UPDATE deliveries SET status = 'pending', next_attempt_ms = ?, last_error = ? WHERE id = ?",
            (next_ms, error[:500], row_id)))  # fmt: skip

    def mark_final(self, row_id: int, status: str, error: str) -> None:
        self._tx(lambda c: c.execute(
            "UPDATE deliveries SET status = ?, last_error = ? WHERE id = ?", (status, error[:500], row_id)))

    def set_hold(self, row_id: int, reason: str | None) -> None:
        self._tx(lambda c: c.execute("UPDATE deliveries SET hold_reason = ? WHERE id = ?", (reason, row_id)))

    def sent_since(self, recipient: str, channel: str, since_ms: int) -> list[int]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT sent_ms FROM deliveries WHERE recipient = ? AND channel = ? AND status = 'sent' "
                "AND sent_ms >= ? ORDER BY sent_ms",
                (recipient, channel, since_ms),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def in_doubt(self) -> int:
        """Messages left `sending` by a crash: sent or not, nobody knows; they will be sent again."""
        with self._lock:
            return int(self._conn.execute("SELECT count(*) FROM deliveries WHERE status = 'sending'").fetchone()[0])

    # --- alert state and escalation ---------------------------------------------------------------

    def due_escalations(self, now_ms: int) -> list[tuple[AlertEvent, int, int]]:
        """(last firing event, escalation level so far, when notify first heard of it) of due alerts."""
        from contract.alerts import decode_alert

        with self._lock:
            rows = self._conn.execute(
                "SELECT event, escalation_level, first_seen_ms FROM alerts "
                "WHERE escalate_at_ms IS NOT NULL AND escalate_at_ms <= ? AND acked_ms IS NULL AND resolved_ms IS NULL "
                "ORDER BY escalate_at_ms",
                (now_ms,),
            ).fetchall()
        return [(decode_alert(r["event"]), int(r["escalation_level"]), int(r["first_seen_ms"])) for r in rows]

    def escalated(self, alert_id: str, level: int, messages: list[Message], now_ms: int, next_at_ms: int | None) -> int:
        def after(c: sqlite3.Connection) -> None:
            c.execute(
                "UPDATE alerts SET escalation_level = ?, escalate_at_ms = ? WHERE alert_id = ?",
                (level, next_at_ms, alert_id),
            )

        return self.record_messages(messages, now_ms, after)

    def mark_acked(self, alert_id: str, now_ms: int) -> None:
        self._tx(lambda c: c.execute(
            "UPDATE alerts SET acked_ms = COALESCE(acked_ms, ?), escalate_at_ms = NULL WHERE alert_id = ?",
            (now_ms, alert_id)))  # fmt: skip

    def alert(self, alert_id: str) -> dict[str, Any] | None:
        with self._lock:
            r = self._conn.execute("SELECT * FROM alerts WHERE alert_id = ?", (alert_id,)).fetchone()
        return dict(r) if r else None

    # --- small persistent values (e.g. Zalo's single-use refresh token) ---------------------------

    def get(self, key: str) -> str | None:
        with self._lock:
            r = self._conn.execute("SELECT v FROM kv WHERE k = ?", (key,)).fetchone()
        return None if r is None else str(r[0])

    def put(self, key: str, value: str, now_ms: int) -> None:
        self._tx(lambda c: c.execute(
            "INSERT INTO kv (k, v, updated_ms) VALUES (?, ?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v, "
            "updated_ms = excluded.updated_ms", (key, value, now_ms)))  # fmt: skip

    # --- what the API and `ruongso notify status` show --------------------------------------------

    def status(self, alert_id: str | None = None) -> list[dict[str, Any]]:
        return delivery_status(self._conn, alert_id, self._lock)


def _upsert_alert(c: sqlite3.Connection, event: AlertEvent, now_ms: int, escalate_at_ms: int | None) -> None:
    doc = event.encode().decode()
    c.execute(
        "INSERT INTO alerts (alert_id, site, audience, severity, state, event, first_seen_ms, escalate_at_ms) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (alert_id) DO UPDATE SET "
        "severity = CASE WHEN excluded.state = 'firing' THEN excluded.severity ELSE alerts.severity END, "
        "state = excluded.state, "
        "event = CASE WHEN excluded.state = 'firing' THEN excluded.event ELSE alerts.event END, "
        "escalate_at_ms = CASE WHEN alerts.escalation_level = 0 AND alerts.escalate_at_ms IS NULL "
        "  THEN excluded.escalate_at_ms ELSE alerts.escalate_at_ms END",
        (event.id, event.site, event.audience, event.severity, event.state, doc, now_ms,
         escalate_at_ms if event.state == "firing" else None),
    )  # fmt: skip
    if event.state == "resolved":
        c.execute("UPDATE alerts SET resolved_ms = COALESCE(resolved_ms, ?), escalate_at_ms = NULL "
                  "WHERE alert_id = ?", (now_ms, event.id))  # fmt: skip
    elif event.state in ("acknowledged", "silenced"):
        c.execute("UPDATE alerts SET acked_ms = COALESCE(acked_ms, ?), escalate_at_ms = NULL "
                  "WHERE alert_id = ?", (now_ms, event.id))  # fmt: skip


def delivery_status(
    conn: sqlite3.Connection, alert_id: str | None = None, lock: Any = None
) -> list[dict[str, Any]]:
    """Rows of the `delivery_status` view, oldest first (for one alert, or all)."""
    sql = "SELECT * FROM delivery_status"
    args: tuple[Any, ...] = ()
    if alert_id is not None:
        sql += " WHERE alert_id = ?"
        args = (alert_id,)
    if lock is None:
        return [dict(r) for r in conn.execute(sql + " ORDER BY created_ms", args)]
    with lock:
        return [dict(r) for r in conn.execute(sql + " ORDER BY created_ms", args)]


def read_status(path: str, alert_id: str | None = None) -> list[dict[str, Any]]:
    """Delivery status read-only from another process (what the API does; docs/notify.md)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5.0)
    conn.row_factory = sqlite3.Row
    try:
        return delivery_status(conn, alert_id)
    finally:
        conn.close()


def dumps(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False)
