"""Baseline detector: exponentially weighted mean and variance (a windowed Gaussian, streaming).

Kept as the classic reference the default detector is compared with in bench/detect.py.
"""

from __future__ import annotations

import math

from analytics.detectors.base import z_to_score


class EwmaGaussian:
    def __init__(self, grace: int = 48, memory: int = 200, z0: float = 3.5) -> None:
        self.grace = grace
        self.memory = memory
        self.z0 = z0
        self.n = 0
        self.last_z = 0.0
        self._mean = 0.0
        self._var = 0.0

    def clone(self) -> EwmaGaussian:
        return EwmaGaussian(self.grace, self.memory, self.z0)

    def update(self, value: float, ts: float) -> float:
        x = float(value)
        if not math.isfinite(x):
            self.last_z = 0.0
            return 0.0
        self.n += 1
        if self.n == 1:
            self._mean = x
            self.last_z = 0.0
            return 0.0
        sd = math.sqrt(self._var)
        z = abs(x - self._mean) / max(sd, 1e-9 * (abs(x) + 1.0))
        a = 1.0 / min(self.n, self.memory)
        d = x - self._mean
        self._mean += a * d
        self._var = (1 - a) * (self._var + a * d * d)
        self.last_z = z
        if self.n <= self.grace:
            return 0.0
        return z_to_score(z, self.z0)
