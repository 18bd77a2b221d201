"""Trailing windows the rules read (analytics/aggregates.py), against sums computed by hand."""

from __future__ import annotations

import random

import pytest

from analytics.aggregates import Buckets, Missing

HOUR = 3_600_000


def test_a_24h_sum_is_the_readings_of_the_last_day_only() -> None:
    """Rain tips over two days: the 24 h sum at each reading equals a sum over the readings by hand."""
    rnd = random.Random(1)
    b = Buckets(24 * HOUR)
    seen: list[tuple[int, float]] = []
    ts = 0
    for _ in range(2 * 24 * 12):
        ts += 5 * 60_000
        v = rnd.choice([0.0, 0.0, 0.0, 0.2, 0.4])
        b.add(ts, v)
        seen.append((ts, v))
        # Buckets are 10 minutes wide: a reading counts while its bucket overlaps the last 24 h.
        start = ts - 24 * HOUR
        expected = [x for t, x in seen if t - t % 600_000 + 600_000 > start]
        assert b.sum() == pytest.approx(sum(expected), abs=1e-9)
        assert b.mean() == pytest.approx(sum(expected) / len(expected), abs=1e-9)


def test_a_dry_day_after_rain_sums_to_exactly_zero() -> None:
    """A rule `sum_24h(rain) > 0` must not fire on a rounding residue once the rain has left the window."""
    b = Buckets(24 * HOUR)
    for k in range(30):
        b.add(k * 60_000, 0.1 + 0.2 * (k % 3))
    for k in range(30, 30 + 26 * 60):
        b.add(k * 60_000, 0.0)
    assert b.sum() == 0.0


def test_an_empty_window_has_no_sum_or_mean() -> None:
    b = Buckets(HOUR)
    with pytest.raises(Missing):
        b.sum()
    with pytest.raises(Missing):
        b.mean()
