"""Forecasts: pond dissolved oxygen at sunrise from the evening decline (agronomy.md §4.1), and the
leaf-wetness run behind the rice-blast risk rule (§2.4, §8.9)."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache

from analytics.aggregates import DAY_MS, HOUR_MS, ICT_MS
from analytics.derived import DEFAULT_LAT, DEFAULT_LON, sun_times_local_h

BUCKET_MS = 600_000


def project_line(points: list[tuple[float, float]], at: float) -> float:
    """Least-squares line through (t, y) points, evaluated at `at`."""
    n = len(points)
    mt = sum(t for t, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((t - mt) ** 2 for t, _ in points)
    if sxx == 0:
        return my
    slope = sum((t - mt) * (y - my) for t, y in points) / sxx
    return my + slope * (at - mt)


def _day_of_year(ts: int) -> int:
    return _day_of_year_of((ts + ICT_MS) // DAY_MS)


@lru_cache(maxsize=64)
def _day_of_year_of(ict_day: int) -> int:
    return datetime.fromtimestamp(ict_day * DAY_MS / 1000, UTC).timetuple().tm_yday


class DoForecast:
    """10-minute DO means since sunset + 30 min; projection of their straight line to sunrise."""

    def __init__(self, lat: float = DEFAULT_LAT, lon: float = DEFAULT_LON) -> None:
        self.lat, self.lon = lat, lon
        self.night_start = -1  # ms of sunset + 30 min of the current night
        self.sunrise = 0
        self.points: list[tuple[float, float]] = []
        self._bucket = -1
        self._sum = 0.0
        self._n = 0

    def _night_of(self, ts: int) -> tuple[int, int] | None:
        """(start, sunrise) in ms of the night `ts` falls in, or None in daytime."""
        local = ts + ICT_MS
        midnight_local = local - local % DAY_MS
        hour = (local % DAY_MS) / HOUR_MS
        doy = _day_of_year(ts)
        rise_h, set_h = sun_times_local_h(self.lat, self.lon, doy)
        if hour >= set_h + 0.5:
            start = midnight_local + int((set_h + 0.5) * HOUR_MS)
            rise_next, _ = sun_times_local_h(self.lat, self.lon, doy % 365 + 1)
            sunrise = midnight_local + DAY_MS + int(rise_next * HOUR_MS)
        elif hour < rise_h:
            _, set_prev = sun_times_local_h(self.lat, self.lon, (doy - 2) % 365 + 1)
            start = midnight_local - DAY_MS + int((set_prev + 0.5) * HOUR_MS)
            sunrise = midnight_local + int(rise_h * HOUR_MS)
        else:
            return None
        return start - ICT_MS, sunrise - ICT_MS

    def add(self, ts: int, do: float) -> None:
        night = self._night_of(ts)
        if night is None:
            self.night_start, self.points, self._n = -1, [], 0
            return
        start, sunrise = night
        if start != self.night_start:
            self.night_start, self.sunrise, self.points = start, sunrise, []
            self._bucket, self._n, self._sum = -1, 0, 0.0
        b = (ts - start) // BUCKET_MS
        if b != self._bucket:
            if self._n:
                self.points.append(((self._bucket + 0.5) * BUCKET_MS / HOUR_MS, self._sum / self._n))
            self._bucket, self._sum, self._n = b, 0.0, 0
        self._sum += do
        self._n += 1

    def projection(self) -> float | None:
        """DO projected at sunrise (mg/L), once at least 3 complete 10-min means exist."""
        if len(self.points) < 3:
            return None
        return project_line(self.points, (self.sunrise - self.night_start) / HOUR_MS)


class WetRun:
    """The current leaf-wetness run: wet = leaf_wetness ≥ 50 %, or RH ≥ 90 % without a wetness sensor;
    a dry gap shorter than 1 h does not end it (§8.9). Also counts wet hours per ICT day."""

    GAP_MS = HOUR_MS

    def __init__(self) -> None:
        self.start = -1
        self.last_wet = -1
        self.t_sum = 0.0
        self.t_n = 0
        self.last_ts = -1
        self.wet_ms_today = 0
        self.day = -1
        self.closed_wet_h: tuple[int, float] | None = None

    def add(self, ts: int, wet: bool, air_temp: float | None) -> None:
        day = (ts + ICT_MS) // DAY_MS
        if day != self.day:
            if self.day >= 0:
                self.closed_wet_h = (self.day, self.wet_ms_today / HOUR_MS)
            self.day, self.wet_ms_today = day, 0
        if wet and self.last_ts >= 0 and self.last_wet == self.last_ts:
            self.wet_ms_today += min(ts - self.last_ts, self.GAP_MS)
        self.last_ts = ts
        if wet:
            if self.start < 0 or ts - self.last_wet > self.GAP_MS:
                self.start, self.t_sum, self.t_n = ts, 0.0, 0
            self.last_wet = ts
            if air_temp is not None:
                self.t_sum += air_temp
                self.t_n += 1
        elif self.start >= 0 and ts - self.last_wet > self.GAP_MS:
            self.start = -1

    def hours(self) -> float:
        return (self.last_wet - self.start) / HOUR_MS if self.start >= 0 else 0.0

    def mean_temp(self) -> float | None:
        return self.t_sum / self.t_n if self.start >= 0 and self.t_n else None
