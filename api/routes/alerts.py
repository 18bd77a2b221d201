"""Alerts: current (latest event per alert), history (every event), acknowledge, silence."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query

from api import windows
from api.context import AppContext
from api.deps import ContextDep, CurrentToken, InfluxDep, ReaderDep, RegistryDep, VisibleSite, require
from api.queries import alerts as aq
from api.schemas.alerts import ALERT_ID_PATTERN, AckCreate, AckInfo, AckOut, AlertOut, SilenceCreate, SilenceOut
from api.schemas.common import ERRORS
from api.schemas.enums import AlertKind, AlertState, Audience, Severity
from registry import alert_actions
from registry.alert_control import control_payload, control_topic
from registry.db import Connection, NotFound
from registry.models import Silence, Token
from ruongso.durations import parse_duration

router = APIRouter(tags=["alerts"], responses=ERRORS)
SiteQuery = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
NodeQuery = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Limit = Annotated[int, Query(ge=1, le=5000)]
Silencer = Annotated[Token, Depends(require("admin", "officer", "technician"))]
DAY_S = 86_400
ACK_LOOKBACK_MS = 30 * DAY_S * 1000


def _sites_for(token: Token, site: str | None) -> list[str] | None:
    if site is not None:
        if not token.sees(site):
            raise HTTPException(403, f"this token may not see site {site!r}")
        return [site]
    return sorted(token.sites) if token.role == "farmer" else None


def _publish(ctx: AppContext, conn: Connection, site: str) -> bool:
    ok = ctx.publisher.publish(control_topic(site), control_payload(conn, site))
    ctx.metrics.control_published.labels("ok" if ok else "failed").inc()
    return ok


@router.get("/alerts", response_model=list[AlertOut], summary="Alerts: the latest state of each alert instance")
def current_alerts(
    token: CurrentToken, conn: RegistryDep, influx: ReaderDep, ctx: ContextDep,
    site: SiteQuery = None, node: NodeQuery = None, severity: Severity | None = None, kind: AlertKind | None = None,
    audience: Audience | None = None,
    status: Annotated[Literal["open", "resolved", "all"], Query(description="open: not resolved")] = "open",
    start: datetime | None = None, end: datetime | None = None, limit: Limit = 500,
) -> list[AlertOut]:
    sites = _sites_for(token, site)
    start_ms, end_ms = windows.window(start, end, 7 * DAY_S, ctx.settings.max_range_s)
    ctx.metrics.influx_queries.labels("alerts").inc()
    rows = aq.events(influx, sites, start_ms, end_ms, node, 20_000, kind=kind and kind.value,
                     audience=audience and audience.value, severity=severity and severity.value)
    latest = aq.latest_per_alert(rows)
    if status == "open":
        latest = [r for r in latest if r.get("state") != "resolved"]
    elif status == "resolved":
        latest = [r for r in latest if r.get("state") == "resolved"]
    out = [AlertOut.from_row(r) for r in latest[:limit]]
    acks = alert_actions.acks_for(conn, [a.id for a in out])
    now = int(time.time() * 1000)
    silences: dict[str, list[Silence]] = {}
    for a in out:
        if a.id in acks:
            k = acks[a.id]
            a.acknowledged = AckInfo(by=k.acked_by, at=k.acked_ms, note=k.note)
        if a.site not in silences:
            try:
                silences[a.site] = alert_actions.silences(conn, a.site, now)
            except NotFound:
                silences[a.site] = []
        a.silenced = any(s.active(now) and (s.node is None or s.node == a.node) for s in silences[a.site])
    return out


@router.get("/alerts/history", response_model=list[AlertOut], summary="Every alert event, newest first")
def alert_history(
    token: CurrentToken, influx: ReaderDep, ctx: ContextDep,
    site: SiteQuery = None, node: NodeQuery = None, severity: Severity | None = None, kind: AlertKind | None = None,
    audience: Audience | None = None, state: AlertState | None = None,
    start: datetime | None = None, end: datetime | None = None, limit: Limit = 1000,
) -> list[AlertOut]:
    sites = _sites_for(token, site)
    start_ms, end_ms = windows.window(start, end, 30 * DAY_S, ctx.settings.max_range_s)
    ctx.metrics.influx_queries.labels("alert_history").inc()
    rows = aq.events(influx, sites, start_ms, end_ms, node, limit, kind=kind and kind.value,
                     audience=audience and audience.value, severity=severity and severity.value,
                     state=state and state.value)
    return [AlertOut.from_row(r) for r in rows if isinstance(r.get("id"), str)]


@router.post("/sites/{site}/alerts/{alert_id}/ack", response_model=AckOut, summary="Acknowledge an alert")
def acknowledge(
    site: VisibleSite, alert_id: Annotated[str, Path(pattern=ALERT_ID_PATTERN)], body: AckCreate,
    token: CurrentToken, conn: RegistryDep, influx: InfluxDep, ctx: ContextDep,
) -> AckOut:
    if not aq.exists(influx, site, alert_id, int(time.time() * 1000) - ACK_LOOKBACK_MS):
        raise HTTPException(404, f"no alert {alert_id!r} at site {site!r} in the last 30 days")
    ack = alert_actions.acknowledge(conn, site, alert_id, token.name, body.note)
    return AckOut(alert_id=alert_id, site=site, by=ack.acked_by, at=ack.acked_ms, published=_publish(ctx, conn, site))


def _silence_out(s: Silence, published: bool | None = None) -> SilenceOut:
    return SilenceOut(id=s.id, site=s.site, node=s.node, start=s.start_ms, end=s.end_ms, reason=s.reason,
                      by=s.created_by, cancelled=s.cancelled_ms, published=published)


@router.get("/sites/{site}/silences", response_model=list[SilenceOut], summary="Silences not over yet")
def list_silences(site: VisibleSite, conn: RegistryDep) -> list[SilenceOut]:
    return [_silence_out(s) for s in alert_actions.silences(conn, site)]


@router.post("/sites/{site}/silences", response_model=SilenceOut, status_code=201,
             summary="Silence a node (or the site) for a maintenance window")
def add_silence(
    site: VisibleSite, body: SilenceCreate, token: Silencer, conn: RegistryDep, ctx: ContextDep
) -> SilenceOut:
    start = body.start if body.start is not None else int(time.time() * 1000)
    if (body.end is None) == (body.duration is None):
        raise HTTPException(422, "give exactly one of end and duration")
    if body.end is not None:
        end = body.end
    else:
        try:
            end = start + int(parse_duration(body.duration or "") * 1000)
        except ValueError as exc:
            raise HTTPException(422, f"duration: {exc}") from None
    s = alert_actions.silence(conn, site, body.node, start, end, token.name, body.reason)
    return _silence_out(s, _publish(ctx, conn, site))


@router.delete("/sites/{site}/silences/{silence_id}", response_model=SilenceOut, summary="End a silence now")
def cancel_silence(
    site: VisibleSite, silence_id: Annotated[int, Path(ge=1, le=2**62)], _: Silencer, conn: RegistryDep,
    ctx: ContextDep,
) -> SilenceOut:
    s = alert_actions.get_silence(conn, silence_id)
    if s.site != site:
        raise HTTPException(404, f"no silence {silence_id} at site {site!r}")
    s = alert_actions.cancel_silence(conn, silence_id)
    return _silence_out(s, _publish(ctx, conn, site))
