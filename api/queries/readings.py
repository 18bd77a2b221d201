"""Readings from measurement `reading`: latest per node and quantity, aggregated ranges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from api.queries import influxql as q
from contract.wire import MEASUREMENT
from ruongso.influx import quote_ident

READING = quote_ident(MEASUREMENT)
DECIMALS = 3


RECENT_S = 3600


def latest(
    influx: q.Querier, site: str, quantities: Sequence[str], lookback_s: int, node: str | None = None,
    expected_nodes: int = 0,
) -> dict[str, dict[str, tuple[int, float]]]:
    """node → quantity → (time ms, value) of the last value of each quantity in the lookback window.

    One statement per quantity (a multi-selector statement loses each value's own time), all sent in
    one request. The last hour is asked first (cheap: one shard); only quantities that fewer than
    `expected_nodes` nodes reported in that hour are asked again over the whole lookback, which on a
    month of data costs ten times more.
    """
    out: dict[str, dict[str, tuple[int, float]]] = {}
    recent = _last_values(influx, site, quantities, min(RECENT_S, lookback_s), node, out)
    want = 1 if node is not None else expected_nodes
    stale = [name for name in quantities if recent.get(name, 0) < want]
    if stale and lookback_s > RECENT_S:
        _last_values(influx, site, stale, lookback_s, node, out)
    return out


def _last_values(
    influx: q.Querier, site: str, quantities: Sequence[str], window_s: int, node: str | None,
    out: dict[str, dict[str, tuple[int, float]]],
) -> dict[str, int]:
    """Fill `out` with the newest value per node of each quantity in the window; count nodes per quantity."""
    if not quantities:
        return {}
    where = f"{q.tag_equals('site', site)} AND {q.since(window_s)}"
    if node is not None:
        where += f" AND {q.tag_equals('node', node)}"
    statements = [
        f"SELECT {q.aggregate('last', name, name)} FROM {READING} WHERE {where} GROUP BY {quote_ident('node')}"
        for name in quantities
    ]
    counts: dict[str, int] = {}
    for s in influx.query(";".join(statements)):
        name = s.columns[1]
        for t, v in s.values:
            if v is not None:
                out.setdefault(s.tags.get("node", ""), {})[name] = (int(t), float(v))
                counts[name] = counts.get(name, 0) + 1
    return counts


@dataclass(slots=True)
class Series:
    key: str  # the value of the group tag (node, or site for growing-area history)
    quantity: str
    t: list[int] = field(default_factory=list)
    values: dict[str, list[float | None]] = field(default_factory=dict)


def aggregated(
    influx: q.Querier,
    sites: Sequence[str],
    quantities: Sequence[str],
    aggregates: Sequence[str],
    start_ms: int,
    end_ms: int,
    every_s: int,
    group_tag: str = "node",
    node: str | None = None,
    offset_s: int = 0,
) -> list[Series]:
    """Per `group_tag` value and quantity, one bucket per `every_s` (empty buckets left out)."""
    selects = [q.aggregate(agg, name, f"{name}__{agg}") for name in quantities for agg in aggregates]
    where = f"{q.tag_in('site', sites)} AND {q.time_between(start_ms, end_ms)}"
    if node is not None:
        where += f" AND {q.tag_equals('node', node)}"
    offset = f", {int(offset_s)}s" if offset_s else ""
    statement = (
        f"SELECT {', '.join(selects)} FROM {READING} WHERE {where} "
        f"GROUP BY time({int(every_s)}s{offset}), {quote_ident(group_tag)} fill(none)"
    )
    out: list[Series] = []
    for s in influx.query(statement):
        key = s.tags.get(group_tag, "")
        index = {c: i for i, c in enumerate(s.columns)}
        for name in quantities:
            cols = {agg: index[f"{name}__{agg}"] for agg in aggregates}
            series = Series(key, name, values={agg: [] for agg in aggregates})
            for row in s.values:
                if all(row[i] is None for i in cols.values()):
                    continue
                series.t.append(int(row[0]))
                for agg, i in cols.items():
                    v = row[i]
                    # A mean of 27.1 and 27.2 is 27.149999…; three decimals are finer than any sensor here
                    # and halve the size of a month of buckets.
                    series.values[agg].append(round(v, DECIMALS) if isinstance(v, float) else v)
            if series.t:
                out.append(series)
    return out
