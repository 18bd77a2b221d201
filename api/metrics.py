"""Prometheus metrics of one app (its own CollectorRegistry, so several apps can live in one process)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


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
            "ruongso_api_influx_queries", "InfluxQL requests sent, by purpose", ["purpose"], registry=self.registry
        )
        self.control_published = Counter(
            "ruongso_api_alert_control_published", "alert-control messages, by outcome", ["outcome"],
            registry=self.registry,
        )
