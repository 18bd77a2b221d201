"""One MQTT message → what ingest must store: line-protocol points, dead letters, reading ids.

Pure and fast: this runs in the MQTT network thread for every message, so it only decodes (with
`contract.wire.decode_telemetry`, the one validator) and formats; everything stateful (batching,
acks, counters) happens in the writer thread. It never raises: whatever it cannot understand
becomes a `DeadLetter` with a contract reason code.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from contract import topics
from contract.wire import (
    MAX_PAYLOAD_BYTES,
    TS_FLOOR_MS,
    Reason,
    WireError,
    decode_status,
    decode_telemetry,
    parse_json,
    to_line,
)
from ingest.lineproto import field_string

UNKNOWN = "unknown"
PAYLOAD_KEEP_BYTES = 1024
TOPIC_KEEP_CHARS = 256


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejection as it is stored: measurement `rejected` and the local JSON-lines file."""

    reason: str
    topic: str
    detail: str
    payload: str
    site: str = UNKNOWN
    node: str = UNKNOWN
    seq: int | None = None
    quantity: str | None = None

    def as_json(self, ts_ms: int) -> dict[str, Any]:
        doc: dict[str, Any] = {"ts": ts_ms, "reason": self.reason, "site": self.site, "node": self.node,
                               "topic": self.topic, "detail": self.detail}
        if self.seq is not None:
            doc["seq"] = self.seq
        if self.quantity is not None:
            doc["quantity"] = self.quantity
        doc["payload"] = self.payload
        return doc


@dataclass(slots=True)
class Converted:
    """What one message contributes to a batch."""

    lines: list[str] = field(default_factory=list)
    dead: list[DeadLetter] = field(default_factory=list)
    # (site, node, boot, seq) of every reading set the message carried with a valid seq, stored or
    # refused: node health counts them, the end-to-end ack covers them once their batch is written.
    seqs: list[tuple[str, str, str, int]] = field(default_factory=list)
    points: int = 0


def _payload_text(payload: bytes) -> str:
    return payload[:PAYLOAD_KEEP_BYTES].decode("utf-8", errors="replace")


# orjson turns integers beyond 64 bits into floats where json keeps them exact (the fuzz test found
# a huge `ts` refused as bad_ts instead of ts_in_future); 19+ digits in a row go to json instead.
_LONG_NUMBER = re.compile(rb"\d{19}")


def _load(payload: bytes) -> Any:
    # orjson is about 4x faster than json (bench/ingest.py). It refuses what the contract's parser
    # refuses and more (NaN tokens, BOMs, lone surrogates), so on any refusal the contract decides.
    if len(payload) <= MAX_PAYLOAD_BYTES and not _LONG_NUMBER.search(payload):
        try:
            return orjson.loads(payload)
        except orjson.JSONDecodeError:
            pass
    return parse_json(payload)


# Topics repeat (one per node and kind); parsing each once saves two regex matches per message.
_TOPIC_CACHE_MAX = 100_000


class Converter:
    def __init__(self, max_future_ms: int) -> None:
        self.max_future_ms = max_future_ms
        self._topics: dict[str, topics.NodeTopic] = {}

    def _topic(self, topic: str) -> topics.NodeTopic:
        t = self._topics.get(topic)
        if t is None:
            t = topics.NodeTopic.parse(topic)
            if len(self._topics) >= _TOPIC_CACHE_MAX:
                self._topics.clear()
            self._topics[topic] = t
        return t

    def convert(self, topic: str, payload: bytes) -> Converted:
        out = Converted()
        try:
            t = self._topic(topic)
        except (topics.TopicError, ValueError) as exc:
            out.dead.append(DeadLetter(Reason.BAD_TOPIC, topic[:TOPIC_KEEP_CHARS], str(exc)[:300],
                                       _payload_text(payload)))
            return out
        try:
            if t.kind is topics.NodeTopicKind.TELEMETRY:
                self._telemetry(t, topic, payload, out)
            elif t.kind is topics.NodeTopicKind.STATUS:
                self._status(t, topic, payload, out)
        except WireError as err:
            out.dead.append(DeadLetter(err.reason, topic, err.detail[:300], _payload_text(payload), t.site, t.node))
        except Exception as exc:  # a bug of ours must not lose the message: it is dead-lettered, visibly
            out.lines.clear()
            out.seqs.clear()
            out.points = 0
            out.dead.append(DeadLetter(Reason.BAD_VALUES, topic, f"ingest could not handle it: {exc!r}"[:300],
                                       _payload_text(payload), t.site, t.node))
        return out

    def _telemetry(self, t: topics.NodeTopic, topic: str, payload: bytes, out: Converted) -> None:
        doc = _load(payload)
        # Anything but an object goes back to the contract, which refuses it with the right reason.
        decoded = decode_telemetry(doc if isinstance(doc, dict) else payload, t.node, max_future_ms=self.max_future_ms)
        for r in decoded.readings:
            out.lines.append(to_line(t.site, r))
            out.seqs.append((t.site, r.node, r.boot, r.seq))
        out.points = len(decoded.readings)
        if decoded.rejections:
            text = _payload_text(payload)
            stored = {r.seq for r in decoded.readings}
            for rej in decoded.rejections:
                out.dead.append(DeadLetter(rej.reason, topic, rej.detail[:300], text, t.site, t.node,
                                           rej.seq, rej.quantity))
                # A reading set refused whole is settled too: resending it cannot make it valid.
                if rej.quantity is None and rej.seq is not None and rej.seq not in stored:
                    out.seqs.append((t.site, t.node, decoded.boot, rej.seq))

    def _status(self, t: topics.NodeTopic, topic: str, payload: bytes, out: Converted) -> None:
        if not payload:
            return  # an empty retained message only clears the topic; there is nothing to store
        st = decode_status(payload)
        now = int(time.time() * 1000)
        if st.ts < TS_FLOOR_MS:
            raise WireError(Reason.TS_TOO_OLD, f"status ts {st.ts} is before 2020-01-01")
        if st.ts > now + self.max_future_ms:
            raise WireError(Reason.TS_IN_FUTURE, f"status ts {st.ts} is {(st.ts - now) / 1000:.0f} s in the future")
        fields = [f"online={1 if st.state == 'online' else 0}i", f"state={field_string(st.state)}",
                  f"fw={field_string(st.fw[:64])}"]
        uptime = st.extra.get("uptime_s")
        if isinstance(uptime, int | float) and not isinstance(uptime, bool) and 0 <= uptime < 1e12:
            fields.append(f"uptime_s={float(uptime)!r}")
        depth = st.extra.get("spool_depth")
        if isinstance(depth, int) and not isinstance(depth, bool) and 0 <= depth < 2**63:
            fields.append(f"spool_depth={depth}i")
        faults = st.extra.get("sensor_faults")
        if isinstance(faults, list):
            faults = ",".join(str(f) for f in faults)
        if isinstance(faults, str):
            fields.append(f"sensor_faults={field_string(faults[:256])}")
        out.lines.append(f"node_status,site={t.site},node={t.node} {','.join(fields)} {st.ts}")
