"""Warm start: the last hours of stored readings replayed through the engine before it goes live.

The detectors learn from the stream (a pair's baseline over a day, daily profiles over two, a probe's
flat-run tail, its noise), and a day's derived indicators (degree days, ET0, wetness hours) are built
from the whole day's readings. All of that lives in memory: a restarted analytics would judge drift
only at twice its limit for a day, and the day of the restart would get its daily indicators from part
of the day or, with less than 80 % of the day's readings, none.
InfluxDB holds every accepted reading (ingest writes them), so the engine is rebuilt by feeding it
those readings in time order, site by site, with its alert lifecycle set aside: nothing is published
or written, and the alerts restored from the state file stay as they were.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator

from analytics.engine import REPLAYED_BOOT, Engine
from analytics.lifecycle import Lifecycle
from contract.quantities import QUANTITIES
from contract.wire import MEASUREMENT, Decoded, Reading
from ruongso.influx import InfluxClient, Series, quote_ident

# The readings the broker may deliver again: those published while analytics was down, which its
# persistent session keeps for an hour (analytics.service SESSION_EXPIRY_S), with room for late clocks.
REDELIVERY_MS = 2 * 3_600_000


def replay(engine: Engine, influx: InfluxClient, hours: float, mine: Callable[[str], bool],
           until_ms: int) -> tuple[dict[tuple[str, str], set[int]], int]:
    """Feed the readings of the last `hours` (up to `until_ms`) of the sites `mine` accepts through
    `engine`; return, per node, the timestamps of its readings replayed from the last `REDELIVERY_MS`
    (so a reading the broker delivers again after the restart is not taken twice), and the number of
    readings replayed. Raises `ruongso.influx.InfluxError` when InfluxDB cannot answer."""
    recent: dict[tuple[str, str], set[int]] = {}
    if hours <= 0:
        return recent, 0
    measurement = quote_ident(MEASUREMENT)
    since = f"time > {int(until_ms - hours * 3_600_000)}ms AND time <= {until_ms}ms"
    sites = influx.query(f'SHOW TAG VALUES FROM {measurement} WITH KEY = "site"')
    names = sorted({str(row[1]) for s in sites for row in s.values})
    real = engine.lifecycle
    engine.lifecycle = Lifecycle(real.repeat_ms)
    n = 0
    replayed: set[tuple[str, str]] = set()
    try:
        for site in names:
            if not mine(site):
                continue
            literal = site.replace("\\", "\\\\").replace("'", "\\'")
            q = (f"SELECT * FROM {measurement} WHERE \"site\" = '{literal}' AND {since} "
                 'GROUP BY "node" ORDER BY time ASC')
            nodes = (_readings(s) for s in influx.query(q))
            for ts, node, reading in heapq.merge(*nodes, key=lambda t: t[0]):
                engine.process(site, Decoded(node, REPLAYED_BOOT, [reading]), ts)
                n += 1
                replayed.add((site, node))
                if ts > until_ms - REDELIVERY_MS:
                    recent.setdefault((site, node), set()).add(ts)
    finally:
        engine.lifecycle = real
        for ns in engine.nodes.values():
            for f in ns.faults.values():
                f.alerting = True  # judged again against the real alerts at the next live reading
        # A node's silence counts from now, as if it had just been seen, unless it was offline before the
        # restart: the stored readings stop when the system stopped (a power cut stops ingest too), and the
        # telemetry held meanwhile has not been delivered yet.
        for key in replayed:
            ns = engine.nodes[key]
            if (*key, "node.offline") not in real.active:
                ns.last_seen = max(ns.last_seen, until_ms)
    return recent, n


def _readings(s: Series) -> Iterator[tuple[int, str, Reading]]:
    node = s.tags.get("node", "")
    for row in s.rows():
        m = {k: float(v) for k, v in row.items() if k in QUANTITIES and isinstance(v, int | float)}
        m = {k: v for k, v in m.items() if math.isfinite(v)}
        ts = int(row["time"])
        seq = row.get("seq")
        yield ts, node, Reading(node, REPLAYED_BOOT, int(seq) if isinstance(seq, int | float) else 0, ts, m,
                                _number(row.get("battery_v")), _number(row.get("rssi")))


def _number(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
