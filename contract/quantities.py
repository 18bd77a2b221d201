"""The quantity registry: every measured quantity, declared once.

Units are fixed per name by wire format v1 (docs/wire-format.md). Plausible ranges are the
physical/sensor envelopes of `ruongso/reference/profiles.yaml` (`plausible_default`, widened to the
widest value any profile allows, e.g. co2 50 000 ppm for wide-range NDIR sensors in pig barns).
A value outside them is a sensor fault, never a farm condition (docs/agronomy.md §0, §11).
Most bounds are UNSOURCED engineering envelopes (agronomy.md §13); the sourced ones say so below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Quantity:
    name: str
    unit: str
    plausible_min: float
    plausible_max: float
    label_vi: str
    label_en: str
    grafana_unit: str
    # Node-health fields travel beside `m` (top level of the payload), not inside it.
    health: bool = False

    def plausible(self, value: float) -> bool:
        return self.plausible_min <= value <= self.plausible_max


_Q = Quantity

QUANTITIES: Final[dict[str, Quantity]] = {
    q.name: q
    for q in (
        # Air: record 44.2 °C in Vietnam [VN-REC]; 60 °C leaves room for sun-heated enclosures.
        _Q("air_temp", "°C", -5, 60, "Nhiệt độ không khí", "Air temperature", "celsius"),
        _Q("air_humidity", "%RH", 0, 100, "Độ ẩm không khí", "Air humidity", "humidity"),
        _Q("soil_moisture", "%VWC", 0, 70, "Độ ẩm đất", "Soil moisture", "percent"),
        _Q("soil_temp", "°C", -5, 60, "Nhiệt độ đất", "Soil temperature", "celsius"),
        _Q("soil_ec", "dS/m", 0, 20, "Độ dẫn điện đất (EC)", "Soil EC", "none"),
        _Q("soil_ph", "", 3, 11, "pH đất", "Soil pH", "none"),
        _Q("water_temp", "°C", 0, 45, "Nhiệt độ nước", "Water temperature", "celsius"),
        # Acid/alkaline death points ≈ 4 and 11 [DEATHPOINT]; 3–12 is the probe envelope.
        _Q("water_ph", "", 3, 12, "pH nước", "Water pH", "none"),
        # 30 mg/L ≈ 400 % saturation, the EZO-DO upper range [EZO-DO].
        _Q("dissolved_oxygen", "mg/L", 0, 30, "Oxy hòa tan", "Dissolved oxygen", "none"),
        # Rice: cm relative to the soil surface (negative in an AWD tube); pond: depth.
        _Q("water_level", "cm", -60, 500, "Mực nước", "Water level", "lengthcm"),
        _Q("light", "lux", 0, 150_000, "Ánh sáng", "Light", "lux"),
        # Per reading (≤ 1-min readings assumed); rules accumulate to 1 h / 24 h.
        _Q("rain", "mm", 0, 40, "Lượng mưa", "Rain", "lengthmm"),
        # ~ Beaufort 17 upper bound [VN-WIND].
        _Q("wind_speed", "m/s", 0, 60, "Tốc độ gió", "Wind speed", "velocityms"),
        # MH-Z19 ranges reach 10 000 ppm; wide-range NDIR (MH-Z14B option) 50 000 ppm [MHZ19-RANGE].
        _Q("co2", "ppm", 0, 50_000, "CO2", "CO2", "ppm"),
        # MQ-137 calibrated range [MQ137-PETRIC].
        _Q("nh3", "ppm", 0, 500, "Khí NH3", "Ammonia (air)", "ppm"),
        _Q("leaf_wetness", "%", 0, 100, "Độ ướt lá", "Leaf wetness", "percent"),
        # 1-cell Li-ion: 2.5 V absolute minimum [LIION]; 4.35 V margin above 4.2 V full (UNSOURCED).
        _Q("battery_v", "V", 2.5, 4.35, "Điện áp pin", "Battery voltage", "volt", health=True),
        # 0 or positive RSSI is a driver sentinel (agronomy.md §11).
        _Q("rssi", "dBm", -140, -10, "Cường độ tín hiệu", "Signal strength (RSSI)", "dBm", health=True),
    )
}

MEASURED: Final[frozenset[str]] = frozenset(n for n, q in QUANTITIES.items() if not q.health)
HEALTH_FIELDS: Final[tuple[str, ...]] = tuple(n for n, q in QUANTITIES.items() if q.health)


def quantity(name: str) -> Quantity:
    """The registry entry for `name`; KeyError names the unknown quantity."""
    try:
        return QUANTITIES[name]
    except KeyError:
        raise KeyError(f"unknown quantity {name!r}") from None
