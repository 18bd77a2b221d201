"""Streaming anomaly detectors, all of one shape (`update(value, ts) -> score`, `clone()`).

`DETECTORS` lists them by name; `DEFAULT` is the one `analytics score` and the live spike check use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from analytics.detectors.base import Detector, z_to_score
from analytics.detectors.ewma import EwmaGaussian
from analytics.detectors.seasonal import SeasonalRobust

DETECTORS: Final[dict[str, Callable[[], Detector]]] = {
    "seasonal": SeasonalRobust,
    "ewma": EwmaGaussian,
}
DEFAULT: Final = "seasonal"


def make(name: str = DEFAULT) -> Detector:
    try:
        return DETECTORS[name]()
    except KeyError:
        raise ValueError(f"unknown detector {name!r}; known: {', '.join(DETECTORS)}") from None


__all__ = ["DEFAULT", "DETECTORS", "Detector", "make", "z_to_score"]
