"""What one running app holds: settings, the InfluxDB client, the MQTT publisher, its metrics."""

from __future__ import annotations

from dataclasses import dataclass

from api.metrics import ApiMetrics
from api.publisher import ControlPublisher
from api.query_cache import CachedReader, QueryCache
from api.settings import ApiSettings
from registry.db import ConnectionPool
from ruongso.influx import InfluxClient


@dataclass(slots=True)
class AppContext:
    settings: ApiSettings
    registry: ConnectionPool
    influx: InfluxClient
    reader: CachedReader
    # Finished JSON bodies of read endpoints, keyed by the request URL (authorisation is checked first).
    responses: QueryCache[bytes]
    pings: QueryCache[bool]
    publisher: ControlPublisher
    metrics: ApiMetrics
