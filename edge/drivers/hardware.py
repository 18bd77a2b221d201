"""The buses drivers talk to, behind small interfaces so tests swap in byte-exact fakes.

Real implementations use only the stdlib: `/dev/i2c-N` with the I2C_SLAVE ioctl, a termios-configured
UART, and sysfs GPIO edges. A `Hardware` object hands them out; tests build one with fakes and a
`sys_root` pointing at a fake sysfs tree.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import select
import termios
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

I2C_SLAVE = 0x0703


class I2CBus(Protocol):
    def write(self, address: int, data: bytes) -> None: ...

    def read(self, address: int, length: int) -> bytes: ...


class Uart(Protocol):
    def write(self, data: bytes) -> None: ...

    def read(self, length: int, timeout: float) -> bytes: ...

    def reset_input(self) -> None: ...


class PulseCounter(Protocol):
    """Counts debounced falling edges since it started; `alive()` is False if counting stopped."""

    def count(self) -> int: ...

    def alive(self) -> bool: ...

    def close(self) -> None: ...


class LinuxI2CBus:
    """`/dev/i2c-<n>`; each transfer selects the slave address first (plain read/write, no SMBus)."""

    def __init__(self, bus: int) -> None:
        self.path = f"/dev/i2c-{bus}"
        self._fd = os.open(self.path, os.O_RDWR)
        self._lock = threading.Lock()

    def _select(self, address: int) -> None:
        fcntl.ioctl(self._fd, I2C_SLAVE, address)

    def write(self, address: int, data: bytes) -> None:
        with self._lock:
            self._select(address)
            os.write(self._fd, data)

    def read(self, address: int, length: int) -> bytes:
        with self._lock:
            self._select(address)
            return os.read(self._fd, length)

    def close(self) -> None:
        os.close(self._fd)


class LinuxUart:
    """A serial port in raw 8N1 mode at a fixed baud rate (MH-Z19, JSN-SR04T UART modes: 9600)."""

    def __init__(self, path: str, baud: int = 9600) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        attrs = termios.tcgetattr(self._fd)
        speed = getattr(termios, f"B{baud}")
        attrs[0] = 0  # iflag: no translation, no flow control
        attrs[1] = 0  # oflag
        attrs[2] = termios.CS8 | termios.CREAD | termios.CLOCAL
        attrs[3] = 0  # lflag: raw, no echo
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(self._fd, termios.TCSANOW, attrs)

    def write(self, data: bytes) -> None:
        os.write(self._fd, data)
        termios.tcdrain(self._fd)

    def read(self, length: int, timeout: float) -> bytes:
        out = b""
        deadline = time.monotonic() + timeout
        while len(out) < length:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._fd], [], [], left)[0]:
                break
            out += os.read(self._fd, length - len(out))
        return out

    def reset_input(self) -> None:
        termios.tcflush(self._fd, termios.TCIFLUSH)

    def close(self) -> None:
        os.close(self._fd)


class Debouncer:
    """Accepts an edge only if `min_gap_s` has passed since the last accepted one (reed-switch bounce)."""

    def __init__(self, min_gap_s: float) -> None:
        self.min_gap_s = min_gap_s
        self._last: float | None = None

    def accept(self, t: float) -> bool:
        if self._last is not None and t - self._last < self.min_gap_s:
            return False
        self._last = t
        return True


def gpio_base(sys_root: Path) -> int:
    """The sysfs number of the SoC's GPIO 0 (0 on older kernels, 512 on Raspberry Pi OS Bookworm)."""
    for chip in sorted((sys_root / "sys/class/gpio").glob("gpiochip*")):
        with contextlib.suppress(OSError, ValueError):
            if "pinctrl" in (chip / "label").read_text():
                return int((chip / "base").read_text())
    return 0


class SysfsGpioPulses:
    """Counts falling edges of one GPIO through sysfs (`edge` = falling, poll() for POLLPRI)."""

    def __init__(self, sys_root: Path, gpio: int, debounce_s: float) -> None:
        number = gpio_base(sys_root) + gpio
        root = sys_root / "sys/class/gpio"
        pin = root / f"gpio{number}"
        if not pin.exists():
            (root / "export").write_text(str(number))
        (pin / "direction").write_text("in")
        (pin / "edge").write_text("falling")
        self._file = open(pin / "value", "rb")  # noqa: SIM115 - kept open while counting
        self._debounce = Debouncer(debounce_s)
        self._count = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"gpio{number}-pulses", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        poller = select.poll()
        poller.register(self._file.fileno(), select.POLLPRI | select.POLLERR)
        self._file.read()
        while not self._stop.is_set():
            if not poller.poll(500):
                continue
            self._file.seek(0)
            self._file.read()
            if self._debounce.accept(time.monotonic()):
                self._count += 1

    def count(self) -> int:
        return self._count

    def alive(self) -> bool:
        return self._thread.is_alive()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)
        self._file.close()


@dataclass
class Hardware:
    """Where drivers find their buses. Defaults open the real ones; tests pass fakes."""

    sys_root: Path = Path("/")
    i2c: Callable[[int], I2CBus] = LinuxI2CBus
    uart: Callable[[str, int], Uart] = LinuxUart
    pulses: Callable[[Path, int, float], PulseCounter] = SysfsGpioPulses
    # The sampler waits through conversion times with this; tests pass a no-op.
    sleep: Callable[[float], None] = time.sleep
    _buses: dict[int, I2CBus] = field(default_factory=dict)

    def i2c_bus(self, number: int) -> I2CBus:
        # One open file per bus, shared by every sensor on it.
        if number not in self._buses:
            self._buses[number] = self.i2c(number)
        return self._buses[number]
