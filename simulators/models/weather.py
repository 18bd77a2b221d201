"""Regional weather for the delta: temperature, dew point, cloud, sunlight, rain and wind at any instant.

Random access by time: every day's weather is drawn from its own seeded generator, so `sample(ts)`
gives the same answer whatever was asked before, and two nodes of one region see the same sky.

Diurnal air temperature: minimum at sunrise, maximum at 14:00 ICT, a sine rise between them and a
cosine fall overnight towards the next day's minimum (the usual two-segment shape of diurnal models;
the exact curve is an UNSOURCED ESTIMATE). Daily maxima and minima come from the monthly normals
(climate.py) plus a smooth anomaly (cold surges of the north-east monsoon in winter, heat spells in
summer) and a cloud-dependent diurnal range.
Humidity goes through the dew point: with no humidity data FAO-56 takes the dew point ≈ the daily
minimum temperature in humid climates (ch. 3, "ea ≈ e°(Tmin)"); the dry-season depression below Tmin
(1.5 °C Nov–Feb, 0.8 °C otherwise) is an UNSOURCED ESTIMATE.
Cloud reduces sunlight by Kasten & Czeplak (1980): 1 − 0.75·c^3.4. Clear-sky illuminance
≈ 115 000 lux · sin(elevation)^1.15 is an UNSOURCED ESTIMATE (sunlight peaks near 100–120 klux).
Rain: a day is rainy with probability rain days/days in month; events are afternoon convective showers
in May–Sep and long drizzles (mưa phùn) otherwise; the amounts keep the monthly normal on average.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from simulators.models import climate
from simulators.models.seeds import derive_seed

CLEAR_SKY_LUX = 115_000.0
_TMAX_HOUR = 14.0
# Weather changes slowly: one value per minute, shared by every node of the region, is plenty and
# saves recomputing the sky for each of hundreds of nodes in a tick.
RESOLUTION_MS = 60_000
# Rain intensity ramps up and down over this many hours, so a shower cools the air over minutes, not
# in one step (a one-step drop would look like a sensor spike).
_RAMP_H = 0.2


@dataclass(frozen=True, slots=True)
class RainEvent:
    start_day: float  # ICT days since the epoch
    hours: float
    rate_mm_h: float

    def rate_at(self, day: float) -> float:
        h = (day - self.start_day) * 24.0
        if h <= 0 or h >= self.hours:
            return 0.0
        ramp = min(_RAMP_H, self.hours / 2)
        return self.rate_mm_h * min(1.0, h / ramp, (self.hours - h) / ramp)


@dataclass(frozen=True, slots=True)
class DayWeather:
    index: int
    doy: float
    tmax: float
    tmin: float
    sunrise_h: float
    cloud: float  # 0 clear … 1 overcast
    dewpoint: float  # at 00:00; interpolated towards the next day's
    wind_mean: float
    rain: tuple[RainEvent, ...]
    cloud_phase: float


@dataclass(frozen=True, slots=True)
class Weather:
    air_temp: float
    dewpoint: float
    humidity: float
    lux: float
    solar: float  # 0 … 1, fraction of a clear noon sky
    cloud: float
    rain_mm_h: float
    wind: float
    daily_mean: float


class RegionWeather:
    """The sky over the region, drawn from `seed`."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        rng = random.Random(derive_seed(seed, "anomaly"))
        # Sum of slow waves with random phases: a smooth, random-access temperature anomaly.
        self._waves = [
            (p, a, rng.uniform(0, 2 * math.pi)) for p, a in ((3.3, 0.7), (7.1, 1.1), (15.7, 1.0), (37.0, 0.7))
        ]
        self._days: dict[int, DayWeather] = {}
        self._sample_key = -1
        self._sample: Weather | None = None
        self._rain_key = -1
        self._rain = 0.0

    # --- per day ---------------------------------------------------------------------------------

    def day(self, index: int) -> DayWeather:
        d = self._days.get(index)
        if d is None:
            if len(self._days) > 16:
                self._days.clear()
            d = self._days[index] = self._draw_day(index)
        return d

    def _anomaly(self, day: float, month: int) -> float:
        a = sum(amp * math.sin(2 * math.pi * day / period + ph) for period, amp, ph in self._waves)
        # Winter monsoon surges make December–March days more variable (UNSOURCED ESTIMATE factor).
        return a * (1.6 if month in (11, 0, 1, 2) else 1.0)

    def _draw_day(self, index: int) -> DayWeather:
        rng = random.Random(derive_seed(self.seed, "day", index))
        doy = climate.day_of_year(index)
        month = climate.month_index(doy)
        tmax_n = climate.normal(climate.T_MAX, doy)
        tmin_n = climate.normal(climate.T_MIN, doy)
        sunrise = climate.sunrise_h(doy)
        possible_sun = climate.daylength_h(doy) * climate.DAYS_IN_MONTH[month]
        cloud_mean = min(0.95, max(0.05, 1.0 - climate.SUN_HOURS[month] / possible_sun))
        k = 4.0
        cloud = rng.betavariate(cloud_mean * k, (1 - cloud_mean) * k)
        rainy = rng.random() < climate.RAIN_DAYS[month] / climate.DAYS_IN_MONTH[month]
        events: list[RainEvent] = []
        if rainy:
            cloud = max(cloud, rng.uniform(0.7, 1.0))
            mean_mm = climate.RAIN_MM[month] / climate.RAIN_DAYS[month]
            total = min(mean_mm * rng.expovariate(1.0), 6 * mean_mm + 20)
            summer = 4 <= month <= 8
            n = 1 if rng.random() < 0.7 else 2
            for _ in range(n):
                if summer:
                    start_h = rng.gauss(16.0, 3.0) % 24
                    hours = max(0.3, min(6.0, rng.expovariate(1 / 1.5)))
                else:
                    start_h = rng.uniform(0, 24)
                    hours = max(0.5, min(12.0, rng.expovariate(1 / 4.0)))
                amount = total / n
                rate = min(100.0, max(0.2, amount / max(hours - _RAMP_H, 0.1)))
                events.append(RainEvent(index + start_h / 24, hours, rate))
        range_factor = min(1.5, max(0.35, 1.0 + 0.9 * (cloud_mean - cloud)))
        mean_n = (tmax_n + tmin_n) / 2
        anomaly = self._anomaly(index + 0.5, month)
        tmax = mean_n + anomaly + (tmax_n - mean_n) * range_factor
        tmin = mean_n + anomaly - (mean_n - tmin_n) * range_factor
        depression = 1.5 if month in (10, 11, 0, 1) else 0.8
        dewpoint = tmin - depression + rng.gauss(0, 0.6)
        wind = max(0.4, rng.gammavariate(4.0, 0.5))
        return DayWeather(index, doy, tmax, tmin, sunrise, cloud, dewpoint, wind, tuple(events), rng.uniform(0, 6.3))

    # --- per instant -----------------------------------------------------------------------------

    def rain_rate(self, day: float) -> float:
        i = math.floor(day)
        return sum(e.rate_at(day) for d in (i - 1, i) for e in self.day(d).rain)

    def _rain_rate_ms(self, ts_ms: float) -> float:
        key = int(ts_ms // RESOLUTION_MS)
        if key != self._rain_key:
            self._rain_key = key
            self._rain = self.rain_rate(climate.ict_days((key + 0.5) * RESOLUTION_MS))
        return self._rain

    def rain_between(self, t0_ms: float, t1_ms: float) -> float:
        """Rain depth (mm) that fell in (t0, t1], integrated in steps of at most 5 minutes."""
        if t1_ms <= t0_ms:
            return 0.0
        steps = max(1, math.ceil((t1_ms - t0_ms) / 300_000))
        dt = (t1_ms - t0_ms) / steps
        total = 0.0
        for k in range(steps):
            mid = t0_ms + (k + 0.5) * dt
            total += self._rain_rate_ms(mid) * dt / 3_600_000
        return total

    def _base_temp(self, day: float) -> tuple[float, DayWeather]:
        i = math.floor(day)
        h = (day - i) * 24.0
        today = self.day(i)
        sr = today.sunrise_h
        if h < sr:
            prev = self.day(i - 1)
            span = sr + 24.0 - _TMAX_HOUR
            x = (h + 24.0 - _TMAX_HOUR) / span
            return today.tmin + (prev.tmax - today.tmin) * (1 + math.cos(math.pi * x**0.75)) / 2, today
        if h <= _TMAX_HOUR:
            x = (h - sr) / (_TMAX_HOUR - sr)
            return today.tmin + (today.tmax - today.tmin) * math.sin(math.pi / 2 * x), today
        nxt = self.day(i + 1)
        span = nxt.sunrise_h + 24.0 - _TMAX_HOUR
        x = (h - _TMAX_HOUR) / span
        return nxt.tmin + (today.tmax - nxt.tmin) * (1 + math.cos(math.pi * x**0.75)) / 2, today

    def sample(self, ts_ms: float) -> Weather:
        """The weather of the minute `ts_ms` falls in (every node of the region shares it)."""
        key = int(ts_ms // RESOLUTION_MS)
        if key != self._sample_key or self._sample is None:
            self._sample_key = key
            self._sample = self._sample_at((key + 0.5) * RESOLUTION_MS)
        return self._sample

    def _sample_at(self, ts_ms: float) -> Weather:
        day = climate.ict_days(ts_ms)
        i = math.floor(day)
        h = (day - i) * 24.0
        temp, today = self._base_temp(day)
        nxt = self.day(i + 1)
        dew = today.dewpoint + (nxt.dewpoint - today.dewpoint) * (h / 24.0)
        rain = self.rain_rate(day)
        wet = min(1.0, rain / 2.0)
        if wet > 0:
            # Rain cools the air towards the wet bulb and saturates it.
            temp -= 0.5 * max(0.0, temp - dew) * wet
            dew = dew + (temp - 0.3 - dew) * wet
        dew = min(dew, temp - 0.1)
        se = climate.sin_elevation(today.doy, h)
        cloud = today.cloud
        if se > 0:
            wobble = 4 * cloud * (1 - cloud) * 0.3 * math.sin(2 * math.pi * h / 0.8 + today.cloud_phase)
            c = min(1.0, max(0.0, cloud + wobble))
            solar = se**1.15 * (1 - 0.75 * c**3.4)
        else:
            solar = 0.0
        wind_mean = today.wind_mean + (nxt.wind_mean - today.wind_mean) * (h / 24.0)
        wind = wind_mean * (0.6 + 0.8 * max(0.0, se)) + 2.5 * wet
        return Weather(
            air_temp=temp,
            dewpoint=dew,
            humidity=climate.relative_humidity(temp, dew),
            lux=CLEAR_SKY_LUX * solar,
            solar=solar,
            cloud=cloud,
            rain_mm_h=rain,
            wind=wind,
            daily_mean=(today.tmax + today.tmin) / 2,
        )
