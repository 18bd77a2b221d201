"""Sensirion SHT3x (SHT31) and SHT4x air temperature/humidity over I2C.

Both answer a measurement command with 6 bytes: T(2) CRC, RH(2) CRC, CRC-8 poly 0x31 init 0xFF.
SHT3x: single shot, high repeatability, no clock stretching `0x24 0x00`, ≤ 15 ms; SHT4x: `0xFD`,
≤ 8.3 ms. T = −45 + 175·S/65535; RH = 100·S/65535 (SHT3x) or −6 + 125·S/65535 clipped (SHT4x).
SHT4x raw 0x8000/0x8000 after ESD is a fault pattern (docs/agronomy.md §9, §11).
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.drivers.base import SensorError
from edge.drivers.crc import sensirion_crc8
from edge.drivers.hardware import Hardware
from edge.drivers.i2c_errors import bus_errors
from edge.drivers.options import Options


def split_words(frame: bytes, chip: str) -> tuple[int, int]:
    if len(frame) != 6:
        raise SensorError(f"{chip} returned {len(frame)} bytes, expected 6")
    for i in (0, 3):
        if sensirion_crc8(frame[i : i + 2]) != frame[i + 2]:
            raise SensorError(f"{chip} CRC mismatch", "electrical noise on the I2C lines: shorten or shield the cable")
    return int.from_bytes(frame[0:2], "big"), int.from_bytes(frame[3:5], "big")


class SensirionTH:
    chip = "SHT3x"
    command = b"\x24\x00"
    wait_s = 0.015
    quantities = ("air_temp", "air_humidity")

    def __init__(self, hw: Hardware, bus: int, address: int) -> None:
        self.hw = hw
        self.bus_number = bus
        self.address = address

    def convert(self, t_raw: int, rh_raw: int) -> tuple[float, float]:
        return -45 + 175 * t_raw / 65535, 100 * rh_raw / 65535

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        with bus_errors(self.chip, self.address):
            bus = self.hw.i2c_bus(self.bus_number)
            bus.write(self.address, self.command)
            self.hw.sleep(self.wait_s)
            frame = bus.read(self.address, 6)
        t_raw, rh_raw = split_words(frame, self.chip)
        t, rh = self.convert(t_raw, rh_raw)
        return {"air_temp": round(t, 2), "air_humidity": round(rh, 2)}

    def close(self) -> None:
        pass


class SHT4x(SensirionTH):
    chip = "SHT4x"
    command = b"\xfd"
    wait_s = 0.010

    def convert(self, t_raw: int, rh_raw: int) -> tuple[float, float]:
        if t_raw == 0x8000 and rh_raw == 0x8000:
            raise SensorError("SHT4x raw 0x8000/0x8000 fault pattern", "sensor damaged (ESD?): power-cycle or replace")
        return -45 + 175 * t_raw / 65535, min(100.0, max(0.0, -6 + 125 * rh_raw / 65535))


def build_sht31(opts: Options, hw: Hardware) -> SensirionTH:
    address = opts.i2c_address("address", 0x44, (0x44, 0x45))
    return SensirionTH(hw, opts.integer("bus", 1, 0, 31), address)


def build_sht4x(opts: Options, hw: Hardware) -> SHT4x:
    address = opts.i2c_address("address", 0x44, (0x44, 0x45, 0x46))
    return SHT4x(hw, opts.integer("bus", 1, 0, 31), address)
