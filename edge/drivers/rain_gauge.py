"""Tipping-bucket rain gauge: a reed switch between a GPIO (pull-up) and GND, one falling edge per tip.

Edges are counted continuously by a background counter (with debounce against switch bounce); each
reading publishes the rain since the previous reading, in mm (`rain` is per reading interval,
docs/agronomy.md §0). Calibrate `mm_per_tip` with a known volume: 0.2794 mm is common, not universal.
A rain reading is one count per interval, so the sampler never takes a median of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

from edge.drivers.base import SensorError
from edge.drivers.hardware import Hardware, PulseCounter
from edge.drivers.options import Options


class RainGauge:
    quantities = ("rain",)
    single_sample = True

    def __init__(self, hw: Hardware, gpio: int, mm_per_tip: float, debounce_s: float) -> None:
        self.hw = hw
        self.gpio = gpio
        self.mm_per_tip = mm_per_tip
        self.debounce_s = debounce_s
        self._counter: PulseCounter | None = None
        self._last = 0

    def _open(self) -> PulseCounter:
        if self._counter is None:
            try:
                self._counter = self.hw.pulses(self.hw.sys_root, self.gpio, self.debounce_s)
            except OSError as exc:
                raise SensorError(
                    f"cannot watch GPIO {self.gpio}: {exc.strerror or exc}",
                    "is the pin used by another overlay? run as a member of group gpio",
                ) from None
            self._last = self._counter.count()
        return self._counter

    def start(self) -> None:
        """Start counting now, so tips before the first reading are not missed."""
        # A failure here is reported by the first read.
        with contextlib.suppress(SensorError):
            self._open()

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        counter = self._open()
        if not counter.alive():
            raise SensorError(f"pulse counting on GPIO {self.gpio} stopped", "restart the agent; check the GPIO")
        now = counter.count()
        tips, self._last = now - self._last, now
        return {"rain": round(tips * self.mm_per_tip, 4)}

    def close(self) -> None:
        if self._counter is not None:
            self._counter.close()


def build(opts: Options, hw: Hardware) -> RainGauge:
    return RainGauge(
        hw,
        opts.integer("gpio", lo=0, hi=53),
        opts.number("mm_per_tip", 0.2794, 0.01, 5.0),
        opts.duration("debounce", 0.025),
    )
