"""The SQLite outbox: order, batches per boot, cumulative acks, the byte bound, held readings."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from edge.outbox import Outbox, Pending, body_of

BODY = body_of({"air_temp": 27.5, "air_humidity": 80.0}, 3.9, None)


def pending(boot: str, seq: int, ts: int | None = 1_764_455_000_000, kboot: str = "k1", mono: int = 0) -> Pending:
    return Pending(boot, seq, ts if ts is None else ts + seq * 1000, kboot, mono, BODY)


def test_readings_are_invisible_until_committed_then_come_out_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.sqlite", 10**7)
    for seq in range(5):
        box.add(pending("b1", seq))
    assert box.next_batch(0, 100) == []
    assert box.flush() == 5
    assert [r.seq for r in box.next_batch(0, 100)] == [0, 1, 2, 3, 4]
    r = box.next_batch(0, 1)[0].reading("n1")
    assert (r.m, r.battery_v, r.rssi) == ({"air_temp": 27.5, "air_humidity": 80.0}, 3.9, None)


def test_a_batch_never_mixes_boots(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.sqlite", 10**7)
    for seq in range(3):
        box.add(pending("old", seq))
    for seq in range(2):
        box.add(pending("new", seq))
    box.flush()
    first = box.next_batch(0, 100)
    assert [(r.boot, r.seq) for r in first] == [("old", 0), ("old", 1), ("old", 2)]
    assert [(r.boot, r.seq) for r in box.next_batch(first[-1].id, 100)] == [("new", 0), ("new", 1)]


def test_a_cumulative_ack_deletes_only_its_boot_up_to_its_seq(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.sqlite", 10**7)
    for boot in ("a", "b"):
        for seq in range(4):
            box.add(pending(boot, seq))
    box.flush()
    assert box.ack("a", 2) == 3
    assert [(r.boot, r.seq) for r in box.next_batch(0, 100)] == [("a", 3)]
    assert box.depth == 5


def test_the_bound_evicts_oldest_first_counts_them_and_keeps_the_file_flat(tmp_path: Path) -> None:
    path = tmp_path / "s.sqlite"
    box = Outbox(path, 64 * 1024)
    seq = 0
    sizes = []
    for _round in range(40):
        for _ in range(250):
            box.add(pending("b", seq))
            seq += 1
        box.flush()
        assert box.used_bytes() <= 64 * 1024
        sizes.append(path.stat().st_size)
    rows = box.next_batch(0, 1000)
    kept = len(rows)
    assert box.evicted == seq - box.depth == seq - kept > 0, "only the oldest were evicted"
    # Published under an alias whose seq 0 is the first survivor, so ingest's cumulative ack can pass.
    assert rows[0].boot != "b" and [r.seq for r in rows] == list(range(kept))
    assert box.aliases["b"] == (rows[0].boot, seq - kept)
    assert sizes[-1] == sizes[len(sizes) // 2], "the database file stops growing once the bound is reached"
    box.close()
    assert Outbox(path, 64 * 1024).evicted == seq - kept, "the eviction count survives a restart"


def test_held_readings_are_stamped_from_monotonic_time_or_dropped_if_from_another_kernel_boot(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.sqlite", 10**7)
    box.add(pending("b", 0, ts=None, kboot="earlier-boot", mono=5_000_000_000))
    box.add(pending("b", 1, ts=None, kboot="this-boot", mono=7_000_000_000))
    box.add(pending("b", 2, ts=None, kboot="this-boot", mono=9_000_000_000))
    box.flush()
    assert box.held == 3 and box.next_batch(0, 10) == []
    now_wall_ms, now_mono_ns = 1_764_455_100_000, 10_000_000_000
    stamped, lost = box.stamp_held(lambda mono: now_wall_ms - (now_mono_ns - mono) // 1_000_000, "this-boot")
    assert (stamped, lost, box.unstampable, box.held) == (2, 1, 1, 0)
    assert [(r.seq, r.ts) for r in box.next_batch(0, 10)] == [(1, now_wall_ms - 3000), (2, now_wall_ms - 1000)]


def test_bodies_are_compact_json(tmp_path: Path) -> None:
    assert json.loads(BODY) == {"m": {"air_temp": 27.5, "air_humidity": 80.0}, "battery_v": 3.9}


def test_ack_timeout_doubles_while_no_ack_makes_progress(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from edge.forwarder import Forwarder

    box = Outbox(tmp_path / "s.sqlite", 10**7)
    for seq in range(3):
        box.add(pending("b", seq))
    box.flush()
    now = [0.0]
    published: list[bytes] = []

    def publish(topic: str, payload: bytes) -> SimpleNamespace:
        published.append(payload)
        return SimpleNamespace(rc=0, mid=len(published))

    link = SimpleNamespace(telemetry_topic="t", publish=publish)
    fwd = Forwarder(box, link, "n1", 250, 10.0, "ack", mono=lambda: now[0])  # type: ignore[arg-type]
    fwd.on_connect()
    sends = []
    for t in range(0, 200):
        now[0] = float(t)
        fwd.on_puback(len(published))
        if fwd.pump():
            sends.append(t)
    assert sends == [0, 11, 32, 73, 154], "resent after 10, 20, 40, 80 s without an ack"
    fwd.on_ack(b'{"boot":"b","seq":2,"ts":1}')
    assert fwd.stalled_rounds == 0 and box.depth == 0


def test_after_an_eviction_the_alias_keeps_seqs_contiguous_and_its_ack_deletes_the_right_rows(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.sqlite", 64 * 1024)
    seq = 0
    while not box.evicted:
        for _ in range(100):
            box.add(pending("cur", seq))
            seq += 1
        box.flush()
    wire, offset = box.aliases["cur"]
    for _ in range(5):  # the running boot goes on after the eviction
        box.add(pending("cur", seq))
        seq += 1
    box.flush()
    rows = box.next_batch(0, 1000)
    assert {r.boot for r in rows} == {wire} and [r.seq for r in rows] == list(range(seq - offset))
    assert box.ack(wire, 9) == 10
    assert box.next_batch(0, 1)[0].seq == 10
    assert box.ack("cur", offset + 14) == 5, "an ack under the stored name still counts"
    reopened = Outbox(tmp_path / "s.sqlite", 64 * 1024)
    assert reopened.aliases == box.aliases and reopened.next_batch(0, 1)[0].seq == 15


def test_row_ids_never_come_back_after_the_outbox_empties(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.sqlite", 10**7)
    box.add(pending("b", 0))
    box.flush()
    cursor = box.next_batch(0, 10)[-1].id
    box.ack("b", 0)
    box.add(pending("b", 1))
    box.flush()
    assert [r.seq for r in box.next_batch(cursor, 10)] == [1], "a cursor past the last sent row sees the new one"


class FailingOnce:
    """A connection whose next write transaction fails, as on a full SD card."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.fail = True

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if self.fail and sql.startswith("INSERT INTO readings"):
            self.fail = False
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def executemany(self, sql: str, rows: object) -> sqlite3.Cursor:
        if self.fail:
            self.fail = False
            raise sqlite3.OperationalError("database or disk is full")
        return self.db.executemany(sql, rows)  # type: ignore[arg-type]

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


def test_a_failed_commit_keeps_the_readings_for_the_next_one(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "s.sqlite", 10**7)
    box._db = FailingOnce(box._db)  # type: ignore[assignment]
    box.add(pending("b", 0))
    with pytest.raises(sqlite3.OperationalError):
        box.flush()
    box.add(pending("b", 1))
    assert box.flush() == 2
    assert [r.seq for r in box.next_batch(0, 10)] == [0, 1]
