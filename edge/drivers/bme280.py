"""Bosch BME280 air temperature and humidity over I2C, forced mode, datasheet integer compensation.

Chip id (0xD0) must be 0x60: a BMP280 (0x56–0x58) sold as a BME280 has no humidity sensor
(docs/agronomy.md §9). ctrl_hum (0xF2) only takes effect after ctrl_meas (0xF4) is written, so it is
written first. Pressure is measured by the chip but not published: wire format v1 has no quantity for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from edge.drivers.base import SensorError
from edge.drivers.hardware import Hardware
from edge.drivers.i2c_errors import bus_errors
from edge.drivers.options import Options

CHIP_ID_REG = 0xD0
BME280_ID = 0x60
CTRL_HUM, STATUS, CTRL_MEAS, DATA = 0xF2, 0xF3, 0xF4, 0xF7
HUM_X1 = 0x01
MEAS_FORCED_T1_P1 = (0b001 << 5) | (0b001 << 2) | 0b01
SKIPPED_T, SKIPPED_H = 0x80000, 0x8000


@dataclass(frozen=True, slots=True)
class Calibration:
    t1: int
    t2: int
    t3: int
    h1: int
    h2: int
    h3: int
    h4: int
    h5: int
    h6: int

    @classmethod
    def parse(cls, block1: bytes, h1: int, block2: bytes) -> Calibration:
        """block1 = 0x88..0x8D (T1..T3), h1 = 0xA1, block2 = 0xE1..0xE7."""

        def u16(b: bytes, i: int) -> int:
            return int.from_bytes(b[i : i + 2], "little")

        def s16(b: bytes, i: int) -> int:
            return int.from_bytes(b[i : i + 2], "little", signed=True)

        def s12(v: int) -> int:
            return v - 4096 if v & 0x800 else v

        e4, e5, e6 = block2[3], block2[4], block2[5]
        return cls(
            t1=u16(block1, 0), t2=s16(block1, 2), t3=s16(block1, 4),
            h1=h1, h2=s16(block2, 0), h3=block2[2],
            h4=s12((e4 << 4) | (e5 & 0x0F)), h5=s12((e6 << 4) | (e5 >> 4)),
            h6=int.from_bytes(block2[6:7], "little", signed=True),
        )  # fmt: skip


def compensate_t(adc_t: int, c: Calibration) -> tuple[float, int]:
    """Datasheet BME280_compensate_T_int32: (°C, t_fine)."""
    var1 = (((adc_t >> 3) - (c.t1 << 1)) * c.t2) >> 11
    var2 = (((((adc_t >> 4) - c.t1) * ((adc_t >> 4) - c.t1)) >> 12) * c.t3) >> 14
    t_fine = var1 + var2
    return ((t_fine * 5 + 128) >> 8) / 100.0, t_fine


def compensate_h(adc_h: int, t_fine: int, c: Calibration) -> float:
    """Datasheet bme280_compensate_H_int32: %RH."""
    x = t_fine - 76800
    a = (((adc_h << 14) - (c.h4 << 20) - (c.h5 * x)) + 16384) >> 15
    b = ((((((x * c.h6) >> 10) * (((x * c.h3) >> 11) + 32768)) >> 10) + 2097152) * c.h2 + 8192) >> 14
    v = a * b
    v = v - (((((v >> 15) * (v >> 15)) >> 7) * c.h1) >> 4)
    v = min(max(v, 0), 419430400)
    return (v >> 12) / 1024.0


class BME280:
    quantities = ("air_temp", "air_humidity")

    def __init__(self, hw: Hardware, bus: int, address: int) -> None:
        self.hw = hw
        self.bus_number = bus
        self.address = address
        self._cal: Calibration | None = None

    def _read_reg(self, reg: int, n: int) -> bytes:
        bus = self.hw.i2c_bus(self.bus_number)
        bus.write(self.address, bytes([reg]))
        data = bus.read(self.address, n)
        if len(data) != n:
            raise SensorError(f"BME280 returned {len(data)} bytes, expected {n}")
        return data

    def _calibration(self) -> Calibration:
        if self._cal is None:
            chip = self._read_reg(CHIP_ID_REG, 1)[0]
            if chip in (0x56, 0x57, 0x58):
                raise SensorError(
                    f"chip id 0x{chip:02x} is a BMP280: no humidity sensor", "replace with a genuine BME280"
                )
            if chip != BME280_ID:
                raise SensorError(f"chip id 0x{chip:02x} is not a BME280 (0x60)", "wrong address or another chip")
            self._cal = Calibration.parse(self._read_reg(0x88, 6), self._read_reg(0xA1, 1)[0], self._read_reg(0xE1, 7))
        return self._cal

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        with bus_errors("BME280", self.address):
            cal = self._calibration()
            bus = self.hw.i2c_bus(self.bus_number)
            bus.write(self.address, bytes([CTRL_HUM, HUM_X1]))
            bus.write(self.address, bytes([CTRL_MEAS, MEAS_FORCED_T1_P1]))
            self.hw.sleep(0.010)
            for _ in range(10):
                if not self._read_reg(STATUS, 1)[0] & 0x08:
                    break
                self.hw.sleep(0.002)
            else:
                raise SensorError("BME280 measurement did not finish", "power-cycle the sensor")
            d = self._read_reg(DATA, 8)
        adc_t = (d[3] << 12) | (d[4] << 4) | (d[5] >> 4)
        adc_h = (d[6] << 8) | d[7]
        if adc_t == SKIPPED_T or adc_h == SKIPPED_H:
            raise SensorError(
                "BME280 returned the 'measurement skipped' value", "sensor reset mid-read: check the supply"
            )
        t, t_fine = compensate_t(adc_t, cal)
        return {"air_temp": t, "air_humidity": round(compensate_h(adc_h, t_fine, cal), 2)}

    def close(self) -> None:
        pass


def build(opts: Options, hw: Hardware) -> BME280:
    address = opts.i2c_address("address", 0x76, (0x76, 0x77))
    return BME280(hw, opts.integer("bus", 1, 0, 31), address)
