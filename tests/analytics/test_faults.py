"""Sensor-fault and node checks on generated streams: each alerts the technician, never the farmer,
and keeps the faulty signal out of the agronomic rules."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from analytics.engine import REPLAYED_BOOT, Engine
from analytics.faults import LIGHT_DEAD_AT_ZERO_SUN_H, LIGHT_NIGHT_SUN_H, STUCK_MIN, SeriesFaults
from contract.wire import Decoded, Reading
from tests.analytics.helpers import HOUR, MIDNIGHT_ICT, MINUTE, Feeder

SITE = "t-pond-1"  # fish_pond by its slug


def _do(i: int, rnd: random.Random) -> float:
    return round(6.5 + 0.3 * math.sin(2 * math.pi * i / 1440) + rnd.gauss(0, 0.05), 2)


def _warm(f: Feeder, node: str = "n1", n: int = 400, seed: int = 1) -> int:
    rnd = random.Random(seed)
    ts = MIDNIGHT_ICT + 8 * HOUR
    for i in range(n):
        f.send(node, ts, {"dissolved_oxygen": _do(i, rnd), "water_temp": round(28 + rnd.gauss(0, 0.05), 2)})
        ts += MINUTE
    return ts


def test_clean_stream_raises_no_alert() -> None:
    f = Feeder(Engine(), SITE)
    _warm(f, n=1500)
    assert f.events == []


def test_out_of_range_value_alerts_the_technician_only() -> None:
    f = Feeder(Engine(), SITE)
    ts = _warm(f)
    f.send("n1", ts, {"dissolved_oxygen": 45.0, "water_temp": 28.0})  # contract drops it as implausible
    fired = f.of("dissolved_oxygen.implausible", "firing")
    assert len(fired) == 1
    assert fired[0].audience == "technician" and fired[0].kind == "sensor"
    assert "Cảm biến lỗi" in fired[0].text["vi"]
    for k in range(1, 4):
        f.send("n1", ts + k * MINUTE, {"dissolved_oxygen": 6.0, "water_temp": 28.0})
    assert len(f.of("dissolved_oxygen.implausible", "resolved")) == 1
    assert f.farmer() == []


def test_ds18b20_power_on_value_is_a_sensor_fault_not_a_hot_pond() -> None:
    f = Feeder(Engine(), SITE)
    ts = _warm(f)
    f.send("n1", ts, {"dissolved_oxygen": 6.0, "water_temp": 85.0})
    assert len(f.of("water_temp.implausible", "firing")) == 1
    assert f.farmer() == []


def test_profile_plausible_range_narrower_than_the_contract_is_a_fault() -> None:
    f = Feeder(Engine(), "t-rice-1")  # rice water_level plausible −60..60 cm (contract allows 500)
    f.send("n1", MIDNIGHT_ICT, {"water_level": 200.0})
    assert len(f.of("water_level.implausible", "firing")) == 1


def test_stuck_probe_below_the_critical_level_alerts_technician_not_farmer() -> None:
    f = Feeder(Engine(), SITE)
    ts = _warm(f)
    for k in range(60):
        f.send("n1", ts + k * MINUTE, {"dissolved_oxygen": 1.5, "water_temp": round(28 + 0.01 * (k % 7), 2)})
    stuck = f.of("dissolved_oxygen.stuck", "firing")
    assert len(stuck) == 1 and stuck[0].audience == "technician"
    assert "bị treo" in stuck[0].text["vi"]
    assert [e for e in f.farmer() if e.state == "firing"] == []


def test_a_single_spike_is_reported_and_kept_out_of_the_aggregates() -> None:
    e = Engine()
    f = Feeder(e, SITE)
    ts = _warm(f)
    f.send("n1", ts, {"dissolved_oxygen": 0.3, "water_temp": 28.0})
    f.send("n1", ts + MINUTE, {"dissolved_oxygen": 7.2, "water_temp": 28.0})
    spikes = f.of("dissolved_oxygen.spike", "firing")
    assert len(spikes) == 1 and spikes[0].audience == "technician"
    assert min(v for _, v in e.nodes[(SITE, "n1")].series["dissolved_oxygen"].w10.items) > 4.0
    f.send("n1", ts + 40 * MINUTE, {"dissolved_oxygen": 7.0, "water_temp": 28.0})
    assert len(f.of("dissolved_oxygen.spike", "resolved")) == 1


def test_a_real_fast_change_that_persists_is_not_a_spike() -> None:
    f = Feeder(Engine(), SITE)
    ts = _warm(f)
    for k in range(30):
        f.send("n1", ts + k * MINUTE, {"dissolved_oxygen": 3.5 + 0.01 * (k % 3), "water_temp": 28.0})
    assert f.of("dissolved_oxygen.spike") == []


def test_drift_against_same_site_neighbours_alerts_the_drifting_node_only() -> None:
    rnd = random.Random(3)
    f = Feeder(Engine(), "t-rice-2")
    ts = MIDNIGHT_ICT
    for i in range(2000):
        base = 25 + 5 * math.sin(2 * math.pi * i / 288)
        drift = 0.01 * (i - 800) if i > 800 else 0.0
        for node, extra in (("a", 0.0), ("b", 0.3), ("c", -0.2)):
            v = base + extra + rnd.gauss(0, 0.1) + (drift if node == "c" else 0.0)
            f.send(node, ts, {"air_temp": round(v, 2), "air_humidity": 80.0 + rnd.gauss(0, 1)})
        ts += 5 * MINUTE
    drift = f.of("air_temp.drift", "firing")
    assert {e.node for e in drift} == {"c"}
    assert len({e.id for e in drift}) == 1  # one alert, re-announced every repeat interval
    assert drift[0].audience == "technician"


def test_silent_node_goes_offline_and_comes_back() -> None:
    e = Engine()
    f = Feeder(e, SITE)
    ts = _warm(f, n=30)
    assert e.tick(ts + 2 * MINUTE).events == []
    out = e.tick(ts + 5 * MINUTE)
    assert [(x.rule, x.state, x.kind) for x in out.events] == [("node.offline", "firing", "node")]
    assert e.tick(ts + 10 * MINUTE).events == []  # no duplicate while still silent
    f.send("n1", ts + 11 * MINUTE, {"dissolved_oxygen": 6.0})
    assert len(f.of("node.offline", "resolved")) == 1


def test_last_will_offline_status_fires_at_once() -> None:
    from contract.wire import Status

    e = Engine()
    f = Feeder(e, SITE)
    ts = _warm(f, n=5)
    out = e.status(SITE, "n1", Status("offline", ts), ts)
    assert [(x.rule, x.state, x.audience) for x in out.events] == [("node.offline", "firing", "technician")]
    assert e.status(SITE, "n1", Status("online", ts + 1000), ts + 1000).events[0].state == "resolved"


def test_sequence_gaps_raise_a_link_loss_alert() -> None:
    e = Engine()
    f = Feeder(e, SITE)
    ts = MIDNIGHT_ICT
    rnd = random.Random(4)
    for i in range(300):
        if i > 100 and rnd.random() < 0.4:
            f.seq["n1"] += 1  # lost on the way
            continue
        f.send("n1", ts + i * MINUTE, {"dissolved_oxygen": _do(i, rnd)})
    fired = f.of("node.link_loss", "firing")
    assert len(fired) == 1 and fired[0].kind == "node" and fired[0].value is not None and fired[0].value > 20


@pytest.mark.parametrize("rebooted", [False, True])
def test_link_loss_carries_on_from_replayed_readings_unless_the_node_rebooted(rebooted: bool) -> None:
    """Readings replayed from storage at a restart keep no boot id (analytics/warmup.py): a node whose live
    sequence numbers carry on from them keeps its link-loss alert; one whose numbers start again has
    rebooted, and its loss is counted afresh."""
    e = Engine()
    rnd = random.Random(4)
    seq, ts = 0, MIDNIGHT_ICT
    events = []
    for i in range(600):
        boot = REPLAYED_BOOT if i < 300 else "live-boot"
        if i == 300 and rebooted:
            seq = 0
        if rnd.random() < 0.4:  # lost on the way, before and after the restart
            seq += 1
            continue
        r = Reading("n1", boot, seq, ts + i * MINUTE, {"dissolved_oxygen": _do(i, rnd)})
        events += e.process(SITE, Decoded("n1", boot, [r]), ts + i * MINUTE).events
        seq += 1
    loss = [(x.state, x.ts >= ts + 300 * MINUTE) for x in events if x.rule == "node.link_loss"]
    assert loss[0] == ("firing", False)
    assert (("resolved", True) in loss) == rebooted


def test_an_implausible_battery_reading_alerts_and_clears() -> None:
    f = Feeder(Engine(), SITE)
    ts = _warm(f, n=5)
    f.send("n1", ts, {"dissolved_oxygen": 6.0}, battery_v=9.9)
    for k in range(1, 4):
        f.send("n1", ts + k * MINUTE, {"dissolved_oxygen": 6.0 + k / 100}, battery_v=3.9)
    assert [(e.rule, e.state) for e in f.events] == [("battery_v.implausible", "firing"),
                                                      ("battery_v.implausible", "resolved")]


def test_light_flat_at_zero_is_normal_at_night_and_a_dead_sensor_by_day() -> None:
    f = Feeder(Engine(), "t-rice-3")
    night = f.series("n1", MIDNIGHT_ICT, 10 * MINUTE, [{"light": 0.0}] * 30)  # 00:00-05:00
    assert f.of("light.stuck") == []
    f.series("n1", night + 5 * HOUR, 10 * MINUTE, [{"light": 0.0}] * 20)  # 10:00-13:20, still dark
    assert len(f.of("light.stuck", "firing")) == 1



def test_daylight_readings_in_the_dark_are_a_drifting_light_sensor() -> None:
    f = Feeder(Engine(), "t-rice-4")
    f.series("n1", MIDNIGHT_ICT, 10 * MINUTE, [{"light": float(i % 2)} for i in range(12)])
    assert f.of("light.drift") == []
    f.series("n1", MIDNIGHT_ICT + 2 * HOUR, 10 * MINUTE, [{"light": 20000.0 + 10 * i} for i in range(4)])
    assert len(f.of("light.drift", "firing")) == 1


def test_a_light_sensor_reading_daylight_at_dusk_is_a_drift_half_an_hour_after_sunset() -> None:
    """A working sensor sees civil twilight (≈ 585 lux at sunset, ≈ 3 lux at its end, 6° down, about 25 min
    later at 21 °N) with the true sunset up to 20 min after the computed one; a drifting one still reads
    daylight. Three readings beyond 1000 lux from half an hour after sunset are a drift."""
    drifting, working = SeriesFaults("light"), SeriesFaults("light")
    late_min = 20  # the true sunset after the computed one: equation of time and refraction
    found = []
    for i in range(-24, 24):  # 2 h before the computed sunset to 2 h after, every 5 min
        sun = -i * 5 / 60  # hours inside the day: negative after sunset
        down_min = i * 5 - late_min
        twilight = 585.0 * math.exp(-down_min * math.log(585 / 3) / 25) if down_min > 0 else 585.0 - 40 * down_min
        ts = MIDNIGHT_ICT + 17 * HOUR + i * 5 * MINUTE
        working.observe(ts, round(twilight, 1), sun)
        drifting.observe(ts, round(twilight + 20_000), sun)
        assert not working.physical_drift
        if drifting.physical_drift:
            found.append(sun)
    # Found at the third reading past half an hour after sunset: 40 min after it, not an hour and more.
    assert found and -45 / 60 < max(found) <= -LIGHT_NIGHT_SUN_H


def test_soil_ph_cannot_move_half_a_unit_in_hours() -> None:
    rnd = random.Random(7)
    f = Feeder(Engine(), "t-veg-1")
    ts = MIDNIGHT_ICT
    for i in range(288 * 2 + 60):
        drift = 0.01 * (i - 288 * 2) if i >= 288 * 2 else 0.0
        f.send("n1", ts, {"soil_ph": round(6.2 + rnd.gauss(0, 0.02) + drift, 2)})
        ts += 5 * MINUTE
        if i == 288 * 2 - 1:
            assert f.of("soil_ph.drift") == []
    assert len(f.of("soil_ph.drift", "firing")) == 1


def test_a_burst_of_rain_between_dry_readings_is_a_spike_but_a_shower_is_not() -> None:
    f = Feeder(Engine(), "t-rice-5")
    ts = f.series("n1", MIDNIGHT_ICT, 5 * MINUTE, [{"rain": 0.0}] * 100 + [{"rain": 11.2}] + [{"rain": 0.0}] * 5)
    assert len(f.of("rain.spike", "firing")) == 1
    shower = [0.28, 0.56, 1.12, 0.84, 0.28] + [0.0] * 5
    f.series("n1", ts + HOUR, 5 * MINUTE, [{"rain": v} for v in shower])
    assert len(f.of("rain.spike")) <= 2  # the first spike's firing and resolution only


def _frozen_from(f: SeriesFaults, values: list[float], step_ms: int = 5 * MINUTE) -> list[int]:
    """Feed values; the indexes at which the stream was stuck."""
    stuck = []
    for i, v in enumerate(values):
        f.observe(MIDNIGHT_ICT + i * step_ms, v)
        if f.stuck:
            stuck.append(i)
    return stuck


def test_light_frozen_at_zero_from_night_into_the_morning_is_a_dead_sensor_half_an_hour_after_sunrise() -> None:
    dead, working = SeriesFaults("light"), SeriesFaults("light")
    step_h = 5 / 60
    for i in range(-60, 12):  # 5 h before sunrise to 1 h after, every 5 min
        sun = i * step_h
        dead.observe(MIDNIGHT_ICT + 6 * HOUR + i * 5 * MINUTE, 0.0, sun)
        # A working sensor at dawn: dark until sunrise, then hundreds of lux rising fast.
        working.observe(MIDNIGHT_ICT + 6 * HOUR + i * 5 * MINUTE, 0.0 if sun <= 0 else round(400 + 4000 * sun), sun)
        assert not working.stuck
        assert dead.stuck == (sun >= LIGHT_DEAD_AT_ZERO_SUN_H), sun


def test_natural_repeats_of_a_noisy_quantized_stream_are_not_stuck_but_a_frozen_probe_is() -> None:
    # Soil EC: 0.01 dS/m noise at 0.01 resolution repeats the previous reading ~27 % of the time, so
    # clean runs of 8-10 equal readings happen every few weeks.
    rnd = random.Random(11)
    week = 2016
    clean = [round(1.1 + 0.05 * math.sin(2 * math.pi * i / 288) + rnd.gauss(0, 0.01), 2) for i in range(4 * week)]
    f = SeriesFaults("soil_ec")
    longest = max(len(list(g)) for _, g in itertools.groupby(clean))
    assert longest >= 8
    assert _frozen_from(f, clean) == []
    assert longest < f.stuck_limit() <= 16
    frozen = clean + [clean[-1]] * 20 + clean[:50]
    stuck = _frozen_from(SeriesFaults("soil_ec"), frozen)
    assert stuck and stuck[0] - len(clean) < 16  # an hour and a quarter
    assert stuck[-1] < len(frozen) - 1  # and it clears once the value moves again


def test_calm_nights_of_repeating_wind_are_not_stuck_but_a_frozen_anemometer_in_the_breeze_is() -> None:
    # Gusts scale with the wind (25 %), at 0.1 m/s resolution: at 0.3 m/s on calm nights readings repeat
    # for up to an hour, in a 2.5 m/s breeze rarely.
    rnd = random.Random(12)

    def wind(i: int) -> float:
        level = 0.3 if i % 288 < 144 else 2.5
        return round(max(0.0, level * (1 + rnd.gauss(0, 0.25))), 1)

    clean = [wind(i) for i in range(3 * 2016)]
    assert max(len(list(g)) for v, g in itertools.groupby(clean) if v > 0) >= 8
    assert _frozen_from(SeriesFaults("wind_speed"), clean) == []
    breeze = 3 * 2016 - 100
    assert breeze % 288 >= 144
    stuck = _frozen_from(SeriesFaults("wind_speed"), clean[:breeze] + [2.5] * 30)
    assert stuck and stuck[0] < breeze + 20


def test_a_fast_moving_quantity_is_stuck_after_the_section_11_six_readings() -> None:
    rnd = random.Random(13)
    clean = [round(25 + 3 * math.sin(2 * math.pi * i / 288) + rnd.gauss(0, 0.05), 2) for i in range(2016)]
    stuck = _frozen_from(SeriesFaults("air_temp"), clean + [25.0] * 10)
    assert stuck[0] == len(clean) + STUCK_MIN - 1


def _after_a_dropout(first: float, then: list[float]) -> Feeder:
    """Air humidity near 85 % through the night, then 4 h without readings (a dropout) while the morning
    dried the air to about 62 %: `first` is the first reading after the gap, `then` the ones after it."""
    rnd = random.Random(7)
    f = Feeder(Engine(), "t-veg-1")
    ts = MIDNIGHT_ICT
    for _ in range(300):
        f.send("n1", ts, {"air_humidity": round(85 + rnd.gauss(0, 0.8), 1)})
        ts += 5 * MINUTE
    ts += 4 * HOUR
    for v in [first, *then]:
        f.send("n1", ts, {"air_humidity": v})
        ts += 5 * MINUTE
    return f


def test_a_spike_just_after_a_dropout_is_judged_by_the_readings_after_it() -> None:
    """87 % right after the gap is close to the night before it, but far from the morning around it."""
    f = _after_a_dropout(87.3, [61.6, 61.6, 61.4, 61.9])
    assert len(f.of("air_humidity.spike", "firing")) == 1


def test_a_change_that_happened_during_a_dropout_is_not_a_spike() -> None:
    f = _after_a_dropout(61.2, [61.6, 61.5, 61.4, 61.9])
    assert f.of("air_humidity.spike") == []
    f = _after_a_dropout(75.0, [70.0, 65.0, 61.4, 61.9])  # still drying when the node came back
    assert f.of("air_humidity.spike") == []


def _new_barn(spike_at: int | None = None, step_at: int | None = None) -> Feeder:
    """A barn thermometer from its first reading (5-minute readings, warming slowly): a one-reading drop
    of 11 °C at `spike_at`, or the heating switching off at `step_at` (2.5 °C lower from then on)."""
    rnd = random.Random(4)
    f = Feeder(Engine(), "t-poultry-1")
    for i in range(40):
        v = 24.0 + 0.02 * i + rnd.gauss(0, 0.05)
        if i == spike_at:
            v -= 11.0
        if step_at is not None and i >= step_at:
            v -= 2.5
        f.send("n1", MIDNIGHT_ICT + i * 5 * MINUTE, {"air_temp": round(v, 2)})
    return f


def test_a_spike_in_a_probes_first_hours_is_found() -> None:
    """Before the spike model has learned the stream's noise (its first 48 readings), a jump far beyond
    what it has seen, and straight back, is a spike all the same."""
    spikes = _new_barn(spike_at=15).of("air_temp.spike", "firing")
    assert len(spikes) == 1


def test_a_lasting_change_in_a_probes_first_hours_is_not_a_spike() -> None:
    assert _new_barn(step_at=15).of("air_temp.spike") == []
