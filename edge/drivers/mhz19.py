"""Winsen MH-Z19B/C CO2 over UART (9600 8N1).

Read: send `FF 01 86 00 00 00 00 00 79`, the reply is `FF 86 HH LL …` + checksum, ppm = HH·256 + LL,
checksum = 0xFF − (sum of bytes 1..7) + 1. Readings during the warm-up minute are invalid, and a
value at the top of the configured range is saturation, not a measurement (docs/agronomy.md §9).
Automatic baseline correction (ABC) is switched off at start by default: it assumes the sensor sees
400 ppm daily, which a barn or net house never does.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from edge.drivers.base import SensorError
from edge.drivers.crc import mhz19_checksum
from edge.drivers.hardware import Hardware, Uart
from edge.drivers.options import Options

RANGES = (2000, 5000, 10000)


def command_frame(command: int, data: bytes = b"\0\0\0\0\0") -> bytes:
    """`FF 01 <cmd> <5 data bytes> <checksum>`."""
    body = bytes([0xFF, 0x01, command]) + data
    return body + bytes([mhz19_checksum(body)])


READ_CO2 = command_frame(0x86)  # FF 01 86 00 00 00 00 00 79
ABC_OFF = command_frame(0x79)  # FF 01 79 00 00 00 00 00 86
ABC_ON = command_frame(0x79, b"\xa0\0\0\0\0")  # FF 01 79 A0 00 00 00 00 E6


class MHZ19:
    quantities = ("co2",)

    def __init__(self, hw: Hardware, port: str, full_range: int, warmup_s: float, abc: bool,
                 clock: Callable[[], float] = time.monotonic) -> None:  # fmt: skip
        self.hw = hw
        self.port = port
        self.full_range = full_range
        self.warmup_s = warmup_s
        self.abc = abc
        self._clock = clock
        self._started = clock()
        self._uart: Uart | None = None

    def _open(self) -> Uart:
        if self._uart is None:
            try:
                self._uart = self.hw.uart(self.port, 9600)
            except OSError as exc:
                raise SensorError(
                    f"cannot open {self.port}: {exc.strerror}",
                    "enable the serial port (raspi-config → Interface → Serial, no login shell)",
                ) from None
            self._uart.write(ABC_ON if self.abc else ABC_OFF)
            # Detection range: bytes 6-7 of command 0x99 (FF 01 99 00 00 00 13 88 CB = 5000 ppm).
            self._uart.write(command_frame(0x99, b"\0\0\0" + self.full_range.to_bytes(2, "big")))
        return self._uart

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        uart = self._open()
        uart.reset_input()
        uart.write(READ_CO2)
        reply = uart.read(9, 0.5)
        if len(reply) != 9:
            raise SensorError(f"MH-Z19 answered {len(reply)} of 9 bytes", "check TX/RX crossing and the 5 V supply")
        if reply[0] != 0xFF or reply[1] != 0x86:
            raise SensorError(f"MH-Z19 reply starts {reply[:2].hex()}, expected ff86", "another device on this port?")
        if mhz19_checksum(reply) != reply[8]:
            raise SensorError("MH-Z19 checksum mismatch", "noise on the UART line: shorten the cable")
        if self._clock() - self._started < self.warmup_s:
            raise SensorError("MH-Z19 still warming up", f"wait {self.warmup_s:.0f} s after power-on")
        ppm = reply[2] * 256 + reply[3]
        if ppm >= self.full_range:
            raise SensorError(
                f"CO2 {ppm} ppm is at the top of the {self.full_range} ppm range (saturated)", "raise `range`"
            )
        return {"co2": float(ppm)}

    def close(self) -> None:
        pass


def build(opts: Options, hw: Hardware) -> MHZ19:
    port = opts.text("port", "/dev/serial0")
    full_range = opts.integer("range", 5000)
    if full_range not in RANGES:
        raise opts.error("range", f"{full_range} is not one of {', '.join(map(str, RANGES))} ppm")
    return MHZ19(hw, port, full_range, opts.duration("warmup", "60s"), opts.flag("abc", False))
