"""Turning an I2C bus error (NACK, timeout, missing /dev/i2c-N) into a sensor fault with a hint."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from edge.drivers.base import SensorError


@contextmanager
def bus_errors(chip: str, address: int) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise SensorError(
            f"{chip} at 0x{address:02x} does not answer ({exc.strerror or exc})",
            "check wiring and address with `i2cdetect -y 1`; enable I2C with raspi-config",
        ) from None
