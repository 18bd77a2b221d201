"""Node health: a 1-cell Li-ion battery with a small solar panel, and Wi-Fi RSSI.

Battery voltage from state of charge through an NMC open-circuit curve (4.15 V full, ~3.45 V at 10 %,
3.0 V empty; docs/agronomy.md §10 [LIION]); charging lifts the terminal voltage a little. Load
0.6 %/h and charge up to 12 %/h in full sun (panel size varies per node; about one node in ten has a
weak or dirty panel and slowly runs down) are UNSOURCED ESTIMATES. Barn nodes are on mains with a
backup cell held at float charge.
RSSI: a per-node mean between −84 and −52 dBm, slow fading (±3 dB over hours), a few dB lost in rain
and 2 dB Gaussian noise, as integers like real drivers report (UNSOURCED ESTIMATES; −67/−80/−90 dBm
are the Wi-Fi design/borderline/unusable levels [WIFI-RSSI]).
"""

from __future__ import annotations

import itertools
import math
import random

from simulators.models.noise import Noise
from simulators.models.weather import Weather

_OCV = ((0.0, 3.0), (5.0, 3.3), (10.0, 3.45), (20.0, 3.58), (40.0, 3.70), (60.0, 3.82), (80.0, 3.98), (100.0, 4.15))


def open_circuit_v(soc: float) -> float:
    for (s0, v0), (s1, v1) in itertools.pairwise(_OCV):
        if soc <= s1:
            return v0 + (v1 - v0) * (max(soc, s0) - s0) / (s1 - s0)
    return _OCV[-1][1]


class Battery:
    def __init__(self, rng: random.Random, *, mains: bool = False, shade: float = 1.0) -> None:
        self.noise = Noise(rng)
        self.mains = mains
        self.soc = 100.0 if mains else rng.uniform(55.0, 95.0)
        weak = rng.random() < 0.1
        self.charge_pct_h = (rng.uniform(0.08, 0.25) if weak else rng.uniform(0.8, 1.3)) * 12.0 * shade

    def step(self, dt_h: float, w: Weather) -> float:
        if self.mains:
            return 4.14 + self.noise.normal(0.004)
        charge = self.charge_pct_h * w.solar if self.soc < 100.0 else 0.0
        self.soc = min(100.0, max(2.0, self.soc + (charge - 0.6) * dt_h))
        lift = 0.05 * min(1.0, charge / 6.0)
        return min(4.2, open_circuit_v(self.soc) + lift + self.noise.normal(0.004))


class Radio:
    def __init__(self, rng: random.Random) -> None:
        self.noise = Noise(rng)
        self.mean = rng.uniform(-84.0, -52.0)
        self.phase = rng.uniform(0, 2 * math.pi)
        self.period_h = rng.uniform(3.0, 9.0)

    def rssi(self, hours: float, w: Weather) -> float:
        fade = 3.0 * math.sin(2 * math.pi * hours / self.period_h + self.phase)
        rain = -3.0 * min(1.0, w.rain_mm_h / 10.0)
        return float(round(max(-125.0, min(-30.0, self.mean + fade + rain + self.noise.normal(2.0)))))
