"""The app factory: `create_app(settings)` builds a FastAPI app with its own registry, InfluxDB client,
MQTT publisher and metrics; nothing happens at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import errors
from api.context import AppContext
from api.metrics import ApiMetrics
from api.middleware import RequestLog
from api.publisher import ControlPublisher
from api.query_cache import CachedReader, QueryCache
from api.routes import ack_links, alerts, fleet, health, nodes, readings, sites, tokens
from api.settings import ApiSettings
from registry.db import ConnectionPool, open_registry
from ruongso import __version__
from ruongso.influx import InfluxClient

DESCRIPTION = """Readings, alerts, fleet health, sites and node provisioning of Ruộng Số.

Authenticate with `Authorization: Bearer <token>` (tokens from `ruongso token create --role …`).
Roles: **admin** (everything), **officer** (every site; CSV export, overrides, silences), **technician**
(every site; provisioning, silences), **farmer** (only the token's sites). Errors are JSON:
`{"error": code, "message": sentence}`. Times are ms since the epoch (UTC) in responses; query parameters
take ISO 8601. See docs/api.md."""


def create_app(settings: ApiSettings, influx: InfluxClient | None = None) -> FastAPI:
    # Migrate once here, so request handlers only open connections.
    open_registry(settings.registry_url).close()
    client = influx or InfluxClient(
        settings.influx_url, settings.influx_db, settings.influx_user, settings.influx_password
    )
    metrics = ApiMetrics()
    reader = CachedReader(client, QueryCache(settings.query_cache_s))
    publisher = ControlPublisher(settings.mqtt_url, settings.mqtt_ca_file)
    pool = ConnectionPool(settings.registry_url)
    ctx = AppContext(settings, pool, client, reader, QueryCache(settings.query_cache_s),
                     QueryCache(1.0, stale_factor=0), publisher, metrics)
    metrics.watch_cache("influxql", reader.cache)
    metrics.watch_cache("response", ctx.responses)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        pool.close()
        if influx is None:
            client.close()

    app = FastAPI(title="Ruộng Số API", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.ctx = ctx
    errors.install(app)
    for module in (health, sites, nodes, readings, alerts, fleet, tokens, ack_links):
        app.include_router(module.router)
    app.add_middleware(RequestLog, metrics=metrics)
    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory` and `ruongso api serve --workers N`: settings from the environment."""
    from ruongso import logs

    settings = ApiSettings()
    logs.configure(settings.log_json, settings.log_level)
    return create_app(settings)
