"""Capacitive soil-moisture probe (v1.2/v2.0) through an ADS1115 input, with two-point calibration.

The probe's voltage falls as the soil gets wetter (e.g. ~2.3 V in air, ~0.7 V in water; board-specific,
docs/agronomy.md §9). Two readings taken in the field's own soil — dry and wet, each with its %VWC from
a gravimetric sample — give the straight line to %VWC. A voltage far outside the two points means a
disconnected or faulty probe, not a soil condition.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.drivers.ads1115 import ADS1115Input, build_input
from edge.drivers.base import SensorError
from edge.drivers.hardware import Hardware
from edge.drivers.options import Options

# How far past the calibration points (as a fraction of the span) a reading may go before it is a fault.
MARGIN = 0.25


class SoilMoisture:
    quantities = ("soil_moisture",)

    def __init__(self, adc: ADS1115Input, dry: tuple[float, float], wet: tuple[float, float]) -> None:
        self.adc = adc
        self.dry_v, self.dry_vwc = dry
        self.wet_v, self.wet_vwc = wet

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        v = self.adc.volts()
        fraction = (self.dry_v - v) / (self.dry_v - self.wet_v)
        if not -MARGIN <= fraction <= 1 + MARGIN:
            raise SensorError(
                f"probe voltage {v:.3f} V is far outside its calibration ({self.wet_v} V wet … {self.dry_v} V dry)",
                "probe disconnected, out of the soil or faulty (missing 1 MΩ resistor, NE555 at 3.3 V)",
            )
        vwc = self.dry_vwc + fraction * (self.wet_vwc - self.dry_vwc)
        return {"soil_moisture": round(max(0.0, vwc), 2)}

    def close(self) -> None:
        pass


def build(opts: Options, hw: Hardware) -> SoilMoisture:
    adc = build_input(opts, hw)
    dry = (opts.number("dry_volts", lo=0, hi=6.144), opts.number("dry_vwc", 0.0, 0, 100))
    wet = (opts.number("wet_volts", lo=0, hi=6.144), opts.number("wet_vwc", lo=0, hi=100))
    if dry[0] <= wet[0]:
        raise opts.error("dry_volts", f"{dry[0]} V must be above wet_volts {wet[0]} V (the voltage falls as soil wets)")
    if dry[1] >= wet[1]:
        raise opts.error("wet_vwc", f"{wet[1]} %VWC must be above dry_vwc {dry[1]}")
    return SoilMoisture(adc, dry, wet)
