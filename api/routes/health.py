"""Liveness and metrics: `/healthz` (registry and InfluxDB reachable), `/metrics` (Prometheus text)."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.deps import ContextDep, CurrentToken, RegistryDep
from api.schemas.common import MeOut
from registry.db import DatabaseError

router = APIRouter(tags=["service"])


@router.get("/healthz", summary="200 when the registry and InfluxDB answer, else 503")
def healthz(ctx: ContextDep, conn: RegistryDep) -> JSONResponse:
    try:
        conn.execute("SELECT 1").fetchone()
        registry_ok = True
    except DatabaseError:
        registry_ok = False
    # A load balancer may poll this many times a second: ping InfluxDB at most once a second.
    influx_ok = ctx.pings.get("ping", ctx.influx.ping)
    ok = registry_ok and influx_ok
    return JSONResponse({"status": "ok" if ok else "degraded", "registry": registry_ok, "influx": influx_ok},
                        status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(ctx: ContextDep) -> Response:
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)


@router.get("/me", response_model=MeOut, summary="Who this token is")
def me(token: CurrentToken) -> MeOut:
    return MeOut(id=token.id, name=token.name, role=token.role,
                 sites=sorted(token.sites) if token.role == "farmer" else None)
