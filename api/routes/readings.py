"""Readings: latest per node and quantity, aggregated ranges, CSV export, growing-area history."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from api import windows
from api.context import AppContext
from api.deps import ContextDep, CurrentToken, ReaderDep, RegistryDep, VisibleSite, require
from api.queries import readings as rq
from api.schemas.common import ERRORS
from api.schemas.enums import Aggregate, Quantity
from api.schemas.readings import AreaHistoryOut, LatestOut, LatestValue, NodeLatest, RangeOut, RangeSeries
from contract.quantities import HEALTH_FIELDS, MEASURED, QUANTITIES
from registry.db import Connection
from registry.models import Token
from registry.nodes import list_nodes
from registry.sites import get_site, list_sites
from registry.validate import GROWING_AREA_RE
from ruongso.profiles import measured_quantities

router = APIRouter(tags=["readings"], responses=ERRORS)

NodeQuery = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="Only this node")]
Quantities = Annotated[list[Quantity] | None, Query(description="Quantities (repeat); default: the site's")]
Aggregates = Annotated[list[Aggregate] | None, Query(description="mean, min, max (repeat); default: all three")]
Start = Annotated[datetime | None, Query(description="ISO 8601 (UTC if no offset); default: end − 24 h")]
End = Annotated[datetime | None, Query(description="ISO 8601 (UTC if no offset); default: now")]
Every = Annotated[str | None, Query(max_length=16, description="Bucket, like 5m, 1h, 1d; default: auto")]
DAY_S = 86_400
# Days of traceability history start at 00:00 in Vietnam (UTC+7, no daylight saving).
ICT_OFFSET_S = 17 * 3600


def site_quantities(conn: Connection, site: str) -> list[str]:
    """What the site's active nodes measure (their sensors), or else what its profile measures."""
    found: list[str] = []
    for n in list_nodes(conn, site, "active"):
        found += [q for q in n.sensors if q not in found]
    return found or measured_quantities(get_site(conn, site).profile)


def _chosen(conn: Connection, site: str, quantities: list[Quantity] | None) -> list[str]:
    return [q.value for q in quantities] if quantities else site_quantities(conn, site)


async def cached_json(ctx: AppContext, request: Request, build: Callable[[], BaseModel]) -> Response:
    """The endpoint's JSON, built once per cache window for identical URLs (readings change every minute;
    fifty dashboards on one site then cost one query and one serialisation). A hit is answered on the
    event loop; a miss queries InfluxDB in the thread pool."""
    key = str(request.url)
    body = ctx.responses.peek(key)
    if body is None:
        body = await run_in_threadpool(ctx.responses.get, key, lambda: build().model_dump_json().encode())
    return Response(body, media_type="application/json")


@router.get("/sites/{site}/readings/latest", response_model=LatestOut, summary="Latest value per node and quantity")
async def latest(
    site: VisibleSite, conn: RegistryDep, influx: ReaderDep, ctx: ContextDep, request: Request,
    quantity: Quantities = None, node: NodeQuery = None,
) -> Response:
    return await cached_json(ctx, request, lambda: _latest(site, conn, influx, ctx, quantity, node))


def _latest(
    site: str, conn: Connection, influx: ReaderDep, ctx: AppContext, quantity: list[Quantity] | None,
    node: str | None,
) -> LatestOut:
    names = _chosen(conn, site, quantity)
    if not quantity:
        names += list(HEALTH_FIELDS)
    ctx.metrics.influx_queries.labels("latest").inc()
    expected = len(list_nodes(conn, site, "active"))
    found = rq.latest(influx, site, names, ctx.settings.latest_lookback_s, node, expected)
    nodes = [
        NodeLatest(
            node=n,
            values=[LatestValue(quantity=name, value=found[n][name][1], unit=QUANTITIES[name].unit,
                                t=found[n][name][0]) for name in names if name in found[n]],
        )
        for n in sorted(found)
    ]
    return LatestOut(site=site, nodes=nodes)


def _range(
    conn: Connection, influx: ReaderDep, ctx: AppContext, site: str, quantity: list[Quantity] | None,
    agg: list[Aggregate] | None, start: datetime | None, end: datetime | None, every: str | None, node: str | None,
) -> tuple[int, int, int, list[str], list[rq.Series]]:
    names = _chosen(conn, site, quantity)
    aggs = [a.value for a in agg] if agg else ["mean", "min", "max"]
    start_ms, end_ms = windows.window(start, end, DAY_S, ctx.settings.max_range_s)
    every_s = windows.every_seconds(every, start_ms, end_ms)
    n_nodes = 1 if node else max(len(list_nodes(conn, site)), 1)
    windows.check_size(start_ms, end_ms, every_s, n_nodes * len(names) * len(aggs), ctx.settings.max_points)
    ctx.metrics.influx_queries.labels("range").inc()
    series = rq.aggregated(influx, [site], names, aggs, start_ms, end_ms, every_s, "node", node)
    return start_ms, end_ms, every_s, aggs, series


@router.get("/sites/{site}/readings", response_model=RangeOut, summary="Aggregated readings over a time range")
async def readings_range(
    site: VisibleSite, conn: RegistryDep, influx: ReaderDep, ctx: ContextDep, request: Request,
    quantity: Quantities = None, agg: Aggregates = None, start: Start = None, end: End = None,
    every: Every = None, node: NodeQuery = None,
) -> Response:
    def build() -> RangeOut:
        start_ms, end_ms, every_s, _, series = _range(conn, influx, ctx, site, quantity, agg, start, end, every,
                                                      node)
        return RangeOut(
            site=site, start=start_ms, end=end_ms, every_s=every_s,
            series=[_series(s, "node") for s in series],
        )

    return await cached_json(ctx, request, build)


def _series(s: rq.Series, key: str) -> RangeSeries:
    return RangeSeries.model_validate(
        {key: s.key, "quantity": s.quantity, "unit": QUANTITIES[s.quantity].unit, "t": s.t, **s.values}
    )


def _csv_rows(aggs: list[str], series: list[rq.Series]) -> Iterator[str]:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["time_utc", "node", "quantity", "unit", *aggs])
    for s in sorted(series, key=lambda s: (s.key, s.quantity)):
        unit = QUANTITIES[s.quantity].unit
        for i, t in enumerate(s.t):
            when = datetime.fromtimestamp(t / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            writer.writerow([when, s.key, s.quantity, unit, *(s.values[a][i] for a in aggs)])
        yield buf.getvalue()
        buf.seek(0)
        buf.truncate()
    yield buf.getvalue()


@router.get(
    "/sites/{site}/readings.csv", summary="Aggregated readings as CSV (officers)",
    response_class=StreamingResponse, responses={200: {"content": {"text/csv": {}}}},
)
def readings_csv(
    site: VisibleSite, conn: RegistryDep, influx: ReaderDep, ctx: ContextDep,
    _: Annotated[Token, Depends(require("admin", "officer"))],
    quantity: Quantities = None, agg: Aggregates = None, start: Start = None, end: End = None,
    every: Every = None, node: NodeQuery = None,
) -> StreamingResponse:
    start_ms, end_ms, _e, aggs, series = _range(conn, influx, ctx, site, quantity, agg, start, end, every, node)
    name = f"{site}_{start_ms}_{end_ms}.csv"
    return StreamingResponse(
        _csv_rows(aggs, series), media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get(
    "/growing-areas/{code}/history", response_model=AreaHistoryOut,
    summary="Daily environmental history of a growing area (traceability)",
)
def area_history(
    code: Annotated[str, Path(pattern=GROWING_AREA_RE.pattern, description="Growing-area code")],
    token: CurrentToken, conn: RegistryDep, influx: ReaderDep, ctx: ContextDep,
    quantity: Quantities = None, agg: Aggregates = None, start: Start = None, end: End = None,
    every: Annotated[str | None, Query(max_length=16, description="Bucket; default 1d (days start 00:00 ICT)")] = None,
) -> AreaHistoryOut:
    all_sites = list_sites(conn, growing_area_code=code)
    if not all_sites:
        raise HTTPException(404, f"no site has growing-area code {code!r}")
    sites = [s for s in all_sites if token.sees(s.slug)]
    if not sites:
        raise HTTPException(403, f"this token may not see any site of growing area {code!r}")
    if quantity:
        names = [q.value for q in quantity]
    else:
        names = []
        for s in sites:
            names += [q for q in site_quantities(conn, s.slug) if q not in names and q in MEASURED]
    aggs = [a.value for a in agg] if agg else ["mean", "min", "max"]
    start_ms, end_ms = windows.window(start, end, 30 * DAY_S, ctx.settings.max_range_s)
    every_s = windows.every_seconds(every or "1d", start_ms, end_ms)
    windows.check_size(start_ms, end_ms, every_s, len(sites) * len(names) * len(aggs), ctx.settings.max_points)
    ctx.metrics.influx_queries.labels("area_history").inc()
    offset = ICT_OFFSET_S % every_s if every_s >= DAY_S else 0
    series = rq.aggregated(influx, [s.slug for s in sites], names, aggs, start_ms, end_ms, every_s, "site",
                           offset_s=offset)
    return AreaHistoryOut(
        growing_area_code=code, sites=[s.slug for s in sites], start=start_ms, end=end_ms, every_s=every_s,
        series=[_series(s, "site") for s in series],
    )
