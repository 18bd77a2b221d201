"""JSN-SR04T waterproof ultrasonic distance sensor in UART trigger mode, as a water-level gauge.

Send 0x55; the module answers `FF H L SUM` with the distance in mm (SUM = low byte of FF+H+L).
Readings at the blind-zone minimum (≈ 20–25 cm), at or beyond the maximum, or no answer at all are
faults (condensation on the transducer, foam, wall echoes), never a level. The module assumes sound
travels at 340 m/s; with `compensate_with: air_temp` the distance is corrected for temperature
(c = 331.3 + 0.606·T m/s). water_level = mount_cm − distance: the transducer's height above the
site datum (soil surface for rice, pond bottom for ponds) minus the distance down to the water.
"""

from __future__ import annotations

from collections.abc import Mapping

from edge.drivers.base import SensorError
from edge.drivers.crc import jsn_checksum
from edge.drivers.hardware import Hardware, Uart
from edge.drivers.options import Options

TRIGGER = b"\x55"
ASSUMED_SOUND_SPEED = 340.0


def find_frame(data: bytes) -> int | None:
    """Distance in mm from the first valid `FF H L SUM` frame in `data`."""
    for i in range(len(data) - 3):
        f = data[i : i + 4]
        if f[0] == 0xFF and jsn_checksum(f) == f[3]:
            return f[1] * 256 + f[2]
    return None


class JSNSR04T:
    quantities = ("water_level",)

    def __init__(self, hw: Hardware, port: str, mount_cm: float, blind_cm: float, max_cm: float,
                 temp_source: str | None) -> None:  # fmt: skip
        self.hw = hw
        self.port = port
        self.mount_cm = mount_cm
        self.blind_cm = blind_cm
        self.max_cm = max_cm
        self.temp_source = temp_source
        self._uart: Uart | None = None

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        if self._uart is None:
            try:
                self._uart = self.hw.uart(self.port, 9600)
            except OSError as exc:
                raise SensorError(
                    f"cannot open {self.port}: {exc.strerror}", "enable the serial port in raspi-config"
                ) from None
        self._uart.reset_input()
        self._uart.write(TRIGGER)
        mm = find_frame(self._uart.read(8, 0.25))
        if mm is None:
            raise SensorError(
                "no valid echo frame",
                "check the mode resistor (UART trigger mode) and wiring; foam or a wet transducer",
            )
        cm = mm / 10.0
        if self.temp_source and self.temp_source in env:
            cm *= (331.3 + 0.606 * env[self.temp_source]) / ASSUMED_SOUND_SPEED
        if cm <= self.blind_cm:
            raise SensorError(
                f"distance {cm:.1f} cm is inside the blind zone", "water or condensation on the transducer"
            )
        if cm >= self.max_cm:
            raise SensorError(
                f"distance {cm:.1f} cm is at the maximum range (no echo)", "sensor tilted or the target out of range"
            )
        return {"water_level": round(self.mount_cm - cm, 1)}

    def close(self) -> None:
        pass


def build(opts: Options, hw: Hardware) -> JSNSR04T:
    temp_source = opts.raw("compensate_with", None)
    if temp_source not in (None, "air_temp"):
        raise opts.error("compensate_with", f"{temp_source!r} must be air_temp or null")
    return JSNSR04T(
        hw,
        opts.text("port", "/dev/serial0"),
        opts.number("mount_cm", lo=0, hi=1000),
        opts.number("blind_cm", 25.0, 0, 100),
        opts.number("max_cm", 450.0, 50, 800),
        temp_source,
    )
