"""Per node and boot: which `seq` arrived (node health) and which are settled (the end-to-end ack).

A `SeqWindow` is "every seq ≤ low, plus the sparse set above it", so a cumulative watermark costs
O(1) per reading and memory only for the holes. Both trackers keep the last few boots per node.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import orjson

from contract import topics
from contract.topics import is_slug
from contract.wire import BOOT_RE

BOOTS_PER_NODE = 3
# Readings above an unfilled hole kept per window; beyond it they are forgotten (the node sends
# them again because they stay unacknowledged), so one node's long outage cannot exhaust memory.
MAX_ABOVE = 100_000


class SeqWindow:
    __slots__ = ("above", "counted_to", "floor", "high", "high_prev", "low")

    def __init__(self, low: int = -1) -> None:
        self.floor = low + 1  # where tracking began: below it, "not seen" and "seen" are unknown
        self.low = low
        self.high = low
        self.above: set[int] = set()
        # node health only: holes are judged one report late (see `settled_holes`)
        self.counted_to = low
        self.high_prev = low

    def add(self, seq: int) -> bool:
        """Record `seq`; False if it was already there (a repeat)."""
        if seq <= self.low or seq in self.above:
            return False
        if seq == self.low + 1:
            self.low = seq
            above = self.above
            while above and self.low + 1 in above:
                self.low += 1
                above.remove(self.low)
        elif len(self.above) < MAX_ABOVE:
            self.above.add(seq)
        else:
            return True
        if seq > self.high:
            self.high = seq
        return True

    def raise_low(self, low: int) -> None:
        """Someone durable (the retained ack) says every seq ≤ low is settled."""
        if low <= self.low:
            return
        self.low = low
        self.above = {s for s in self.above if s > low}
        while self.low + 1 in self.above:
            self.low += 1
            self.above.remove(self.low)
        self.high = max(self.high, self.low)

    def settled_holes(self) -> int:
        """Seqs still missing a whole report interval after a later seq arrived, each counted once.

        Judging a hole one interval late keeps out-of-order arrivals (a node's store-and-forward
        replay behind its live readings, another member's progress) from counting as losses.
        """
        upto, start = self.high_prev, self.counted_to
        holes = 0
        if upto > start:
            seen = max(0, min(self.low, upto) - start) + sum(1 for s in self.above if start < s <= upto)
            holes = (upto - start) - seen
            self.counted_to = upto
        self.high_prev = self.high
        return holes


NodeKey = tuple[str, str]  # site, node


class _Boots:
    """The windows of the last few boots of every node."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, dict[str, SeqWindow]] = {}

    def window(self, key: NodeKey, boot: str, first_seq: int | None) -> SeqWindow:
        boots = self.nodes.get(key)
        if boots is None:
            boots = self.nodes[key] = {}
        w = boots.get(boot)
        if w is None:
            if len(boots) >= BOOTS_PER_NODE:
                del boots[next(iter(boots))]
            w = boots[boot] = SeqWindow(-1 if first_seq is None else first_seq - 1)
        return w


@dataclass(slots=True)
class Health:
    received: int = 0
    duplicates: int = 0
    gaps: int = 0
    last_seq: int = -1


class HealthTracker:
    """Received, repeated and missing reading sets per node since the last report (`node_health`)."""

    def __init__(self) -> None:
        self._boots = _Boots()
        self._interval: dict[NodeKey, Health] = {}

    def observe(self, site: str, node: str, boot: str, seq: int) -> None:
        key = (site, node)
        # A node first seen mid-boot starts its window there: earlier seqs are not "missing" to us.
        w = self._boots.window(key, boot, seq)
        h = self._interval.get(key)
        if h is None:
            h = self._interval[key] = Health()
        h.received += 1
        if seq < w.floor:
            return  # older than where we started watching (another member's share, a late replay)
        if not w.add(seq):
            h.duplicates += 1
            return
        h.last_seq = max(h.last_seq, seq)
        if len(w.above) >= MAX_ABOVE:  # a hole that will never fill: stop carrying it
            w.raise_low(w.high)

    def report(self) -> dict[NodeKey, Health]:
        """Counts since the last report, per node; gaps are holes that outlived one interval."""
        out, self._interval = self._interval, {}
        for key, boots in self._boots.nodes.items():
            gaps = sum(w.settled_holes() for w in boots.values())
            if gaps:
                h = out.get(key)
                if h is None:
                    h = out[key] = Health(last_seq=max(w.high for w in boots.values()))
                h.gaps += gaps
        return out


class AckTracker:
    """The cumulative watermark per node and boot of reading sets settled in InfluxDB."""

    def __init__(self) -> None:
        self._boots = _Boots()
        # (site, node, boot) whose ack is due, in the order they became due: the last one published
        # per node is the one the broker retains, so the node's current boot comes last.
        self._dirty: dict[tuple[str, str, str], None] = {}

    def settled(self, seqs: Iterable[tuple[str, str, str, int]]) -> None:
        for site, node, boot, seq in seqs:
            w = self._boots.window((site, node), boot, None)
            before = w.low
            w.add(seq)
            # A repeat of something already covered means the node missed its ack: say it again.
            if w.low != before or seq <= before:
                key = (site, node, boot)
                self._dirty.pop(key, None)
                self._dirty[key] = None

    def seed(self, site: str, node: str, boot: str, seq: int) -> None:
        """The retained ack on the broker: what an earlier run of ingest already settled."""
        w = self._boots.window((site, node), boot, None)
        w.raise_low(seq)

    def take_dirty(self) -> list[tuple[str, str, str, int]]:
        """(site, node, boot, watermark) for every boot whose ack is due since the last call."""
        out = []
        for site, node, boot in self._dirty:
            w = self._boots.nodes.get((site, node), {}).get(boot)
            if w is not None and w.low >= 0:
                out.append((site, node, boot, w.low))
        self._dirty = {}
        return out


# --- sharing settled seqs between the members of a shared subscription ---------------------------


def progress_topic(group: str) -> str:
    """Where the members of one shared-subscription group tell each other what they settled.

    Internal to ingest (not part of the wire format): a broker that deals a node's messages
    round-robin splits its seqs between members, and each member's cumulative watermark would stop
    at the first seq another member wrote.
    """
    return topics.ingest_progress(group)


def encode_progress(seqs: Iterable[tuple[str, str, str, int]]) -> bytes:
    """Settled seqs as ranges per (site, node, boot): `[[site, node, boot, [[first, last], …]], …]`."""
    by_key: dict[tuple[str, str, str], list[int]] = {}
    for site, node, boot, seq in seqs:
        by_key.setdefault((site, node, boot), []).append(seq)
    doc = []
    for (site, node, boot), values in by_key.items():
        values.sort()
        ranges: list[list[int]] = []
        for v in values:
            if ranges and v <= ranges[-1][1] + 1:
                ranges[-1][1] = max(ranges[-1][1], v)
            else:
                ranges.append([v, v])
        doc.append([site, node, boot, ranges])
    return orjson.dumps(doc)


def decode_progress(payload: bytes) -> list[tuple[str, str, str, int]]:
    """The seqs of `encode_progress`; ValueError for anything else (a member never trusts garbage)."""
    out: list[tuple[str, str, str, int]] = []
    try:
        doc = orjson.loads(payload)
        if not isinstance(doc, list):
            raise ValueError("not a list")
        for site, node, boot, ranges in doc:
            if not (is_slug(site) and is_slug(node) and isinstance(boot, str) and BOOT_RE.match(boot)):
                raise ValueError("bad identifiers")
            for first, last in ranges:
                if not (isinstance(first, int) and isinstance(last, int) and 0 <= first <= last
                        and last - first <= MAX_ABOVE):
                    raise ValueError("bad range")
                out.extend((site, node, boot, s) for s in range(first, last + 1))
    except (orjson.JSONDecodeError, TypeError) as exc:
        raise ValueError(f"not a progress message: {exc}") from None
    return out
