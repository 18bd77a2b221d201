"""Soil water bucket (drydown, rain, irrigation) and soil temperature, EC and pH at ~10 cm.

Soil water: one root-zone bucket in %VWC on the silt-loam defaults of docs/agronomy.md §3.3
(θFC 32, θWP 15 %VWC [SILT-LOAM]); evapotranspiration is cut by the FAO-56 stress coefficient
Ks = (θ − θWP)/(θrefill − θWP) below the refill point θrefill = θFC − p(θFC − θWP) [FAO56-PARTC],
so a drydown slows as the soil dries. The farmer irrigates back to just above field capacity in the
next morning or evening window once θ falls below the refill point. ET scale (peak ≈ 0.6 mm/h on a
clear noon, i.e. 3–5 mm/day), root depth 300 mm, drainage time constant 12 h and the irrigation
windows are UNSOURCED ESTIMATES.
Soil temperature at 10 cm follows air temperature through a first-order lag (6 h) and warms with sun
on bare soil; EC concentrates as the soil dries (EC·θ ≈ const); both UNSOURCED simplifications.
"""

from __future__ import annotations

import math
import random

from simulators.models.weather import Weather

FIELD_CAPACITY = 32.0
WILTING_POINT = 15.0
SATURATION = 45.0


class SoilWater:
    def __init__(
        self,
        rng: random.Random,
        *,
        p: float = 0.45,
        irrigated: bool = True,
        et_factor: float = 1.0,
        root_mm: float = 300.0,
    ) -> None:
        self.refill = FIELD_CAPACITY - p * (FIELD_CAPACITY - WILTING_POINT)
        self.irrigated = irrigated
        self.et_factor = et_factor
        self.pct_per_mm = 100.0 / root_mm
        self.theta = rng.uniform(self.refill + 1.0, FIELD_CAPACITY)
        self.target = FIELD_CAPACITY + rng.uniform(1.0, 3.0)
        self.irrigating = False
        self.needs_water = False

    def step(self, dt_h: float, hour: float, w: Weather, rain_mm: float) -> float:
        et_mm_h = 0.6 * w.solar * max(0.3, 1 + (w.air_temp - 20) / 30) * self.et_factor
        ks = min(1.0, max(0.0, (self.theta - WILTING_POINT) / (self.refill - WILTING_POINT)))
        self.theta -= et_mm_h * ks * dt_h * self.pct_per_mm
        if self.theta > FIELD_CAPACITY:
            self.theta -= (self.theta - FIELD_CAPACITY) * (1 - math.exp(-dt_h / 12.0))
        self.theta += rain_mm * self.pct_per_mm
        if self.irrigated:
            self.needs_water = self.needs_water or self.theta < self.refill
            in_window = 6.0 <= hour < 8.0 or 16.5 <= hour < 18.5
            if self.needs_water and in_window:
                self.irrigating = True
            if self.irrigating:
                # Drip/hose at ~20 mm/h: the reading rises over tens of minutes, as in the field.
                self.theta += 20.0 * dt_h * self.pct_per_mm
                if self.theta >= self.target or not in_window:
                    self.irrigating = False
                    self.needs_water = self.theta < self.refill
        self.theta = min(SATURATION, max(WILTING_POINT - 5.0, self.theta))
        return self.theta


class LaggedTemperature:
    """A temperature that follows a driving temperature with time constant `tau_h` (soil, water)."""

    def __init__(self, tau_h: float) -> None:
        self.tau_h = tau_h
        self.value: float | None = None

    def step(self, dt_h: float, target: float, initial: float) -> float:
        if self.value is None:
            self.value = initial
        else:
            self.value += (target - self.value) * (1 - math.exp(-dt_h / self.tau_h))
        return self.value


class SoilChemistry:
    """EC (dS/m) concentrating as the soil dries, and a slowly wandering pH."""

    def __init__(self, rng: random.Random, ec_range: tuple[float, float], ph_range: tuple[float, float]) -> None:
        self.ec_ref = rng.uniform(*ec_range)
        self.ph_base = rng.uniform(*ph_range)
        self.ph_phase = rng.uniform(0, 2 * math.pi)

    def ec(self, theta: float) -> float:
        return min(8.0, max(0.05, self.ec_ref * FIELD_CAPACITY / max(theta, 5.0)))

    def ph(self, day: float) -> float:
        return self.ph_base + 0.08 * math.sin(2 * math.pi * day / 9.0 + self.ph_phase)
