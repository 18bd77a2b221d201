"""A short-lived cache of InfluxQL results with single flight: when fifty dashboards ask for the same
site's latest readings at once, InfluxDB answers once and the others wait for that answer.

Readings arrive every minute or so, so a few seconds of staleness costs nothing and keeps InfluxDB's
load flat however many people look. Keys are the full InfluxQL text; the caller checks authorisation
before asking, so a cached answer is only ever served to someone allowed to see it.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from ruongso.influx import InfluxClient, Series

STRIPES = 64


class QueryCache:
    def __init__(self, ttl_s: float, max_entries: int = 512) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._data: OrderedDict[str, tuple[float, list[Series]]] = OrderedDict()
        self._lock = threading.Lock()
        # One lock per stripe of keys: concurrent misses of one key run the query once.
        self._flight = [threading.Lock() for _ in range(STRIPES)]
        self.hits = 0
        self.misses = 0

    def _fresh(self, key: str) -> list[Series] | None:
        with self._lock:
            entry = self._data.get(key)
            if entry is not None and entry[0] > time.monotonic():
                self.hits += 1
                return entry[1]
        return None

    def get(self, key: str, compute: Callable[[], list[Series]]) -> list[Series]:
        if self.ttl_s <= 0:
            return compute()
        found = self._fresh(key)
        if found is not None:
            return found
        with self._flight[hash(key) % STRIPES]:
            found = self._fresh(key)
            if found is not None:
                return found
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

    def __init__(self, influx: InfluxClient, cache: QueryCache) -> None:
        self.influx = influx
        self.cache = cache

    def query(self, q: str, epoch: str = "ms") -> list[Series]:
        return self.cache.get(f"{epoch}:{q}", lambda: self.influx.query(q, epoch))
