"""Fleet health: one row per node, registry facts joined with what InfluxDB last heard."""

from __future__ import annotations

import time
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import ContextDep, CurrentToken, ReaderDep, RegistryDep
from api.queries.fleet import fleet as fleet_query
from api.schemas.common import ERRORS
from api.schemas.fleet import NodeHealthOut
from registry.nodes import list_nodes
from registry.sites import get_site
from ruongso.durations import parse_duration

router = APIRouter(tags=["fleet"], responses=ERRORS)


@router.get("/fleet", response_model=list[NodeHealthOut], summary="Per-node health (technicians)")
def fleet(
    token: CurrentToken, conn: RegistryDep, influx: ReaderDep, ctx: ContextDep,
    site: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")] = None,
    loss_window: Annotated[str, Query(max_length=16, description="Window for loss rate, like 24h")] = "24h",
) -> list[NodeHealthOut]:
    try:
        window_s = int(parse_duration(loss_window))
    except ValueError as exc:
        raise HTTPException(422, f"loss_window: {exc}") from None
    if not 60 <= window_s <= 90 * 86_400:
        raise HTTPException(422, "loss_window must be between 1 minute and 90 days")
    if site is not None:
        if not token.sees(site):
            raise HTTPException(403, f"this token may not see site {site!r}")
        get_site(conn, site)
        sites: list[str] | None = [site]
    else:
        sites = sorted(token.sites) if token.role == "farmer" else None
    scope: list[str | None] = list(sites) if sites is not None else [None]
    registered = {(n.site, n.slug): n for s in scope for n in list_nodes(conn, s)}
    ctx.metrics.influx_queries.labels("fleet").inc()
    active = sum(1 for n in registered.values() if n.state == "active")
    heard = fleet_query(influx, sites, ctx.settings.latest_lookback_s, window_s, active)
    now = time.time() * 1000
    out = []
    for key in sorted(set(registered) | set(heard)):
        n, h = registered.get(key), heard.get(key)
        status = h.status if h else {}
        counts = h.counts if h else {}
        received, gaps = counts.get("received"), counts.get("gaps")
        total = (received or 0) + (gaps or 0)
        online = status.get("online")
        out.append(NodeHealthOut(
            site=key[0], node=key[1],
            registry_state=n.state if n else "unregistered",
            firmware=status.get("fw") or (n.firmware if n else None) or None,
            sensors=n.sensors if n else [], interval_s=n.interval_s if n else None,
            last_seen=h.last_seen if h else None,
            age_s=round((now - h.last_seen) / 1000, 1) if h and h.last_seen else None,
            battery_v=h.battery_v if h else None, rssi=h.rssi if h else None,
            online=bool(online) if online is not None else None, status_at=h.status_t if h else None,
            uptime_s=status.get("uptime_s"),
            spool_depth=int(status["spool_depth"]) if status.get("spool_depth") is not None else None,
            sensor_faults=[f for f in str(status.get("sensor_faults") or "").split(",") if f],
            received=received, gaps=gaps, loss_rate=round(gaps / total, 4) if total and gaps is not None else None,
            loss_window_s=window_s,
        ))
    return out
