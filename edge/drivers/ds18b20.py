"""DS18B20 on the 1-Wire bus, read through the kernel's w1_therm sysfs file.

`<sys_root>/sys/bus/w1/devices/28-*/w1_slave` has two lines: the 9-byte scratchpad with the kernel's
CRC verdict (`crc=57 YES`), then the scratchpad again with `t=<m°C>`. We re-check the CRC ourselves and
refuse 85.000 °C, the power-on value of the temperature register that also passes the CRC
(docs/agronomy.md §9), unless the previous good reading was already close to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from edge.drivers.base import SensorError
from edge.drivers.crc import dallas_crc8
from edge.drivers.hardware import Hardware
from edge.drivers.options import Options

POWER_ON_RAW = 0x0550  # 85.0 °C
TEMP_QUANTITIES = ("water_temp", "soil_temp", "air_temp")


class DS18B20:
    def __init__(self, sys_root: Path, device: str | None, quantity: str) -> None:
        self.devices_dir = sys_root / "sys/bus/w1/devices"
        self.device = device
        self.quantities = (quantity,)
        self._last_good: float | None = None

    def _slave_file(self) -> Path:
        if self.device:
            return self.devices_dir / self.device / "w1_slave"
        found = sorted(self.devices_dir.glob("28-*"))
        if len(found) != 1:
            raise SensorError(
                f"{len(found)} DS18B20 sensors on the 1-Wire bus, expected exactly one",
                "set `device: 28-…` to the sensor's folder in /sys/bus/w1/devices"
                if found
                else "check dtoverlay=w1-gpio in /boot/firmware/config.txt, the 4.7 kΩ pull-up and the wiring",
            )
        return found[0] / "w1_slave"

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        path = self._slave_file()
        try:
            text = path.read_text()
        except OSError as exc:
            raise SensorError(
                f"cannot read {path}: {exc.strerror}", "sensor missing from the 1-Wire bus: check wiring"
            ) from None
        value = parse_w1_slave(text, self._last_good)
        self._last_good = value
        return {self.quantities[0]: value}

    def close(self) -> None:
        pass


def parse_w1_slave(text: str, last_good: float | None = None) -> float:
    lines = text.strip().splitlines()
    if len(lines) < 2 or "crc=" not in lines[0] or "t=" not in lines[1]:
        raise SensorError(f"unexpected w1_slave content {text[:60]!r}", "the kernel driver w1_therm returned garbage")
    if not lines[0].rstrip().endswith("YES"):
        raise SensorError("CRC check failed (crc=… NO)", "long or wet cable, missing pull-up resistor")
    try:
        scratch = bytes(int(h, 16) for h in lines[0].split(":")[0].split())
    except ValueError:
        raise SensorError(f"unreadable scratchpad {lines[0]!r}") from None
    if len(scratch) != 9 or dallas_crc8(scratch[:8]) != scratch[8]:
        raise SensorError("scratchpad CRC mismatch", "long or wet cable, missing pull-up resistor")
    if not any(scratch):
        raise SensorError("scratchpad is all zeros", "data line shorted to ground or sensor not powered")
    raw = int.from_bytes(scratch[0:2], "little", signed=True)
    if raw == POWER_ON_RAW and (last_good is None or abs(last_good - 85.0) > 5.0):
        raise SensorError("85.000 °C power-on value", "conversion not finished or a power glitch: check the supply")
    celsius = raw / 16.0
    milli = int(lines[1].rsplit("t=", 1)[1])
    if abs(milli / 1000.0 - celsius) > 0.07:
        raise SensorError(f"kernel value {milli} m°C disagrees with scratchpad {celsius} °C")
    return celsius


def build(opts: Options, hw: Hardware) -> DS18B20:
    quantity = opts.choice("quantity", TEMP_QUANTITIES)
    device = opts.optional_str("device")
    if device is not None and not device.startswith("28-"):
        raise opts.error("device", f"{device!r} is not a DS18B20 id (28-…)")
    return DS18B20(hw.sys_root, device, quantity)
