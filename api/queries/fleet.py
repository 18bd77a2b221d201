"""Fleet health per node: last reading (time, battery, RSSI) from `reading`, link state, firmware, spool
depth and sensor faults from `node_status`, loss over the window from `node_health` (docs/influx-schema.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from api.queries import influxql as q
from api.queries.readings import RECENT_S
from contract.wire import MEASUREMENT
from ruongso.influx import Series, quote_ident

STATUS_FIELDS = ("online", "state", "fw", "uptime_s", "spool_depth", "sensor_faults")
HEALTH_COUNTS = ("received", "gaps", "duplicates")


@dataclass(slots=True)
class NodeHealth:
    last_seen: int | None = None
    battery_v: float | None = None
    battery_t: int | None = None
    rssi: float | None = None
    status: dict[str, Any] = field(default_factory=dict)
    status_t: int | None = None
    counts: dict[str, int] = field(default_factory=dict)


def _where(sites: Sequence[str] | None, window: str) -> str:
    return window if sites is None else f"{q.tag_in('site', sites)} AND {window}"


def _reading_statements(sites: Sequence[str] | None, window_s: int, group: str) -> list[str]:
    where = _where(sites, q.since(window_s))
    reading = quote_ident(MEASUREMENT)
    return [
        f"SELECT last({quote_ident('seq')}) AS {quote_ident('seq')} FROM {reading} WHERE {where} {group}",
        f"SELECT {q.aggregate('last', 'battery_v', 'battery_v')} FROM {reading} WHERE {where} {group}",
        f"SELECT {q.aggregate('last', 'rssi', 'rssi')} FROM {reading} WHERE {where} {group}",
    ]


def fleet(
    influx: q.Querier, sites: Sequence[str] | None, lookback_s: int, loss_window_s: int, expected_nodes: int = 0
) -> dict[tuple[str, str], NodeHealth]:
    """(site, node) → health, in one request of five statements when every expected node reported in the
    last hour; otherwise the reading statements are asked again over the whole lookback (ten times the
    cost on a month of data)."""
    group = f"GROUP BY {quote_ident('site')}, {quote_ident('node')}"
    status_m, health_m = quote_ident("node_status"), quote_ident("node_health")
    statements = [
        *_reading_statements(sites, min(RECENT_S, lookback_s), group),
        # One status point carries every field, so the newest point whole is the node's status.
        f"SELECT * FROM {status_m} WHERE {_where(sites, q.since(lookback_s))} {group} ORDER BY time DESC LIMIT 1",
        "SELECT " + ", ".join(f"sum({quote_ident(c)}) AS {quote_ident(c)}" for c in HEALTH_COUNTS)
        + f" FROM {health_m} WHERE {_where(sites, q.since(loss_window_s))} {group}",
    ]
    out: dict[tuple[str, str], NodeHealth] = {}
    _fill(out, influx.query(";".join(statements)))
    heard_recently = sum(1 for h in out.values() if h.last_seen is not None)
    if heard_recently < expected_nodes and lookback_s > RECENT_S:
        _fill(out, influx.query(";".join(_reading_statements(sites, lookback_s, group))), keep=True)
    return out


def _fill(out: dict[tuple[str, str], NodeHealth], series: list[Series], keep: bool = False) -> None:
    """Fold query results into `out`; with `keep`, values already found (newer) are not overwritten."""
    for s in series:
        key = (s.tags.get("site", ""), s.tags.get("node", ""))
        h = out.setdefault(key, NodeHealth())
        cols = s.columns
        for row in s.values:
            doc = dict(zip(cols, row, strict=False))
            if s.name == MEASUREMENT and "seq" in doc:
                if not (keep and h.last_seen is not None):
                    h.last_seen = int(doc["time"])
            elif s.name == MEASUREMENT and "battery_v" in doc:
                if not (keep and h.battery_v is not None):
                    h.battery_v, h.battery_t = doc["battery_v"], int(doc["time"])
            elif s.name == MEASUREMENT and "rssi" in doc:
                if not (keep and h.rssi is not None):
                    h.rssi = doc["rssi"]
            elif s.name == "node_status":
                h.status = {k: doc.get(k) for k in STATUS_FIELDS}
                h.status_t = int(doc["time"])
            elif s.name == "node_health":
                h.counts = {k: int(doc.get(k) or 0) for k in HEALTH_COUNTS}
