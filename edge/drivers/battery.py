"""Battery voltage through a resistor divider into an ADS1115 input (published as the health field `battery_v`)."""

from __future__ import annotations

from collections.abc import Mapping

from edge.drivers.ads1115 import ADS1115Input, build_input
from edge.drivers.hardware import Hardware
from edge.drivers.options import Options


class Battery:
    quantities = ("battery_v",)

    def __init__(self, adc: ADS1115Input, divider: float) -> None:
        self.adc = adc
        self.divider = divider

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        return {"battery_v": round(self.adc.volts() * self.divider, 3)}

    def close(self) -> None:
        pass


def build(opts: Options, hw: Hardware) -> Battery:
    adc = build_input(opts, hw)
    # (R1 + R2) / R2 of the divider; 2.0 for two equal resistors on a 1-cell Li-ion.
    return Battery(adc, opts.number("divider", 2.0, 1.0, 20.0))
