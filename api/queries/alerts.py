"""Alert events from measurement `alert` (written by analytics; docs/influx-schema.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from api.queries import influxql as q
from contract.alerts import AUDIENCES, KINDS, SEVERITIES, STATES
from ruongso.influx import quote_ident, quote_literal

ALERT = quote_ident("alert")
ENUM_TAGS = {"kind": KINDS, "audience": AUDIENCES, "severity": SEVERITIES, "state": STATES}


def events(
    influx: q.Querier,
    sites: Sequence[str] | None,
    start_ms: int,
    end_ms: int,
    node: str | None = None,
    limit: int = 1000,
    **enums: str | None,
) -> list[dict[str, Any]]:
    """Alert events, newest first. `sites` None means every site; enums filter kind/audience/severity/state."""
    where = [q.time_between(start_ms, end_ms)]
    if sites is not None:
        where.append(q.tag_in("site", sites))
    if node is not None:
        where.append(q.tag_equals("node", node))
    for tag, value in enums.items():
        if value is not None:
            where.append(q.enum_equals(tag, value, ENUM_TAGS[tag]))
    statement = f"SELECT * FROM {ALERT} WHERE {' AND '.join(where)} ORDER BY time DESC LIMIT {int(limit)}"
    out: list[dict[str, Any]] = []
    for s in influx.query(statement):
        out.extend(s.rows())
    return out


def exists(influx: q.Querier, site: str, alert_id: str, since_ms: int) -> bool:
    """Whether analytics has written any event of alert `alert_id` at `site` since `since_ms`."""
    statement = (
        f"SELECT count({quote_ident('id')}) FROM {ALERT} WHERE {q.tag_equals('site', site)} "
        f"AND {quote_ident('id')} = {quote_literal(alert_id)} AND time >= {int(since_ms)}ms"
    )
    series = influx.query(statement)
    return bool(series and series[0].values and series[0].values[0][1])


def latest_per_alert(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The newest event of each alert id (rows arrive newest first)."""
    seen: dict[str, dict[str, Any]] = {}
    for r in rows:
        key = r.get("id")
        if isinstance(key, str) and key not in seen:
            seen[key] = r
    return list(seen.values())
