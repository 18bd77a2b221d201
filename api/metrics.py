"""Prometheus metrics of one app (its own CollectorRegistry, so several apps can live in one process)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from api.query_cache import QueryCache


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ruongso_api_requests", "HTTP requests by route template and status", ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ruongso_api_request_seconds", "HTTP request duration by route template", ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10), registry=self.registry,
        )
        self.influx_queries = Counter(
            "ruongso_api_influx_queries", "API requests that read InfluxDB, by purpose", ["purpose"],
            registry=self.registry,
        )
        self.control_published = Counter(
            "ruongso_api_alert_control_published", "alert-control messages, by outcome", ["outcome"],
            registry=self.registry,
        )
        self._cache_hits = Gauge("ruongso_api_cache_hits", "Answers served from a cache", ["cache"],
                                 registry=self.registry)
        self._cache_misses = Gauge("ruongso_api_cache_misses", "Answers computed (cache misses)", ["cache"],
                                   registry=self.registry)

    def watch_cache(self, name: str, cache: QueryCache[Any]) -> None:
        """Export a cache's counters (`influxql`: InfluxDB answers; `response`: finished JSON bodies)."""
        self._cache_hits.labels(name).set_function(lambda: cache.hits)
        self._cache_misses.labels(name).set_function(lambda: cache.misses)
