"""Fish-pond water (temperature, dissolved oxygen, pH, depth) and rice-paddy water level (AWD).

Pond DO: photosynthesis by plankton in daylight, respiration of fish, plankton and sediment all day
and night, and exchange with the air towards saturation (APHA Cs(T), docs/agronomy.md §8.8), so DO
peaks in the late afternoon and is lowest just after dawn [NSW-DO]. Respiration rises with water
temperature (θ = 1.047 per °C, the usual Arrhenius factor of water-quality models); gross
production 3 mg/L/h at full sun, respiration 0.40 mg/L/h at 20 °C (0.34 in lightly stocked ponds
without aerators), reaeration 0.02 + 0.02·wind per hour and night aerators (quạt nước, switched on
below 3.5 mg/L; they slow the decline, so the minimum stays at dawn) are UNSOURCED ESTIMATES tuned to
give the usual 2–5 mg/L dawn and 9–15 mg/L afternoon of a fed pond in summer.
Crash nights: on a hot day (water > 26 °C, where low dawn DO is most frequent [SEAFWA79]) a pond may
suffer a plankton die-off: production collapses, decomposition adds respiration, and nobody starts the
aerators; DO falls below 2 mg/L before dawn (chance 3 %/day, UNSOURCED ESTIMATE). Each one is reported
as a farm event (`do_crash`), not a sensor fault.
pH follows photosynthesis (CO2 uptake) with a daily swing of about one unit [PH-SWING].
Water temperature lags air temperature (10 h in a ~1.5 m pond, 2 h in a paddy; UNSOURCED) and gains
from sunshine.

Paddy water level follows safe AWD [WIKI-AWD] [KN-QNAM]: re-flood to +5 cm once the level in the field
tube falls to −15 cm. Losses (ET + percolation ≈ 1 cm/day) and the specific yield 0.15 that makes
the level fall faster below the surface are UNSOURCED ESTIMATES.
"""

from __future__ import annotations

import math
import random

from simulators.models import climate
from simulators.models.soil import LaggedTemperature
from simulators.models.weather import Weather

DO_MIN = 0.2


class Pond:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.water = LaggedTemperature(10.0)
        self.depth0 = rng.uniform(120.0, 180.0)
        self.depth = self.depth0 + rng.uniform(-8.0, 3.0)
        self.ph_base = rng.uniform(7.0, 7.5)
        self.has_aerator = rng.random() < 0.6
        # Ponds without aerators are stocked more lightly: less respiration.
        self.stocking = 1.0 if self.has_aerator else 0.85
        self.plankton = rng.uniform(0.8, 1.2)
        self.do: float | None = None
        self.pumping = False
        self._day = -1
        self.crash_until_day: float = -1.0
        self.events: list[tuple[str, int, int]] = []

    def _new_day(self, day_index: int) -> None:
        self._day = day_index
        self.plankton = min(1.4, max(0.6, self.plankton + self.rng.gauss(0, 0.06)))
        hot = self.water.value is not None and self.water.value > 26.0
        if hot and self.rng.random() < 0.03:
            # Die-off from noon today until 08:00 tomorrow; the event is the night it is felt.
            self.crash_until_day = day_index + 1 + 8 / 24
            noon = int(day_index * climate.DAY_MS - climate.ICT_OFFSET_MS + 12 * 3_600_000)
            self.events.append(("do_crash", noon + 6 * 3_600_000, noon + 20 * 3_600_000))

    def step(self, ts_ms: int, dt_h: float, w: Weather, rain_mm: float) -> dict[str, float]:
        day = climate.ict_days(ts_ms)
        idx = math.floor(day)
        hour = (day - idx) * 24
        tw = self.water.step(dt_h, w.air_temp + 4.0 * w.solar, w.daily_mean + 0.5)
        noon_day = math.floor(day - 0.5)
        if noon_day != self._day:
            self._new_day(noon_day)
        cs = climate.do_saturation(tw)
        if self.do is None:
            self.do = cs * (0.6 + 0.8 * w.solar)
        crashing = day < self.crash_until_day
        production = 3.0 * w.solar * self.plankton * (0.3 if crashing else 1.0)
        respiration = 0.40 * self.stocking * 1.047 ** (tw - 20.0) * (1.3 if crashing else 1.0)
        k_air = 0.02 + 0.02 * w.wind
        if self.has_aerator and not crashing and w.solar == 0.0 and self.do < 3.5:
            # Aerators slow the night decline rather than reverse it: the minimum stays at dawn.
            k_air += 0.1
        # Sub-step so long intervals (e.g. 10 min) stay stable and smooth.
        steps = max(1, math.ceil(dt_h / 0.1))
        h = dt_h / steps
        for _ in range(steps):
            self.do += (production - respiration + k_air * (cs - self.do)) * h
            self.do = max(DO_MIN, self.do)
        self.do = min(25.0, self.do)
        ph = self.ph_base + 0.1 * (self.do - 6.0)
        # Evaporation ~5 mm/day (docs/agronomy.md §4.5) scaled by sun, seepage 3 mm/day, rain with runoff.
        self.depth -= (0.05 * w.solar / 0.35 + 0.0125) * dt_h * 1.0
        self.depth += rain_mm / 10.0 * 1.3
        if self.depth < self.depth0 - 10.0 and 7.0 <= hour < 11.0:
            self.pumping = True
        if self.pumping:
            self.depth += 5.0 * dt_h
            if self.depth >= self.depth0 or not 7.0 <= hour < 11.0:
                self.pumping = False
        self.depth = min(self.depth0 + 20.0, self.depth)
        return {
            "water_temp": tw,
            "dissolved_oxygen": self.do,
            "water_ph": min(9.6, max(6.0, ph)),
            "water_level": self.depth,
        }


class Paddy:
    SPECIFIC_YIELD = 0.15

    def __init__(self, rng: random.Random) -> None:
        self.level = rng.uniform(-10.0, 5.0)
        self.loss_cm_day = rng.uniform(0.7, 1.2)
        self.water = LaggedTemperature(2.0)
        self.flooding = False
        self.needs_water = False

    def _add_water(self, cm: float) -> None:
        if self.level >= 0:
            self.level += cm
        else:
            # Below the surface only the pores fill: the level moves 1/Sy times faster.
            below = cm / self.SPECIFIC_YIELD
            if self.level + below <= 0:
                self.level += below
            else:
                left = cm - (-self.level) * self.SPECIFIC_YIELD
                self.level = left

    def step(self, hour: float, dt_h: float, w: Weather, rain_mm: float) -> dict[str, float]:
        loss = self.loss_cm_day / 24 * dt_h * (0.5 + 1.5 * w.solar)
        self._add_water(-loss)
        self._add_water(rain_mm / 10.0)
        self.needs_water = self.needs_water or self.level <= -15.0
        in_window = 6.5 <= hour < 10.0
        if self.needs_water and in_window:
            self.flooding = True
        if self.flooding:
            self._add_water(3.0 * dt_h)
            if self.level >= 5.0 or not in_window:
                self.flooding = False
                self.needs_water = self.level < 3.0
        # Water above the bund spills over.
        self.level = max(-45.0, min(12.0, self.level))
        tw = self.water.step(dt_h, w.air_temp + 3.0 * w.solar, w.daily_mean + 0.5)
        return {"water_level": self.level, "water_temp": tw}
