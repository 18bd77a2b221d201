"""Run every query of every board against an InfluxDB, as Grafana would, and say which return nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from dashboards.grafana_render import panel_queries, render, resolve_variables
from ruongso.influx import InfluxClient, InfluxError


@dataclass(frozen=True, slots=True)
class QueryResult:
    board: str
    panel: str
    ref_id: str
    query: str
    rows: int
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.rows > 0 and not self.error


def tag_values(client: InfluxClient, query: str) -> list[str]:
    return sorted({str(row["value"]) for s in client.query(query) for row in s.rows()})


def check_board(
    board: dict[str, Any], client: InfluxClient, from_ms: int | None = None, to_ms: int | None = None,
    interval_ms: int = 60_000,
) -> list[QueryResult]:
    to_ms = int(time.time() * 1000) if to_ms is None else to_ms
    from_ms = to_ms - 24 * 3_600_000 if from_ms is None else from_ms
    variables = resolve_variables(board, lambda q: tag_values(client, q), from_ms, to_ms, interval_ms)
    results: list[QueryResult] = []
    for pq in panel_queries(board):
        q = render(pq.query, variables, from_ms, to_ms, interval_ms)
        try:
            rows = sum(len(s.values) for s in client.query(q))
            results.append(QueryResult(board["uid"], pq.panel, pq.ref_id, q, rows))
        except InfluxError as exc:
            results.append(QueryResult(board["uid"], pq.panel, pq.ref_id, q, 0, str(exc)))
    return results
