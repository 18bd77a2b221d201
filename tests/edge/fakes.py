"""Hardware faked at the bus, answering byte for byte as the datasheets say (and no more).

Each fake checks the bytes it is sent: an unknown command NACKs (OSError, like the kernel's EREMOTEIO),
so a driver that sends the wrong command fails its test.
"""

from __future__ import annotations

import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from edge.drivers.crc import dallas_crc8, jsn_checksum, mhz19_checksum, sensirion_crc8
from edge.drivers.hardware import Hardware


def nack() -> OSError:
    return OSError(errno.EREMOTEIO, "Remote I/O error")


class FakeI2CBus:
    def __init__(self, **devices: object) -> None:
        self.devices: dict[int, object] = {}
        self.log: list[tuple[str, int, bytes]] = []

    def attach(self, address: int, device: object) -> None:
        self.devices[address] = device

    def _dev(self, address: int) -> object:
        if address not in self.devices:
            raise nack()
        return self.devices[address]

    def write(self, address: int, data: bytes) -> None:
        self.log.append(("w", address, bytes(data)))
        self._dev(address).write(bytes(data))  # type: ignore[attr-defined]

    def read(self, address: int, length: int) -> bytes:
        data = self._dev(address).read(length)  # type: ignore[attr-defined]
        self.log.append(("r", address, data))
        return data


def word_with_crc(value: int) -> bytes:
    b = value.to_bytes(2, "big")
    return b + bytes([sensirion_crc8(b)])


@dataclass
class FakeSHT3x:
    """SHT3x single shot, high repeatability, no clock stretching: `24 00` → T, CRC, RH, CRC."""

    temp: float
    rh: float
    bad_crc_reads: int = 0
    command: bytes = b"\x24\x00"
    _frame: bytes | None = None

    def raw(self) -> tuple[int, int]:
        return round((self.temp + 45) * 65535 / 175), round(self.rh * 65535 / 100)

    def write(self, data: bytes) -> None:
        if data != self.command:
            raise nack()
        t, rh = self.raw()
        self._frame = word_with_crc(t) + word_with_crc(rh)

    def read(self, n: int) -> bytes:
        if self._frame is None:
            raise nack()  # no measurement started
        frame, self._frame = self._frame, None
        if self.bad_crc_reads:
            self.bad_crc_reads -= 1
            frame = frame[:2] + bytes([frame[2] ^ 0x01]) + frame[3:]
        return frame[:n]


@dataclass
class FakeSHT4x(FakeSHT3x):
    command: bytes = b"\xfd"
    fault_pattern: bool = False

    def raw(self) -> tuple[int, int]:
        if self.fault_pattern:
            return 0x8000, 0x8000
        return round((self.temp + 45) * 65535 / 175), round((self.rh + 6) * 65535 / 125)


# BMP280 datasheet §3.11.3 example (T1..T3) and a typical BME280 humidity calibration.
BME_CAL = {"t1": 27504, "t2": 26435, "t3": -1000, "h1": 75, "h2": 362, "h3": 0, "h4": 313, "h5": 50, "h6": 30}


class FakeBME280:
    """Register file with auto-increment; forced mode; ctrl_hum latched only by a ctrl_meas write."""

    def __init__(self, adc_t: int = 519888, adc_h: int = 30000, chip_id: int = 0x60) -> None:
        self.regs = bytearray(256)
        self.regs[0xD0] = chip_id
        c = BME_CAL
        self.regs[0x88:0x8E] = (
            c["t1"].to_bytes(2, "little") + c["t2"].to_bytes(2, "little", signed=True)
            + c["t3"].to_bytes(2, "little", signed=True)
        )  # fmt: skip
        self.regs[0xA1] = c["h1"]
        e4, e5, e6 = c["h4"] >> 4, (c["h4"] & 0x0F) | ((c["h5"] & 0x0F) << 4), c["h5"] >> 4
        self.regs[0xE1:0xE8] = c["h2"].to_bytes(2, "little", signed=True) + bytes([c["h3"], e4, e5, e6, c["h6"] & 0xFF])
        self.adc_t, self.adc_h = adc_t, adc_h
        self._ptr = 0
        self._hum_latched = 0
        self.measurements = 0

    def write(self, data: bytes) -> None:
        self._ptr = data[0]
        for i, b in enumerate(data[1:]):
            reg = data[0] + i
            self.regs[reg] = b
            if reg == 0xF4 and b & 0b11 == 0b01:
                self._hum_latched = self.regs[0xF2] & 0b111
                self._measure()

    def _measure(self) -> None:
        self.measurements += 1
        t = self.adc_t
        self.regs[0xFA:0xFD] = bytes([t >> 12 & 0xFF, t >> 4 & 0xFF, (t & 0x0F) << 4])
        h = self.adc_h if self._hum_latched else 0x8000
        self.regs[0xFD:0xFF] = h.to_bytes(2, "big")
        self.regs[0xF3] = 0  # done (the fake converts instantly)

    def read(self, n: int) -> bytes:
        out = bytes(self.regs[self._ptr : self._ptr + n])
        self._ptr += n
        return out


class FakeADS1115:
    """Config (0x01) and conversion (0x00) registers; inputs are volts per channel."""

    FS: ClassVar[dict[int, float]] = {0: 6.144, 1: 4.096, 2: 2.048, 3: 1.024, 4: 0.512, 5: 0.256}

    def __init__(self, volts: dict[int, float]) -> None:
        self.volts = volts
        self.config = 0x8583  # power-on default
        self.conversion = 0
        self._ptr = 0
        self.configs_written: list[int] = []

    def write(self, data: bytes) -> None:
        self._ptr = data[0]
        if len(data) == 3 and self._ptr == 0x01:
            word = int.from_bytes(data[1:3], "big")
            self.configs_written.append(word)
            self.config = word & 0x7FFF | 0x8000
            mux = (word >> 12) & 0b111
            if mux < 0b100:
                raise nack()  # differential inputs are not used by our drivers
            fs = self.FS[(word >> 9) & 0b111]
            raw = round(self.volts[mux - 0b100] / fs * 32768)
            self.conversion = max(-32768, min(32767, raw))

    def read(self, n: int) -> bytes:
        reg = self.conversion if self._ptr == 0x00 else self.config
        return reg.to_bytes(2, "big", signed=self._ptr == 0x00)[:n]


class FakeEZO:
    """EZO circuit in I2C mode: ASCII command, then a read: code byte + ASCII + NUL."""

    def __init__(self, reading: str, pending_reads: int = 0) -> None:
        self.reading = reading
        self.pending_reads = pending_reads
        self.temps: list[str] = []
        self._reply: bytes | None = None

    def write(self, data: bytes) -> None:
        cmd = data.decode("ascii")
        if cmd == "R":
            self._reply = b"\x01" + self.reading.encode() + b"\x00"
        elif cmd.startswith("T,"):
            self.temps.append(cmd[2:])
            self._reply = b"\x01\x00"
        else:
            self._reply = b"\x02\x00"

    def read(self, n: int) -> bytes:
        if self._reply is None:
            return b"\xff" + b"\x00" * (n - 1)
        if self.pending_reads:
            self.pending_reads -= 1
            return b"\xfe" + b"\x00" * (n - 1)
        reply, self._reply = self._reply, None
        return (reply + b"\x00" * n)[:n]


@dataclass
class FakeUart:
    """A serial device: `respond(written) -> reply bytes` decides what comes back."""

    respond: Callable[[bytes], bytes]
    written: list[bytes] = field(default_factory=list)
    _rx: bytes = b""

    def write(self, data: bytes) -> None:
        self.written.append(bytes(data))
        self._rx += self.respond(bytes(data))

    def read(self, length: int, timeout: float) -> bytes:
        out, self._rx = self._rx[:length], self._rx[length:]
        return out

    def reset_input(self) -> None:
        self._rx = b""


def mhz19(ppm: int, corrupt: int = 0) -> Callable[[bytes], bytes]:
    """MH-Z19 answering `FF 01 86 …` with `FF 86 HH LL TT SS U U CS`; commands 0x79/0x99 need no answer."""
    state = {"corrupt": corrupt}

    def respond(cmd: bytes) -> bytes:
        assert len(cmd) == 9 and cmd[0] == 0xFF and cmd[1] == 0x01 and mhz19_checksum(cmd) == cmd[8], cmd.hex()
        if cmd[2] != 0x86:
            return b""
        body = bytes([0xFF, 0x86, ppm >> 8, ppm & 0xFF, 0x47, 0x00, 0x00, 0x00])
        frame = body + bytes([mhz19_checksum(body + b"\0")])
        if state["corrupt"]:
            state["corrupt"] -= 1
            frame = frame[:8] + bytes([frame[8] ^ 0xFF])
        return frame

    return respond


def jsn(distances_mm: list[int | None]) -> Callable[[bytes], bytes]:
    """JSN-SR04T in UART trigger mode: 0x55 → `FF H L SUM`; None = no echo (no answer)."""
    queue = list(distances_mm)

    def respond(cmd: bytes) -> bytes:
        if cmd != b"\x55":
            return b""
        mm = queue.pop(0) if len(queue) > 1 else queue[0]
        if mm is None:
            return b""
        f = bytes([0xFF, mm >> 8, mm & 0xFF])
        return f + bytes([jsn_checksum(f)])

    return respond


class FakePulses:
    def __init__(self) -> None:
        self.n = 0
        self.running = True

    def count(self) -> int:
        return self.n

    def alive(self) -> bool:
        return self.running

    def close(self) -> None:
        self.running = False


def w1_slave_text(celsius: float | None = None, raw: int | None = None, crc_ok: bool = True) -> str:
    """The two lines w1_therm prints for a DS18B20 scratchpad (12-bit, TH 0x4B, TL 0x46, config 0x7F)."""
    value = round(celsius * 16) if raw is None else raw  # type: ignore[operator]
    scratch = value.to_bytes(2, "little", signed=True) + bytes([0x4B, 0x46, 0x7F, 0xFF, 0x0C, 0x10])
    scratch += bytes([dallas_crc8(scratch)])
    hexes = " ".join(f"{b:02x}" for b in scratch)
    verdict = "YES" if crc_ok else "NO"
    milli = int(value * 1000 / 16)
    return f"{hexes} : crc={scratch[8]:02x} {verdict}\n{hexes} t={milli}\n"


def write_ds18b20(sys_root: Path, device: str, text: str) -> Path:
    d = sys_root / "sys/bus/w1/devices" / device
    d.mkdir(parents=True, exist_ok=True)
    (d / "w1_slave").write_text(text)
    return d / "w1_slave"


def _absent(*_: object) -> object:
    raise OSError(errno.ENOENT, "No such file or directory")


def hardware(sys_root: Path, bus: FakeI2CBus | None = None, uart: FakeUart | None = None,
             pulses: FakePulses | None = None) -> Hardware:  # fmt: skip
    """A Hardware whose buses are the given fakes (absent ones fail like a missing /dev node); no sleeping."""
    return Hardware(
        sys_root=sys_root,
        i2c=(lambda n: bus) if bus is not None else _absent,  # type: ignore[arg-type]
        uart=(lambda path, baud: uart) if uart is not None else _absent,  # type: ignore[arg-type]
        pulses=lambda root, gpio, debounce: pulses if pulses is not None else FakePulses(),
        sleep=lambda s: None,
    )
