"""Feeding generated readings through the analytics engine, as the live service does."""

from __future__ import annotations

from collections.abc import Iterable

from analytics.engine import Engine
from contract.alerts import AlertEvent
from contract.wire import Reading, decode_telemetry, encode_reading

# 2025-11-30 00:00 ICT (= 2025-11-29 17:00 UTC), in ms.
MIDNIGHT_ICT = 1_764_435_600_000
MINUTE = 60_000
HOUR = 3_600_000


class Feeder:
    """Publishes reading sets of one site's nodes into an engine through the wire codec."""

    def __init__(self, engine: Engine, site: str) -> None:
        self.engine, self.site = engine, site
        self.seq: dict[str, int] = {}
        self.events: list[AlertEvent] = []
        self.lines: list[str] = []

    def send(self, node: str, ts: int, m: dict[str, float], **health: float) -> list[AlertEvent]:
        seq = self.seq.get(node, 0)
        self.seq[node] = seq + 1
        r = Reading(node, "b1", seq, ts, m, health.get("battery_v"), health.get("rssi"))
        out = self.engine.process(self.site, decode_telemetry(encode_reading(r), node, now_ms=ts), ts)
        self.events.extend(out.events)
        self.lines.extend(out.lines)
        return out.events

    def series(self, node: str, start: int, step: int, values: Iterable[dict[str, float]]) -> int:
        ts = start
        for m in values:
            self.send(node, ts, m)
            ts += step
        return ts

    def of(self, rule: str, state: str | None = None) -> list[AlertEvent]:
        return [e for e in self.events if e.rule == rule and (state is None or e.state == state)]

    def farmer(self) -> list[AlertEvent]:
        return [e for e in self.events if e.audience == "farmer"]
