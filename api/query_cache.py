"""A short-lived cache of InfluxQL results with single flight: when fifty dashboards ask for the same
site's latest readings at once, InfluxDB answers once and the others wait for that answer.

Readings arrive every minute or so, so a few seconds of staleness costs nothing and keeps InfluxDB's
load flat however many people look. Past its time-to-live an answer is served stale for a while longer
while one request refreshes it, so no crowd ever waits behind a slow query. Keys are the full InfluxQL
text (or URL); the caller checks authorisation before asking, so a cached answer is only ever served to
someone allowed to see it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

from ruongso.influx import InfluxClient, Series

T = TypeVar("T")

STRIPES = 64


class QueryCache(Generic[T]):
    def __init__(self, ttl_s: float, max_entries: int = 512, stale_factor: float = 2.0) -> None:
        self.ttl_s = ttl_s
        # After `ttl_s` an answer is stale; for `stale_s` more it may still be served while one caller
        # refreshes it, so an answer is at most ttl_s × (1 + stale_factor) old.
        self.stale_s = ttl_s * stale_factor
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, T]] = OrderedDict()
        self._lock = threading.Lock()
        # One lock per stripe of keys: concurrent misses of one key run the query once.
        self._flight = [threading.Lock() for _ in range(STRIPES)]
        self.hits = 0
        self.misses = 0

    def peek(self, key: str) -> T | None:
        """The cached value if still fresh, else None (never computes, never waits)."""
        return self._fresh(key) if self.ttl_s > 0 else None

    def _fresh(self, key: str) -> T | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is not None and entry[0] > time.monotonic():
                self.hits += 1
                return entry[1]
        return None

    def get(self, key: str, compute: Callable[[], T]) -> T:
        if self.ttl_s <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            entry = self._data.get(key)
        if entry is not None and entry[0] > now:
            self.hits += 1
            return entry[1]
        flight = self._flight[hash(key) % STRIPES]
        if entry is not None and now < entry[0] + self.stale_s:
            # Stale but usable: one caller refreshes it, everyone else gets it at once instead of
            # queueing behind a slow InfluxDB query (stale-while-revalidate).
            if not flight.acquire(blocking=False):
                self.hits += 1
                return entry[1]
            try:
                return self._compute(key, compute)
            finally:
                flight.release()
        with flight:
            found = self._fresh(key)
            if found is not None:
                return found
            return self._compute(key, compute)

    def _compute(self, key: str, compute: Callable[[], T]) -> T:
        value = compute()
        with self._lock:
            self.misses += 1
            self._data[key] = (time.monotonic() + self.ttl_s, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)
        return value


class CachedReader:
    """The read side of InfluxClient (`query`) through a QueryCache."""

    def __init__(self, influx: InfluxClient, cache: QueryCache[list[Series]]) -> None:
        self.influx = influx
        self.cache = cache

    def query(self, q: str, epoch: str = "ms") -> list[Series]:
        return self.cache.get(f"{epoch}:{q}", lambda: self.influx.query(q, epoch))
