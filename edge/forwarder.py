"""Outbox → telemetry topic, in order, as batches; confirmed rows deleted; unconfirmed ones sent again.

A cursor walks the outbox by row id. At most `WINDOW` messages are in flight (published, no PUBACK
yet), so replaying 100k readings never piles them up in memory. On every (re)connect the cursor goes
back to the start: whatever is still in the outbox is unconfirmed and is sent again (InfluxDB's
last-write-wins makes a repeat harmless). In `ack` mode a row is deleted when ingest's retained
cumulative ack covers its (boot, seq); if the oldest sent row is still there `ack_timeout` after it
was sent, the cursor rewinds to it and that boot is rebased (outbox.py: published under a fresh
alias numbered from its first remaining row), so a hole ingest can never fill cannot block it for
ever. While no ack makes progress (ingest down for hours) the timeout doubles at each rewind, up to
64 × `ack_timeout`, so a node on 4G does not resend its whole outbox every minute; the first ack that
deletes something brings it back to `ack_timeout`.

In `ack` mode one boot at a time is in flight: rows of the next boot wait until the previous boot's
sent rows are acknowledged. Ingest publishes one watermark per node per ack interval (the boot that
moved last), so a replay of an older boot interleaved with new readings would never see its ack.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from contract.wire import WireError, decode_ack, encode_batch, encode_reading
from edge.link import Link
from edge.outbox import Outbox
from ruongso.logs import event

log = logging.getLogger("edge.forwarder")
WINDOW = 8
MAX_BACKOFF_DOUBLINGS = 6


class Forwarder:
    def __init__(self, outbox: Outbox, link: Link, node: str, batch_size: int, ack_timeout_s: float, confirm: str,
                 mono: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.outbox = outbox
        self.link = link
        self.node = node
        self.batch_size = batch_size
        self.ack_timeout_s = ack_timeout_s
        self.confirm = confirm
        self._mono = mono
        self.connected = False
        self.cursor = 0
        self.inflight: dict[int, tuple[int, int]] = {}
        self.sent: deque[tuple[int, int, float, str]] = deque()  # (first id, last id, when, wire boot)
        self.published = 0
        self.resent_rounds = 0
        self.stalled_rounds = 0

    def on_connect(self) -> None:
        self.connected = True
        self._rewind()

    def on_disconnect(self) -> None:
        self.connected = False

    def _rewind(self) -> None:
        self.cursor = 0
        self.inflight.clear()
        self.sent.clear()

    def on_puback(self, mid: int) -> None:
        span = self.inflight.pop(mid, None)
        if span is not None and self.confirm == "puback":
            self.outbox.delete_range(*span)

    def on_ack(self, payload: bytes) -> None:
        if not payload:
            return  # retained ack cleared
        try:
            ack = decode_ack(payload)
        except WireError as exc:
            event(log, "ack_refused", logging.WARNING, reason=exc.reason, detail=exc.detail)
            return
        n = self.outbox.ack(ack.boot, ack.seq)
        if n:
            self.stalled_rounds = 0
            event(log, "acked", logging.DEBUG, boot=ack.boot, seq=ack.seq, deleted=n)

    def _check_timeout(self) -> None:
        if not self.sent:
            return
        oldest = self.outbox.oldest_id()
        while self.sent and (oldest is None or self.sent[0][1] < oldest):
            self.sent.popleft()  # fully confirmed
        timeout = self.ack_timeout_s * 2 ** min(self.stalled_rounds, MAX_BACKOFF_DOUBLINGS)
        if self.sent and self._mono() - self.sent[0][2] > timeout:
            alias = self.outbox.rebase_oldest()
            event(log, "resend_unacked", logging.INFO, from_id=oldest, after_s=timeout, rebased_as=alias)
            self.resent_rounds += 1
            self.stalled_rounds += 1
            self._rewind()

    def pump(self) -> bool:
        """Publish one batch if the window allows; True if something was published."""
        if not self.connected or len(self.inflight) >= WINDOW:
            return False
        self._check_timeout()
        rows = self.outbox.next_batch(self.cursor, self.batch_size)
        if not rows:
            return False
        if self.confirm == "ack" and self.sent and self.sent[-1][3] != rows[0].boot:
            return False  # the previous boot's ack first (see the module docstring)
        readings = [r.reading(self.node) for r in rows]
        payload = encode_reading(readings[0]) if len(readings) == 1 else encode_batch(readings)
        info = self.link.publish(self.link.telemetry_topic, payload)
        if info.rc != 0:
            # Disconnected under our feet (the disconnect event follows) or paho's queue is full:
            # try again later from the same cursor; a copy paho kept anyway is a harmless repeat.
            return False
        self.inflight[info.mid] = (rows[0].id, rows[-1].id)
        self.sent.append((rows[0].id, rows[-1].id, self._mono(), rows[0].boot))
        self.cursor = rows[-1].id
        self.published += len(rows)
        return True
