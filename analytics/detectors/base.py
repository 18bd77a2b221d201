"""The one shape every detector has: `update(value, ts) -> score in [0, 1]` and `clone()`."""

from __future__ import annotations

import math
from typing import Protocol


class Detector(Protocol):
    """A streaming detector: each call sees one new value (and only the values before it)."""

    def update(self, value: float, ts: float) -> float:
        """Learn `value` observed at `ts` (seconds since the epoch); return its anomaly score in [0, 1]."""
        ...

    def clone(self) -> Detector:
        """A fresh, untrained detector with the same parameters."""
        ...


def z_to_score(z: float, z0: float = 3.0, width: float = 3.0) -> float:
    """Map a robust z (deviations in noise units) to [0, 1]: 0 up to z0, about 0.63 at z0 + width.

    Monotone and unit-free, so one alerting threshold on the score fits every stream.
    """
    if not z > z0:  # also catches NaN
        return 0.0
    return 1.0 - math.exp(-(z - z0) / width)
