"""The on-disk outbox: every reading is stored here before it is published, and kept until confirmed.

SQLite in WAL mode with synchronous=NORMAL: a committed transaction survives the agent being killed
(-9) and the database stays consistent through a power cut (the last commits before the cut may be
lost; WAL never leaves it half-written). New readings wait in memory and are committed together every
`commit_every` seconds, so the SD card sees one write per interval instead of one per reading; only
committed rows are ever published, so nothing leaves the node that a crash could take back.

The file is bounded: when the pages in use exceed `max_bytes`, the oldest rows are evicted (down to
90 % of the bound, so it happens rarely) and counted (persisted, reported on status). Rows are
deleted when ingest's cumulative ack (boot, seq) covers them, or on PUBACK in `confirm: puback` mode.

A boot's seqs can have a hole that ingest will never see filled — rows evicted before they were
sent, or ingest restarted and forgot how far it had got with an older boot — and ingest's cumulative
ack would then never pass it. So such a boot is published under an alias ("rebased"): a fresh boot id
whose seq 0 is the boot's first remaining row (wire seq = seq − offset). Rows keep their stored
(boot, seq); the alias is applied when a batch is built and undone when its ack comes. Evictions
rebase the boots they cut into; the forwarder rebases the oldest boot when its ack times out.

Readings taken before the clock was sane are stored with ts NULL plus kernel boot id and monotonic
time, never published, and stamped (or, from an earlier kernel boot, dropped and counted) later.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract.wire import Reading

SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    -- AUTOINCREMENT: ids never come back after the table empties, so the forwarder's cursor
    -- (the last id it sent) can never skip a new row.
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    boot TEXT NOT NULL,
    seq INTEGER NOT NULL,
    ts INTEGER,
    kboot TEXT NOT NULL,
    mono_ns INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS readings_boot_seq ON readings (boot, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class Row:
    id: int
    boot: str
    seq: int
    ts: int | None
    body: str

    def reading(self, node: str) -> Reading:
        doc = json.loads(self.body)
        assert self.ts is not None
        return Reading(node, self.boot, self.seq, self.ts, doc["m"], doc.get("battery_v"), doc.get("rssi"))


@dataclass(slots=True)
class Pending:
    boot: str
    seq: int
    ts: int | None
    kboot: str
    mono_ns: int
    body: str


def body_of(m: dict[str, float], battery_v: float | None, rssi: float | None) -> str:
    doc: dict[str, Any] = {"m": m}
    if battery_v is not None:
        doc["battery_v"] = battery_v
    if rssi is not None:
        doc["rssi"] = rssi
    return json.dumps(doc, separators=(",", ":"))


class Outbox:
    def __init__(self, path: Path, max_bytes: int) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        # Keep the -wal file from growing past a few MB after a burst.
        self._db.execute("PRAGMA journal_size_limit=4194304")
        self._db.executescript(SCHEMA)
        self._page_size = self._db.execute("PRAGMA page_size").fetchone()[0]
        self._pending: list[Pending] = []
        self.evicted = int(self.get_meta("evicted") or 0)
        self.unstampable = int(self.get_meta("unstampable") or 0)
        self.last_ts = int(self.get_meta("last_ts") or 0)
        # stored boot → (wire boot, offset); see the module docstring.
        self.aliases: dict[str, tuple[str, int]] = {
            k: (v[0], int(v[1])) for k, v in json.loads(self.get_meta("aliases") or "{}").items()
        }
        self._depth = self._db.execute("SELECT COUNT(*) FROM readings").fetchone()[0]
        self._held = self._db.execute("SELECT COUNT(*) FROM readings WHERE ts IS NULL").fetchone()[0]
        # A bound lowered in the config applies at once, before anything is published.
        self._db.execute("BEGIN IMMEDIATE")
        self._evict_over_bound()
        self._db.execute("COMMIT")

    # --- writing ---------------------------------------------------------------------------------

    def add(self, p: Pending) -> None:
        with self._lock:
            self._pending.append(p)

    def pending_count(self) -> int:
        return len(self._pending)

    def flush(self, stamp: Callable[[int], int] | None = None) -> int:
        """Commit the pending readings in one transaction (stamping held ones if `stamp` is given)."""
        with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return 0
            if stamp is not None:
                for p in batch:
                    if p.ts is None:
                        p.ts = stamp(p.mono_ns)
            rows = [(p.boot, p.seq, p.ts, p.kboot, p.mono_ns, p.body) for p in batch]
            newest = max((p.ts for p in batch if p.ts is not None), default=0)
            try:
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(
                    "INSERT INTO readings (boot, seq, ts, kboot, mono_ns, body) VALUES (?, ?, ?, ?, ?, ?)", rows
                )
                if newest > self.last_ts:
                    self._set_meta("last_ts", str(newest))
                self._evict_over_bound()
                self._db.execute("COMMIT")
            except BaseException:
                # A full or failing card: keep the readings for the next commit, in order.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self._pending[:0] = batch
                raise
            if newest > self.last_ts:
                self.last_ts = newest
            self._depth += len(rows)
            self._held += sum(1 for p in batch if p.ts is None)
            return len(rows)

    def used_bytes(self) -> int:
        pages, free = (self._db.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "freelist_count"))
        return int((pages - free) * self._page_size)

    def _evict_over_bound(self) -> None:
        if self.used_bytes() <= self.max_bytes:
            return
        evicted = 0
        boots: set[str] = set()
        while self.used_bytes() > self.max_bytes * 0.9:
            total = self._db.execute("SELECT COUNT(*) FROM readings").fetchone()[0]
            if total == 0:
                break
            chunk = max(16, total // 20)
            oldest = self._db.execute("SELECT boot, ts FROM readings ORDER BY id LIMIT ?", (chunk,)).fetchall()
            boots.update(boot for boot, _ in oldest)
            n = self._db.execute(
                "DELETE FROM readings WHERE id IN (SELECT id FROM readings ORDER BY id LIMIT ?)", (chunk,)
            ).rowcount
            evicted += n
            self._depth -= n
            self._held -= sum(1 for _, ts in oldest if ts is None)
        self.evicted += evicted
        self._set_meta("evicted", str(self.evicted))
        for boot in boots:
            self._rebase(boot)

    def _rebase(self, boot: str) -> str | None:
        first = self._db.execute("SELECT MIN(seq) FROM readings WHERE boot = ?", (boot,)).fetchone()[0]
        if first is None:
            self.aliases.pop(boot, None)
            wire = None
        else:
            wire = "r" + secrets.token_hex(4)
            self.aliases[boot] = (wire, int(first))
        # Aliases of boots with no rows left are dead weight.
        self.aliases = {
            b: a for b, a in self.aliases.items()
            if self._db.execute("SELECT 1 FROM readings WHERE boot = ? LIMIT 1", (b,)).fetchone()
        }  # fmt: skip
        self._set_meta("aliases", json.dumps(self.aliases))
        return wire

    def rebase_oldest(self) -> str | None:
        """Publish the oldest stamped row's boot under a fresh alias from its first remaining row."""
        with self._lock:
            row = self._db.execute("SELECT boot FROM readings WHERE ts IS NOT NULL ORDER BY id LIMIT 1").fetchone()
            return None if row is None else self._rebase(row[0])

    def stamp_held(self, stamp: Callable[[int], int], kernel_boot: str) -> tuple[int, int]:
        """Give held rows of this kernel boot their wall time; drop (and count) those of earlier boots."""
        with self._lock:
            if self._held == 0:
                return 0, 0
            held = self._db.execute("SELECT id, kboot, mono_ns FROM readings WHERE ts IS NULL").fetchall()
            updates = [(stamp(mono), rid) for rid, kboot, mono in held if kboot == kernel_boot]
            lost = [(rid,) for rid, kboot, _ in held if kboot != kernel_boot]
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("UPDATE readings SET ts = ? WHERE id = ?", updates)
            self._db.executemany("DELETE FROM readings WHERE id = ?", lost)
            if lost:
                self.unstampable += len(lost)
                self._set_meta("unstampable", str(self.unstampable))
            newest = max((ts for ts, _ in updates), default=0)
            if newest > self.last_ts:
                self.last_ts = newest
                self._set_meta("last_ts", str(newest))
            self._db.execute("COMMIT")
            self._held = 0
            self._depth -= len(lost)
            return len(updates), len(lost)

    # --- reading and confirming ------------------------------------------------------------------

    def next_batch(self, after_id: int, limit: int) -> list[Row]:
        """Up to `limit` stamped rows after `after_id`, in order, all of the first row's boot."""
        with self._lock:
            cur = self._db.execute(
                "SELECT id, boot, seq, ts, body FROM readings WHERE id > ? AND ts IS NOT NULL ORDER BY id LIMIT ?",
                (after_id, limit),
            )
            rows = [Row(*r) for r in cur.fetchall()]
            aliases = dict(self.aliases)
        if aliases:
            rows = [self._wire(r, aliases.get(r.boot)) for r in rows]
        if rows:
            boot = rows[0].boot
            cut = next((i for i, r in enumerate(rows) if r.boot != boot), len(rows))
            rows = rows[:cut]
        return rows

    @staticmethod
    def _wire(row: Row, alias: tuple[str, int] | None) -> Row:
        if alias is None:
            return row
        return Row(row.id, alias[0], row.seq - alias[1], row.ts, row.body)

    def ack(self, boot: str, seq: int) -> int:
        """Delete every row of `boot` with seq ≤ `seq` (ingest's cumulative acknowledgement)."""
        stored = next(((b, off) for b, (wire, off) in self.aliases.items() if wire == boot), None)
        if stored is not None:
            boot, seq = stored[0], seq + stored[1]
        n = self._delete("DELETE FROM readings WHERE boot = ? AND seq <= ? AND ts IS NOT NULL", (boot, seq))
        if n and boot in self.aliases:
            with self._lock:
                if not self._db.execute("SELECT 1 FROM readings WHERE boot = ? LIMIT 1", (boot,)).fetchone():
                    del self.aliases[boot]
                    self._set_meta("aliases", json.dumps(self.aliases))
        return n

    def delete_range(self, first_id: int, last_id: int) -> int:
        return self._delete("DELETE FROM readings WHERE id BETWEEN ? AND ?", (first_id, last_id))

    def _delete(self, sql: str, args: tuple[Any, ...]) -> int:
        with self._lock:
            n = self._db.execute(sql, args).rowcount
            self._depth -= n
            return int(n)

    def oldest_id(self) -> int | None:
        with self._lock:
            return self._db.execute("SELECT MIN(id) FROM readings WHERE ts IS NOT NULL").fetchone()[0]

    @property
    def depth(self) -> int:
        return self._depth + len(self._pending)

    @property
    def held(self) -> int:
        return self._held + sum(1 for p in self._pending if p.ts is None)

    # --- small persistent settings ---------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def set_meta(self, key: str, value: str | None) -> None:
        with self._lock:
            if value is None:
                self._db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                self._set_meta(key, value)

    def integrity(self) -> str:
        with self._lock:
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
