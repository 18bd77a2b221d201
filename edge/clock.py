"""Is the wall clock sane, and what time was it when a held reading was taken?

A Raspberry Pi has no real-time clock: it boots in 1970, or with fake-hwclock at the time it last
shut down (a stale date after 2020). Until the clock is sane a reading carries only the kernel's boot
id and CLOCK_MONOTONIC; once it is sane, `stamp()` turns that into wall time. Monotonic time does not
survive a reboot, so a held reading from an earlier kernel boot can never be stamped (it is counted
and dropped, never published with a guessed date).

Sane means: not before 2020 (the contract's floor), and then either — if `clock.sync_file` is set,
e.g. /run/systemd/timesync/synchronized — NTP has synchronised at least once since boot, or, without
a sync file, the clock is not behind the newest timestamp this node has already taken (which catches
fake-hwclock's stale date). With a sync file NTP is trusted even over our own past timestamps, so a
clock that once ran ahead cannot hold readings back for ever.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from contract.wire import TS_FLOOR_MS
from edge.config import ClockConfig


class Clock:
    def __init__(
        self,
        cfg: ClockConfig,
        wall_s: Callable[[], float] = time.time,
        mono_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        self.cfg = cfg
        self._wall_s = wall_s
        self._mono_ns = mono_ns
        self.kernel_boot = self._read_kernel_boot()

    def _read_kernel_boot(self) -> str:
        try:
            return self.cfg.boot_id_file.read_text().strip() or "unknown"
        except OSError:
            # Without /proc we cannot tell boots apart; a random id makes held readings unstampable
            # after a restart rather than stamped wrongly.
            return "nokernelid-" + uuid.uuid4().hex[:8]

    def wall_ms(self) -> int:
        return int(self._wall_s() * 1000)

    def mono_ns(self) -> int:
        return self._mono_ns()

    def problem(self, not_before_ms: int = 0) -> str | None:
        """Why the clock cannot be trusted yet, or None when it can."""
        now = self.wall_ms()
        if now < TS_FLOOR_MS:
            return f"clock reads {time.strftime('%Y-%m-%d', time.gmtime(now / 1000))}, before 2020: not set"
        if self.cfg.sync_file is not None:
            if not self.cfg.sync_file.exists():
                return f"not synchronised yet ({self.cfg.sync_file} missing): check NTP/network"
            return None
        if now < not_before_ms:
            return "clock is behind the newest reading already taken (stale fake-hwclock date?)"
        return None

    def stamp(self, mono_ns: int) -> int:
        """Wall time (ms) of an instant given in this boot's monotonic time."""
        return self.wall_ms() - (self.mono_ns() - mono_ns) // 1_000_000
