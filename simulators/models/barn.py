"""Closed pig and poultry barns: temperature, humidity, CO2 and NH3 under controlled ventilation.

Animals add heat, moisture, CO2 and (from manure) NH3; ventilation dilutes all four in proportion to
the air exchange. The controller keeps curtains nearly shut below its set point and runs fans up to
full speed over the next 4 °C; at night the minimum ventilation is lower, so NH3 and CO2 peak at night
[NH3-NIGHT]. Cooling pads (common in closed barns in Vietnam) cool the supply air towards the
wet bulb when it is hot outside. Pig pens are scraped twice a day; poultry litter builds up over a
42-day flock. Source strengths, set points, pad efficiency and the 20-minute thermal lag are
UNSOURCED ESTIMATES chosen to give typical levels (CO2 600–3500 ppm, NH3 1–20 ppm) within the
profile bands of docs/agronomy.md §5–6.
"""

from __future__ import annotations

import math
import random

from simulators.models import climate
from simulators.models.soil import LaggedTemperature
from simulators.models.weather import Weather

_SPECS = {
    # heat (°C·ach), moisture (°C dew point·ach), CO2 (ppm·ach), NH3 (ppm·ach), set point °C
    "pig_barn": (6.0, 3.0, 1800.0, 9.0, 24.0),
    "poultry_barn": (5.0, 2.5, 1300.0, 6.0, 25.0),
}
V_MAX = 8.0


class Barn:
    def __init__(self, profile_id: str, rng: random.Random) -> None:
        self.kind = profile_id
        heat, moist, co2, nh3, setpoint = _SPECS[profile_id]
        scale = rng.uniform(0.8, 1.2)  # stocking density
        self.heat, self.moist, self.co2, self.nh3 = heat * scale, moist * scale, co2 * scale, nh3 * scale
        self.setpoint = setpoint + rng.uniform(-1.0, 1.0)
        self.flock_offset = rng.uniform(0, 42)
        self.inside = LaggedTemperature(1 / 3)

    def _ventilation(self, supply: float, v_min: float) -> float:
        def excess(v: float) -> float:
            t_in = supply + self.heat / v
            return t_in - (self.setpoint + 4.0 * (v - v_min) / (V_MAX - v_min))

        if excess(v_min) <= 0:
            return v_min
        if excess(V_MAX) >= 0:
            return V_MAX
        lo, hi = v_min, V_MAX
        for _ in range(14):
            mid = (lo + hi) / 2
            if excess(mid) > 0:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2

    def _manure(self, day: float) -> float:
        if self.kind == "pig_barn":
            hour = (day - math.floor(day)) * 24
            since = hour - 7.0 if 7.0 <= hour < 16.0 else (hour - 16.0) % 24
            return 0.6 + 0.6 * min(1.0, since / 15.0)
        return 0.5 + 1.5 * ((day + self.flock_offset) % 42) / 42

    def step(self, ts_ms: int, dt_h: float, w: Weather) -> dict[str, float]:
        day = climate.ict_days(ts_ms)
        supply, supply_dew = w.air_temp, w.dewpoint
        if w.air_temp > 28.0:
            wet_bulb = w.dewpoint + (w.air_temp - w.dewpoint) / 3  # rough, within ~1 °C in the humid tropics
            supply = w.air_temp - 0.75 * (w.air_temp - wet_bulb)
            supply_dew = min(supply - 1.5, w.dewpoint + 0.8 * (w.air_temp - supply))
        v_min = 0.6 if w.solar == 0.0 else 1.0
        v = self._ventilation(supply, v_min)
        t_in = self.inside.step(dt_h, supply + self.heat / v, supply + self.heat / v)
        dew = min(t_in - 0.3, supply_dew + self.moist / v)
        nh3 = self.nh3 * self._manure(day) * (1 + 0.04 * (t_in - 20.0)) / v
        return {
            "air_temp": t_in,
            "air_humidity": climate.relative_humidity(t_in, dew),
            "co2": 420.0 + self.co2 / v,
            "nh3": max(0.0, nh3),
        }
