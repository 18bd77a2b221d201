"""Vietnamese titles and Grafana units: from the quantity registry, and for derived indicators from
the `derived` row of docs/influx-schema.md (units) with the terms of docs/agronomy.md (glossary, §8)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from contract.quantities import quantity


def grafana_unit(unit: str, grafana: str) -> str:
    # Grafana has no unit for dS/m or mg/L; its `suffix:` unit shows ours rather than a bare number.
    if grafana == "none" and unit:
        return f"suffix: {unit}"
    return grafana


def quantity_title(name: str) -> str:
    q = quantity(name)
    return f"{q.label_vi} ({q.unit})" if q.unit else q.label_vi


def quantity_unit(name: str) -> str:
    q = quantity(name)
    return grafana_unit(q.unit, q.grafana_unit)


@dataclass(frozen=True, slots=True)
class Derived:
    """A field of measurement `derived`, with the quantities analytics needs to compute it."""

    name: str
    label_vi: str
    unit: str
    grafana: str
    inputs: tuple[str, ...]
    daily: bool = False

    @property
    def title(self) -> str:
        return f"{self.label_vi} ({self.unit})" if self.unit else self.label_vi

    @property
    def grafana_unit(self) -> str:
        return grafana_unit(self.unit, self.grafana)


DERIVED: Final[tuple[Derived, ...]] = (
    Derived("dew_point", "Điểm sương", "°C", "celsius", ("air_temp", "air_humidity")),
    Derived("vpd", "Thiếu hụt áp suất hơi nước (VPD)", "kPa", "pressurekpa", ("air_temp", "air_humidity")),
    Derived("thi", "Chỉ số THI", "", "none", ("air_temp", "air_humidity")),
    Derived("heat_index", "Chỉ số nóng bức", "°C", "celsius", ("air_temp", "air_humidity")),
    Derived("do_pct_sat", "Độ bão hòa oxy", "%", "percent", ("dissolved_oxygen", "water_temp")),
    Derived("gdd", "Tích ôn ngày (GDD)", "°C·d", "none", ("air_temp",), daily=True),
    Derived("leaf_wetness_h", "Số giờ lá ướt", "h", "none", ("air_humidity",), daily=True),
    Derived("et0", "Bốc thoát hơi nước chuẩn (ET0)", "mm/d", "none", ("air_temp", "air_humidity", "wind_speed"),
            daily=True),
)


def derived_for(quantities: list[str]) -> list[Derived]:
    """Indicators analytics can compute from a profile's quantities."""
    have = set(quantities)
    return [d for d in DERIVED if set(d.inputs) <= have]
