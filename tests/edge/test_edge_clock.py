"""When the wall clock can be trusted (a Pi has no RTC), and what time a held reading was taken."""

from __future__ import annotations

from pathlib import Path

from edge.clock import Clock
from edge.config import ClockConfig

Y2026_S = 1_764_455_000.0


def clock(tmp_path: Path, wall_s: float, sync_file: Path | None = None, mono_ns: int = 0) -> Clock:
    boot_id = tmp_path / "boot_id"
    boot_id.write_text("5d0f3b1e-aaaa-bbbb-cccc-000000000001\n")
    return Clock(ClockConfig(sync_file, boot_id), wall_s=lambda: wall_s, mono_ns=lambda: mono_ns)


def test_1970_after_boot_is_not_sane(tmp_path: Path) -> None:
    problem = clock(tmp_path, 30.0).problem()
    assert problem is not None and "before 2020" in problem


def test_a_stale_fake_hwclock_date_behind_our_own_last_reading_is_not_sane(tmp_path: Path) -> None:
    c = clock(tmp_path, Y2026_S)
    assert c.problem(not_before_ms=int(Y2026_S * 1000) + 3_600_000) is not None
    assert c.problem(not_before_ms=int(Y2026_S * 1000) - 1) is None


def test_with_a_sync_file_only_ntp_decides(tmp_path: Path) -> None:
    sync = tmp_path / "synchronized"
    assert "not synchronised" in (clock(tmp_path, Y2026_S, sync).problem() or "")
    sync.write_text("")
    ahead = int(Y2026_S * 1000) + 86_400_000  # a reading once stamped by a clock that ran a day ahead
    assert clock(tmp_path, Y2026_S, sync).problem(not_before_ms=ahead) is None


def test_stamp_counts_back_from_now_by_monotonic_time(tmp_path: Path) -> None:
    c = clock(tmp_path, Y2026_S, mono_ns=50_000_000_000)
    assert c.stamp(20_000_000_000) == int(Y2026_S * 1000) - 30_000
    assert c.kernel_boot == "5d0f3b1e-aaaa-bbbb-cccc-000000000001"


def test_without_a_boot_id_file_each_start_is_its_own_boot(tmp_path: Path) -> None:
    a = Clock(ClockConfig(None, tmp_path / "missing"))
    b = Clock(ClockConfig(None, tmp_path / "missing"))
    assert a.kernel_boot != b.kernel_boot
