"""Ingest's own figures: plain counters updated per batch by the writer thread, exposed on
Prometheus `/metrics` (read at scrape time, no per-message cost) and as the `pipeline` point."""

from __future__ import annotations

import bisect
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self, instance: str) -> None:
        self.instance = instance
        self.started = time.time()
        self.messages_in = 0
        self.points_written = 0
        self.rejected: Counter[str] = Counter()
        self.dead_letters = 0
        self.influx_errors = 0
        self.spooled_batches = 0
        self.spool_full = 0  # batches the spool had no room for (held unacknowledged instead)
        self.spool_bytes = 0
        self.spool_records = 0
        self.spool_max_bytes = 0
        self.acked = 0
        self.batches = 0
        self.batch_points = 0
        self._latency_counts = [0] * (len(LATENCY_BUCKETS_S) + 1)
        self._latency_sum = 0.0
        self._recent_latency: deque[float] = deque(maxlen=512)
        self._recent_batch: deque[int] = deque(maxlen=512)
        self.lock = threading.Lock()  # the scrape thread reads what the writer thread changes

    def batch_written(self, points: int, seconds: float) -> None:
        with self.lock:
            self.batches += 1
            self.batch_points += points
            self._latency_counts[bisect.bisect_left(LATENCY_BUCKETS_S, seconds)] += 1
            self._latency_sum += seconds
            self._recent_latency.append(seconds)
            self._recent_batch.append(points)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def pipeline_line(self, now_ms: int) -> str:
        with self.lock:
            lat = sorted(self._recent_latency)
            p95 = lat[min(len(lat) - 1, int(len(lat) * 0.95))] * 1000 if lat else 0.0
            mean = sum(self._recent_batch) / len(self._recent_batch) if self._recent_batch else 0.0
        fields = (
            f"messages_in={self.messages_in}i,points_written={self.points_written}i,"
            f"rejected={self.rejected_total}i,influx_errors={self.influx_errors}i,"
            f"spool_bytes={self.spool_bytes}i,dead_letters={self.dead_letters}i,"
            f"write_latency_ms_p95={p95:.3f},batch_size_mean={mean:.3f}"
        )
        return f"pipeline,instance={self.instance} {fields} {now_ms}"

    def snapshot(self) -> dict[str, Any]:
        return {
            "messages_in": self.messages_in,
            "points_written": self.points_written,
            "rejected": dict(self.rejected),
            "dead_letters": self.dead_letters,
            "influx_errors": self.influx_errors,
            "spool_bytes": self.spool_bytes,
            "spool_records": self.spool_records,
            "acked": self.acked,
        }

    # --- Prometheus -----------------------------------------------------------------------------

    def collect(self) -> Iterator[Any]:
        labels = ["instance"]
        inst = [self.instance]

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            c = CounterMetricFamily(f"ruongso_ingest_{name}", doc, labels=labels)
            c.add_metric(inst, value)
            return c

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            g = GaugeMetricFamily(f"ruongso_ingest_{name}", doc, labels=labels)
            g.add_metric(inst, value)
            return g

        yield counter("messages", "MQTT messages taken in", self.messages_in)
        yield counter("points_written", "reading points written to InfluxDB", self.points_written)
        rej = CounterMetricFamily("ruongso_ingest_rejected", "rejections by reason", labels=["instance", "reason"])
        for reason, n in sorted(self.rejected.items()):
            rej.add_metric([self.instance, reason], n)
        yield rej
        yield counter("dead_letters", "items written to the dead-letter store", self.dead_letters)
        yield counter("influx_errors", "failed InfluxDB write attempts", self.influx_errors)
        yield counter("spooled_batches", "batches that went to the disk spool", self.spooled_batches)
        yield counter("spool_full", "times a batch found the disk spool full and was held unacked", self.spool_full)
        yield counter("acked", "MQTT messages acknowledged to the broker", self.acked)
        yield gauge("spool_bytes", "bytes in the disk spool waiting for InfluxDB", self.spool_bytes)
        yield gauge("spool_records", "batches in the disk spool", self.spool_records)
        yield gauge("spool_max_bytes", "disk spool cap", self.spool_max_bytes)
        with self.lock:
            h = HistogramMetricFamily("ruongso_ingest_write_seconds", "InfluxDB write latency per batch",
                                      labels=labels)
            cum, buckets = 0, []
            for bound, n in zip((*LATENCY_BUCKETS_S, float("inf")), self._latency_counts, strict=True):
                cum += n
                buckets.append(("+Inf" if bound == float("inf") else repr(bound), cum))
            h.add_metric(inst, buckets, self._latency_sum)
            yield h
            yield counter("batches", "batches written", self.batches)
            yield counter("batch_points", "points in written batches", self.batch_points)


class _Collector:
    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def collect(self) -> Iterator[Any]:
        return self.metrics.collect()


def serve(metrics: Metrics, host: str, port: int) -> Any:
    """Start `/metrics` on host:port; returns the server (call `.shutdown()`)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(metrics))
    server, _thread = start_http_server(port, addr=host, registry=registry)
    return server


def instance_tag(client_id: str) -> str:
    """A tag value from the client id (tags cannot hold spaces, commas or '=')."""
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in client_id) or "ingest"

