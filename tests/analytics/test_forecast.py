"""Forecast alerts: the pond's pre-dawn oxygen from the evening decline; rice blast from leaf wetness."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.engine import Engine
from analytics.forecast import DoForecast
from analytics.sites import SiteDirectory
from analytics.texts import hhmm
from tests.analytics.helpers import HOUR, MIDNIGHT_ICT, MINUTE, Feeder


def _evening_decline(f: Feeder) -> None:
    ts = MIDNIGHT_ICT + 12 * HOUR
    i = 0
    while ts <= MIDNIGHT_ICT + 23 * HOUR:
        hours_after_18 = (ts - MIDNIGHT_ICT - 18 * HOUR) / HOUR
        do = 8.0 - 0.5 * max(0.0, hours_after_18)  # the worked example of agronomy.md §4.1
        f.send("n1", ts, {"dissolved_oxygen": round(do + 0.01 * (i % 3), 3)})
        ts += 5 * MINUTE
        i += 1


def test_evening_decline_forecasts_a_pre_dawn_crash_hours_ahead() -> None:
    f = Feeder(Engine(), "t-pond-1")
    _evening_decline(f)
    fc = [e for e in f.events if e.kind == "forecast"]
    assert [(e.rule, e.state) for e in fc] == [("pond_do_forecast_crit", "firing")]  # warning inhibited
    e = fc[0]
    assert e.audience == "farmer" and e.severity == "critical"
    assert hhmm(e.ts) == "20:00"  # the rule's window opens at 20:00: ten hours before dawn
    assert e.ts_expected is not None and hhmm(e.ts_expected).startswith("06:")
    assert e.value == pytest.approx(1.8, abs=0.2)  # ≈ 8.0 − 0.5 × 12.5 h to a 06:30 sunrise
    assert "Dự báo oxy hòa tan rạng sáng" in e.text["vi"] and "dự kiến lúc 06:" in e.text["vi"]
    assert f.of("dissolved_oxygen.crit_low") == []  # the pond itself is still fine


def test_projection_needs_three_ten_minute_means_after_sunset() -> None:
    fc = DoForecast()
    start = MIDNIGHT_ICT + 18 * HOUR
    for k in range(3):
        fc.add(start + k * 10 * MINUTE, 7.0)
    assert fc.projection() is None
    fc.add(start + 30 * MINUTE, 7.0)
    assert fc.projection() == pytest.approx(7.0)


def test_long_leaf_wetness_at_mild_temperature_raises_blast_risk() -> None:
    f = Feeder(Engine(), "t-rice-1")
    ts = MIDNIGHT_ICT + 18 * HOUR
    for i in range(6 * 14):  # 14 h of humid air at 24 °C: blast needs 13 h of wetness at 24 °C (CHOI87)
        f.send("n1", ts, {"air_temp": 24.0 + 0.01 * (i % 3), "air_humidity": 95.0 + 0.1 * (i % 2)})
        ts += 10 * MINUTE
    fired = f.of("rice_blast_warn", "firing")
    assert len(fired) == 1 and fired[0].kind == "forecast"
    assert (fired[0].ts - (MIDNIGHT_ICT + 18 * HOUR)) / HOUR == pytest.approx(13.0, abs=0.2)
    for i in range(12):  # two dry hours end the wet run
        f.send("n1", ts, {"air_temp": 27.0 + 0.01 * (i % 3), "air_humidity": 70.0 + 0.1 * (i % 2)})
        ts += 10 * MINUTE
    assert len(f.of("rice_blast_warn", "resolved")) == 1


def _wet_night(f: Feeder, start: int) -> int:
    ts = start
    for i in range(6 * 14):
        f.send("n1", ts, {"air_temp": 24.0 + 0.01 * (i % 3), "air_humidity": 95.0 + 0.1 * (i % 2)})
        ts += 10 * MINUTE
    for i in range(6 * 10):
        f.send("n1", ts, {"air_temp": 27.0 + 0.01 * (i % 3), "air_humidity": 70.0 + 0.1 * (i % 2)})
        ts += 10 * MINUTE
    return ts


def test_blast_risk_on_a_second_wet_day_running_is_critical() -> None:
    f = Feeder(Engine(), "t-rice-1")
    _wet_night(f, MIDNIGHT_ICT + 18 * HOUR)
    assert [e.rule for e in f.events if e.state == "firing"] == ["rice_blast_warn"]
    _wet_night(f, MIDNIGHT_ICT + 42 * HOUR)
    firing = [e.rule for e in f.events if e.state == "firing"]
    assert firing == ["rice_blast_warn", "rice_blast_crit"]  # the warning is inhibited on day two
    assert "đạo ôn cổ bông" in f.of("rice_blast_crit", "firing")[0].text["vi"]


def test_blast_risk_at_heading_is_critical_at_once(tmp_path: Path) -> None:
    path = tmp_path / "sites.yaml"
    path.write_text("sites:\n  ruong-ong-hai:\n    profile: rice_paddy\n    stage: flowering\n")
    f = Feeder(Engine(SiteDirectory(str(path))), "ruong-ong-hai")
    _wet_night(f, MIDNIGHT_ICT + 18 * HOUR)
    assert [e.rule for e in f.events if e.state == "firing" and "blast" in e.rule] == ["rice_blast_crit"]
