"""Time windows and bucket sizes from query parameters, checked before any query is built."""

from __future__ import annotations

import math
import time
from datetime import UTC, datetime

from fastapi import HTTPException

from ruongso.durations import parse_duration

# Buckets people read easily; "auto" picks the smallest giving at most TARGET_BUCKETS per series.
NICE_STEPS_S = (60, 300, 600, 900, 1800, 3600, 3 * 3600, 6 * 3600, 12 * 3600, 86_400, 7 * 86_400)
TARGET_BUCKETS = 300
MIN_EVERY_S = 10
ALIGN_MS = 10_000
EARLIEST_MS = 946_684_800_000
LATEST_MS = 4_102_444_800_000


def to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return int(value.timestamp() * 1000)
    except (OverflowError, ValueError, OSError):
        raise HTTPException(422, f"time {value.isoformat()} is out of range") from None


def window(start: datetime | None, end: datetime | None, default_span_s: int, max_span_s: int) -> tuple[int, int]:
    """(start ms, end ms): end defaults to now, start to `default_span_s` before end."""
    # A default end is rounded up to the next 10 s, so dashboards asking "the last 24 h" at nearly the
    # same moment send the same InfluxQL and share one cached answer.
    end_ms = to_ms(end) if end is not None else -(-int(time.time() * 1000) // ALIGN_MS) * ALIGN_MS
    start_ms = to_ms(start) if start is not None else end_ms - default_span_s * 1000
    for t in (start_ms, end_ms):
        if not EARLIEST_MS <= t <= LATEST_MS:
            raise HTTPException(422, "times must fall between 2000-01-01 and 2100-01-01")
    if end_ms <= start_ms:
        raise HTTPException(422, "end must be after start")
    if end_ms - start_ms > max_span_s * 1000:
        raise HTTPException(422, f"the range may span at most {max_span_s // 86_400} days")
    return start_ms, end_ms


def every_seconds(every: str | None, start_ms: int, end_ms: int) -> int:
    span_s = (end_ms - start_ms) / 1000
    if every is None or every == "auto":
        want = span_s / TARGET_BUCKETS
        return next((s for s in NICE_STEPS_S if s >= want), NICE_STEPS_S[-1])
    try:
        seconds = parse_duration(every)
    except ValueError as exc:
        raise HTTPException(422, f"every: {exc}") from None
    if not MIN_EVERY_S <= seconds <= 30 * 86_400 or seconds != int(seconds):
        raise HTTPException(422, f"every must be whole seconds between {MIN_EVERY_S} s and 30 d")
    return int(seconds)


def check_size(start_ms: int, end_ms: int, every_s: int, series: int, max_points: int) -> None:
    buckets = math.ceil((end_ms - start_ms) / 1000 / every_s)
    if buckets * max(series, 1) > max_points:
        raise HTTPException(
            422, f"{buckets} buckets × {series} series exceeds {max_points} values: use a larger `every` or range"
        )
