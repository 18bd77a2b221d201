"""Per-(node, quantity) aggregates the rules compare with (profiles.yaml `conventions.aggregates`).

Times are integer milliseconds (wire `ts`); calendar boundaries are ICT (UTC+7, no DST). Trailing
windows up to 1 h keep every reading; longer ones keep 10-minute buckets, so a node's memory stays
small however often it reports.
"""

from __future__ import annotations

import math
from collections import deque

HOUR_MS = 3_600_000
DAY_MS = 86_400_000
ICT_MS = 7 * HOUR_MS


def ict_day(ts: int) -> int:
    return (ts + ICT_MS) // DAY_MS


def ict_hour(ts: int) -> int:
    return ((ts + ICT_MS) % DAY_MS) // HOUR_MS


class Missing(LookupError):
    """The value a rule asked for is not known (yet): the rule is neither true nor false."""


class Window:
    """Every reading of the trailing `span_ms`, with a running sum."""

    __slots__ = ("items", "span", "total")

    def __init__(self, span_ms: int) -> None:
        self.span = span_ms
        self.items: deque[tuple[int, float]] = deque()
        self.total = 0.0

    def add(self, ts: int, v: float) -> None:
        self.items.append((ts, v))
        self.total += v
        self.trim(ts)

    def trim(self, now: int) -> None:
        items, edge = self.items, now - self.span
        while items and items[0][0] <= edge:
            self.total -= items.popleft()[1]
        if not items:
            self.total = 0.0

    def mean(self) -> float:
        if not self.items:
            raise Missing("no reading in the window")
        return self.total / len(self.items)

    def max(self) -> float:
        if not self.items:
            raise Missing("no reading in the window")
        return max(v for _, v in self.items)


class Buckets:
    """Trailing `span_ms` as fixed buckets of (start, sum, count): for 8 h and 24 h windows."""

    __slots__ = ("count", "items", "span", "total", "width")

    def __init__(self, span_ms: int, width_ms: int = 600_000) -> None:
        self.span = span_ms
        self.width = width_ms
        self.items: deque[list[float]] = deque()
        # Running sum and count of the buckets: rules read them every reading, over up to 288 buckets.
        self.total = 0.0
        self.count = 0

    def add(self, ts: int, v: float) -> None:
        start = ts - ts % self.width
        items = self.items
        if items and items[-1][0] == start:
            items[-1][1] += v
            items[-1][2] += 1
        else:
            items.append([start, v, 1])
        self.total += v
        self.count += 1
        edge = ts - self.span
        dropped = False
        while items and items[0][0] + self.width <= edge:
            self.count -= int(items.popleft()[2])
            dropped = True
        if dropped:
            # Summed afresh when a bucket leaves, not subtracted: no rounding residue (a dry day's rain is 0).
            self.total = math.fsum(b[1] for b in items)

    def sum(self) -> float:
        if not self.items:
            raise Missing("no reading in the window")
        return self.total

    def mean(self) -> float:
        if not self.count:
            raise Missing("no reading in the window")
        return self.total / self.count


class Daily:
    """Running statistics of the current ICT day, and the last closed day's."""

    __slots__ = ("closed", "day", "hi", "lo", "n", "total")

    def __init__(self) -> None:
        self.day = -1
        self.n = 0
        self.total = 0.0
        self.lo = float("inf")
        self.hi = float("-inf")
        self.closed: tuple[int, int, float, float, float] | None = None  # day, n, mean, lo, hi

    def add(self, ts: int, v: float) -> tuple[int, int, float, float, float] | None:
        """Add a reading; return the day just closed when this reading starts a new day."""
        d = ict_day(ts)
        just_closed = None
        if d != self.day:
            if d < self.day:
                return None  # a late reading of a closed day: the day's figures are out already
            if self.n:
                self.closed = (self.day, self.n, self.total / self.n, self.lo, self.hi)
                just_closed = self.closed
            self.day, self.n, self.total, self.lo, self.hi = d, 0, 0.0, float("inf"), float("-inf")
        self.n += 1
        self.total += v
        self.lo = min(self.lo, v)
        self.hi = max(self.hi, v)
        return just_closed


class Night:
    """Mean from 18:00 to 06:00 ICT of the last complete night (rule function `night_mean`)."""

    __slots__ = ("closed", "n", "night", "total")

    def __init__(self) -> None:
        self.night = -1
        self.n = 0
        self.total = 0.0
        self.closed: float | None = None

    def add(self, ts: int, v: float) -> None:
        local = ts + ICT_MS
        hour = (local % DAY_MS) // HOUR_MS
        night = (local - 18 * HOUR_MS) // DAY_MS if (hour >= 18 or hour < 6) else None
        if night != self.night and self.n and (night is None or night > self.night):
            self.closed = self.total / self.n
            self.n, self.total = 0, 0.0
        if night is not None:
            if night != self.night:
                self.n, self.total = 0, 0.0
            self.night = night
            self.n += 1
            self.total += v


# Which windows each aggregate function of the rules reads.
WINDOWS_OF: dict[str, str] = {
    "mean_10min": "w10", "mean_1h": "w60", "max_1h": "w60", "sum_1h": "w60", "twa_8h": "b8h",
    "sum_24h": "b24h", "mean_48h": "b48h", "night_mean": "night", "daily_mean": "daily", "daily_min": "daily",
    "daily_max": "daily", "outside": "daily",  # outside() reads only the outdoor node's last value
}


class Series:
    """The aggregates of one (node, quantity) that its site's rules read, fed with the readings that
    passed the fault checks. `windows` names them (WINDOWS_OF values); the others stay empty."""

    __slots__ = ("b8h", "b24h", "b48h", "daily", "last", "last_ts", "night", "updates", "w10", "w60")

    def __init__(self, windows: frozenset[str] = frozenset(WINDOWS_OF.values())) -> None:
        self.last: float | None = None
        self.last_ts = 0
        self.w10 = Window(600_000)
        self.w60 = Window(HOUR_MS)
        self.b8h = Buckets(8 * HOUR_MS)
        self.b24h = Buckets(24 * HOUR_MS)
        self.b48h = Buckets(48 * HOUR_MS, 1_800_000)
        self.daily = Daily()
        self.night = Night()
        self.updates = [getattr(self, w).add for w in sorted(windows) if w != "daily"]

    def add(self, ts: int, v: float) -> tuple[int, int, float, float, float] | None:
        if ts < self.last_ts - HOUR_MS:
            return None  # a replay from long ago says nothing about now
        if ts >= self.last_ts:
            self.last, self.last_ts = v, ts
        for update in self.updates:
            update(ts, v)
        # The day's figures also feed the daily derived indicators, so they are always kept.
        return self.daily.add(ts, v)
