"""Leaf wetness, and the microclimate inside a net house (nhà lưới / nhà màng).

Leaves wet up within minutes in rain or dew (RH ≥ 93 %) and dry within about 20 minutes in sun and
an hour at night (UNSOURCED ESTIMATES; dew forms at high RH near dawn, cf. the RH ≥ 90 % wetness
proxy [SENTELHAS]). A net house traps some heat and moisture in sun (+3.5 °C and +1 °C dew point at
full sun), shades light to 65 % and, with plants photosynthesising, draws CO2 a little below ambient
by day and lets respiration raise it at night (docs/agronomy.md §3.5; magnitudes UNSOURCED).
"""

from __future__ import annotations

import math

from simulators.models import climate
from simulators.models.weather import Weather

NET_HOUSE_LIGHT = 0.65


class LeafWetness:
    def __init__(self) -> None:
        self.value = 0.0

    def step(self, dt_h: float, w: Weather, humidity: float, *, sheltered: bool = False) -> float:
        wet = (w.rain_mm_h > 0.05 and not sheltered) or humidity >= 93.0
        target = 100.0 if wet else 0.0
        tau_h = 0.1 if wet else (0.33 if w.solar > 0.2 else 1.0)
        self.value += (target - self.value) * (1 - math.exp(-dt_h / tau_h))
        return self.value


def net_house_air(w: Weather) -> tuple[float, float]:
    """Inside air temperature and relative humidity."""
    t = w.air_temp + 3.5 * w.solar
    dew = min(t - 0.3, w.dewpoint + 1.0 * w.solar)
    return t, climate.relative_humidity(t, dew)


def net_house_co2(w: Weather, base: float) -> float:
    return base + 120.0 * (1.0 - min(1.0, w.solar * 4)) - 60.0 * w.solar
