"""The one shape every sensor driver has, and the error a bad reading raises.

A driver turns bus traffic into named quantities (wire-format names, e.g. `water_temp`, or the
health field `battery_v`). It raises `SensorError` for anything that must not be published: CRC or
checksum failures, power-on and error sentinels, saturation, timeouts. The sampler retries, takes the
median of good samples and reports a sensor fault when no good sample is left.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol


class SensorError(Exception):
    """A reading that must not be published. `hint` tells a technician what to look at."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.hint = hint


class Driver(Protocol):
    """`read(env)` returns one sample: quantity → value.

    `env` holds the node's latest good values (e.g. `water_temp`), for drivers that compensate with
    another quantity (EZO temperature compensation, speed of sound for ultrasonic level).
    """

    @property
    def quantities(self) -> tuple[str, ...]: ...

    def read(self, env: Mapping[str, float]) -> dict[str, float]: ...

    def close(self) -> None: ...
