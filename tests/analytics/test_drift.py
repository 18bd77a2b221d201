"""Drift against same-site neighbours (analytics/drift.py), on generated signals with known answers."""

from __future__ import annotations

import math
import random

import pytest

from analytics.drift import BARN_GAS_FLOOR, DRIFT_MIN, NeighbourDrift
from analytics.engine import Engine
from tests.analytics.helpers import HOUR, MIDNIGHT_ICT, MINUTE, Feeder

STEP = 5 * MINUTE
DAY = 288  # readings a day at 5 min


def _barn_co2_excess(i: int) -> float:
    """A pig barn's CO2 above outdoor air: high at night (minimum ventilation), low in the afternoon."""
    return 1380 + 900 * math.cos(2 * math.pi * i / DAY)


def _run_barns(
    offset_c: float = 0.0, gain_c: float = 1.0, step_b_at: int | None = None, readings: int = 4 * DAY
) -> Feeder:
    """Three barns of one site (stocking ×1, ×1.08, ×0.93); barn c's probe drifts by `offset_c` ppm or by a
    factor `gain_c` over 6 h from day 3; barn b's fans drop a stage at `step_b_at`: from that reading
    its CO2 excess is 60 % higher (a third less air for the same animals)."""
    rnd = random.Random(11)
    f = Feeder(Engine(), "t-pig-1")
    ts = MIDNIGHT_ICT
    start = 3 * DAY
    for i in range(readings):
        for node, scale in (("a", 1.0), ("b", 1.08), ("c", 0.93)):
            excess = _barn_co2_excess(i) * scale
            if node == "b" and step_b_at is not None and i >= step_b_at:
                excess *= 1.6
            v = 420 + excess + rnd.gauss(0, 15)
            if node == "c" and i >= start:
                ramp = min(1.0, (i - start) / 72)
                v = 420 + (v - 420) * gain_c**ramp + offset_c * ramp
            f.send(node, ts + i * STEP, {"co2": round(v), "air_temp": 24.0 + rnd.gauss(0, 0.05)})
    return f


def test_a_drifting_barn_co2_probe_alerts_its_node_only() -> None:
    f = _run_barns(offset_c=1500)
    drift = f.of("co2.drift", "firing")
    assert {e.node for e in drift} == {"c"}
    assert drift[0].audience == "technician" and drift[0].kind == "sensor"


def test_a_drift_smaller_than_the_smallest_worth_a_visit_is_not_alerted() -> None:
    """Between barns CO2 is compared by the ratio of the excesses: a probe reading 16 % high (half the
    floor's ×1.35) is left alone, even when it is 300 ppm at the night's peak."""
    f = _run_barns(gain_c=math.exp(BARN_GAS_FLOOR["co2"] / 2))
    assert f.of("co2.drift") == []


def test_one_barns_fans_changing_stage_is_a_step_not_a_drift() -> None:
    f = _run_barns(step_b_at=2 * DAY + DAY // 2)
    assert f.of("co2.drift") == []


@pytest.mark.parametrize("per_reading", [0.05, 0.35])
def test_a_ramp_is_a_drift_however_fast(per_reading: float) -> None:
    """A drift is never mistaken for a step, even one that moves 0.35 °C a reading (7 noise units)."""
    rnd = random.Random(5)
    pair = NeighbourDrift("air_temp")
    ts = MIDNIGHT_ICT
    for _ in range(DAY + 10):
        pair.update(rnd.gauss(0, 0.05), ts)
        ts += STEP
    fired_at = None
    for k in range(400):
        if pair.update(min(per_reading * k, 6.0) + rnd.gauss(0, 0.05), ts) and fired_at is None:
            fired_at = k
        ts += STEP
    assert fired_at is not None
    # Found once the smoothed departure passes the 2.5 °C floor for 3 readings: not long after (the
    # baseline follows a tenth of that meanwhile, at 1/MEMORY a reading).
    assert per_reading * fired_at < 1.1 * DRIFT_MIN["air_temp"] + 8 * per_reading


def test_a_departure_that_lasts_days_becomes_the_new_normal() -> None:
    pair = NeighbourDrift("air_temp")
    ts = MIDNIGHT_ICT
    for i in range(DAY + 10):
        pair.update(0.01 * (i % 3), ts)
        ts += STEP
    states = []
    for i in range(5 * DAY):
        states.append(pair.update(min(4.0, i / 6) + 0.01 * (i % 3), ts))  # a ramp, then it stays
        ts += STEP
    assert any(states[:DAY])  # alerted …
    assert not any(states[-DAY:])  # … and taken as the pair's new normal after NeighbourDrift.RELEARN_DAYS


def test_a_pair_with_a_daily_shape_takes_a_lasting_new_routine_as_its_new_normal() -> None:
    # Two barns' CO2 ratio with a daily shape for 3 days, then for 8 days another routine (the other
    # barn's fans now run a stage lower all afternoon): one alarm, then the new routine is learned,
    # shape and all, instead of alarming again each afternoon against the old one.
    pair = NeighbourDrift("co2", floor=0.3, daily=True)
    ts, rises, was = MIDNIGHT_ICT, [], False
    for i in range(11 * DAY):
        shape = math.cos(2 * math.pi * (i % DAY) / DAY)
        w = min(1.0, max(0.0, (i - 3 * DAY) / 72))  # the new routine sets in over 6 h
        d = (1 - w) * 0.25 * shape + w * (-1.5 - 0.25 * shape)
        now = pair.update(d + 0.01 * (i % 3), ts)
        if now and not was:
            rises.append(i // DAY)
        was = now
        ts += STEP
    assert rises == [3]


def _barn_gases(nh3_offset: float, readings: int = 5 * DAY, drift_from: int = 4 * DAY) -> Feeder:
    """One pig barn alone (no neighbours): CO2 and NH3 both diluted by the same ventilation, manure
    scraped at 07:00 and 16:00 ICT so NH3 falls by half then builds up again; from `drift_from` the NH3
    cell drifts by `nh3_offset` ppm over 6 h."""
    rnd = random.Random(4)
    f = Feeder(Engine(), "t-pig-9")
    for i in range(readings):
        ventilation = 1.0 + 0.6 * (1 - math.cos(2 * math.pi * i / DAY)) / 2  # more air in the afternoon
        hour = (i % DAY) / 12
        since = hour - 7.0 if 7.0 <= hour < 16.0 else (hour - 16.0) % 24
        manure = 0.6 + 0.6 * min(1.0, since / 15.0)
        co2 = 420 + 1800 / ventilation + rnd.gauss(0, 15)
        nh3 = 9.0 * manure / ventilation + rnd.gauss(0, 0.3)
        if i >= drift_from:
            nh3 += nh3_offset * min(1.0, (i - drift_from) / 72)
        f.send("a", MIDNIGHT_ICT + i * STEP, {"co2": round(co2), "nh3": round(nh3, 1)})
    return f


def test_a_drifting_nh3_cell_is_found_against_the_barns_own_co2() -> None:
    f = _barn_gases(nh3_offset=10.0)
    drift = f.of("nh3.drift", "firing")
    assert drift and {e.node for e in drift} == {"a"}
    assert f.of("co2.drift") == []  # CO2 is the stable sensor: the break is put on NH3


def test_the_daily_manure_routine_is_not_an_nh3_drift() -> None:
    assert _barn_gases(nh3_offset=0.0).of("nh3.drift") == []


def _warm_barns(nh3_offset_c: float = 0.0) -> Feeder:
    """Three pig barns of one site like `_barn_gases` (stocking ×1, ×1.1, ×0.9), through a warm spell
    from day 3 noon: the manure emits up to 1.8× the NH3 for a day (emission rises with temperature),
    the same in every barn; from day 3 18:00 barn c's NH3 cell drifts by `nh3_offset_c` ppm over 6 h."""
    rnd = random.Random(6)
    f = Feeder(Engine(), "t-pig-2")
    warm_from, drift_from = 3 * DAY + DAY // 2, 3 * DAY + 3 * DAY // 4
    for i in range(5 * DAY):
        ventilation = 1.0 + 0.6 * (1 - math.cos(2 * math.pi * i / DAY)) / 2
        hour = (i % DAY) / 12
        since = hour - 7.0 if 7.0 <= hour < 16.0 else (hour - 16.0) % 24
        manure = 0.6 + 0.6 * min(1.0, since / 15.0)
        warm = 1.0 + 0.8 * min(1.0, (i - warm_from) / 36) if warm_from <= i < warm_from + DAY else 1.0
        for node, stock in (("a", 1.0), ("b", 1.1), ("c", 0.9)):
            co2 = 420 + 1800 * stock / ventilation + rnd.gauss(0, 15)
            nh3 = 9.0 * stock * manure * warm / ventilation + rnd.gauss(0, 0.3)
            if node == "c" and i >= drift_from:
                nh3 += nh3_offset_c * min(1.0, (i - drift_from) / 72)
            f.send(node, MIDNIGHT_ICT + i * STEP, {"co2": round(co2), "nh3": round(nh3, 1)})
    return f


def test_a_warm_spell_raising_every_barns_nh3_is_not_a_drift() -> None:
    assert _warm_barns().of("nh3.drift") == []


def test_a_drifting_nh3_cell_is_found_during_a_warm_spell() -> None:
    drift = _warm_barns(nh3_offset_c=10.0).of("nh3.drift", "firing")
    assert drift and {e.node for e in drift} == {"c"}


def _ponds(fall_c: float = 0.0, refill: tuple[str, ...] = (), site: str = "t-pond-1") -> Feeder:
    """Three ponds of one site losing ~1 cm a day; from day 2, pond c's level probe drifts down by
    `fall_c` cm over 5 h, and the ponds in `refill` are refilled by 10 cm over 2 h."""
    rnd = random.Random(8)
    f = Feeder(Engine(), site)
    start = 2 * DAY
    for i in range(3 * DAY):
        for node, level in (("a", 120.0), ("b", 135.0), ("c", 160.0)):
            v = level - i / DAY + rnd.gauss(0, 0.3)
            if i >= start and node in refill:
                v += 10.0 * min(1.0, (i - start) / 24)
            if i >= start and node == "c":
                v -= fall_c * min(1.0, (i - start) / 60)
            f.send(node, MIDNIGHT_ICT + i * STEP, {"water_level": round(v, 1), "water_temp": 28.0})
    return f


def test_a_pond_level_probe_drifting_down_alerts_its_node() -> None:
    drift = _ponds(fall_c=12.0).of("water_level.drift", "firing")
    assert {e.node for e in drift} == {"c"}


@pytest.mark.parametrize("refill", [("a", "b"), ("c",)])
def test_refilling_ponds_is_not_a_level_drift(refill: tuple[str, ...]) -> None:
    """Two neighbours refilled together leave pond c lower than both, but c's own level did not fall."""
    assert _ponds(refill=refill).of("water_level.drift") == []


def test_a_paddys_water_level_is_not_judged_for_drift() -> None:
    """Paddies are drained on purpose (alternate wetting and drying): a fast fall is management."""
    assert _ponds(fall_c=12.0, site="t-rice-1").of("water_level.drift") == []


def test_a_slow_wander_of_two_spots_is_followed_not_alerted() -> None:
    """Two spots drifting apart by 40 % of the floor a day (shade growing over one) are followed: the
    baseline keeps up even once the departure is past half the limit."""
    pair = NeighbourDrift("air_temp")
    ts = MIDNIGHT_ICT
    per_reading = DRIFT_MIN["air_temp"] / 2.5 / DAY
    states = []
    for i in range(8 * DAY):
        states.append(pair.update(per_reading * max(0, i - DAY) + 0.02 * (i % 3), ts))
        ts += STEP
    assert not any(states)


def _fields(drift_c: float = 0.0, start_h: float = 3.0, readings: int = DAY) -> Feeder:
    """Three air thermometers of a field from their first reading; from `start_h` hours, c's drifts by
    `drift_c` °C over 3 h. b sits in the sun: up to 1.5 °C warmer around noon."""
    rnd = random.Random(2)
    f = Feeder(Engine(), "t-veg-3")
    start = int(start_h * 12)
    for i in range(readings):
        hour = (i % DAY) / 12
        base = 24 + 5 * math.sin(2 * math.pi * (hour - 9) / 24)
        for node in ("a", "b", "c"):
            v = base + rnd.gauss(0, 0.1)
            if node == "b":
                v += 1.5 * max(0.0, math.sin(math.pi * (hour - 6) / 12))
            if node == "c" and i >= start:
                v += drift_c * min(1.0, (i - start) / 36)
            f.send(node, MIDNIGHT_ICT + i * STEP, {"air_temp": round(v, 2)})
    return f


def test_a_probe_drifting_in_its_first_hours_is_found_on_the_first_day() -> None:
    drift = _fields(drift_c=-7.0).of("air_temp.drift", "firing")
    assert {e.node for e in drift} == {"c"}
    assert drift[0].ts < MIDNIGHT_ICT + 12 * 3_600_000


def test_a_sunny_spot_is_not_a_drift_on_the_first_day() -> None:
    assert _fields().of("air_temp.drift") == []


def _weathered_field(nodes: tuple[str, ...], drift: tuple[str, float] | None = None,
                     silent: str | None = None, days: int = 8,
                     cold: tuple[int, int] = (4 * DAY + 6 * 12, 5 * DAY + 18 * 12),
                     away: tuple[str, int, int] | None = None) -> Feeder:
    """Air thermometers of one field under changing weather: each day's mean and swing differ (±2.5 °C,
    ±30 %), a cold front takes 7 °C off over the readings `cold` (from day 4, 06:00, for a day and a
    half). Node b sits in the sun (up to 1.5 °C warmer around noon). `drift` (node, °C): that node's
    probe drifts by so much over 6 h from day 6, 08:00. `silent`: that node is offline from day 6, 06:00.
    `away` (node, first, last reading): that node sends nothing over those readings."""
    rnd = random.Random(4)
    day_mean = [24 + rnd.uniform(-2.5, 2.5) for _ in range(days)]
    day_swing = [5 * rnd.uniform(0.7, 1.3) for _ in range(days)]
    f = Feeder(Engine(), "t-veg-4")
    start = 6 * DAY + 8 * 12
    for i in range(days * DAY):
        day, slot = divmod(i, DAY)
        hour = slot / 12
        front = -7.0 if cold[0] <= i < cold[1] else 0.0
        base = day_mean[day] + front + day_swing[day] * math.sin(2 * math.pi * (hour - 9) / 24)
        for node in nodes:
            offline = node == silent and i >= 6 * DAY + 6 * 12
            if offline or (away is not None and node == away[0] and away[1] <= i <= away[2]):
                continue
            v = base + rnd.gauss(0, 0.1)
            if node == "b":
                v += 1.5 * max(0.0, math.sin(math.pi * (hour - 6) / 12))
            if drift is not None and node == drift[0] and i >= start:
                v += drift[1] * min(1.0, (i - start) / 72)
            f.send(node, MIDNIGHT_ICT + i * STEP, {"air_temp": round(v, 2)})
    return f


@pytest.mark.parametrize("culprit, offset", [("a", 6.0), ("b", -6.0)])
def test_with_one_neighbour_the_node_that_left_its_own_daily_profile_is_named(culprit: str, offset: float) -> None:
    """Two nodes show only that they parted; the one reading far from its own usual level at that time of
    day, while the other reads as usual, is the drifting probe."""
    drift = _weathered_field(("a", "b"), drift=(culprit, offset)).of("air_temp.drift", "firing")
    assert {e.node for e in drift} == {culprit}
    assert drift[0].ts < MIDNIGHT_ICT + 6 * DAY * STEP + 14 * HOUR


def test_two_nodes_under_changing_weather_and_a_cold_front_are_not_a_drift() -> None:
    assert _weathered_field(("a", "b")).of("air_temp.drift") == []


def test_weather_turning_while_one_of_two_probes_drifts_does_not_name_the_other() -> None:
    """A storm takes 7 °C off both nodes from 09:00 to 13:00 while b drifts 6 °C low: a moved 7 °C up
    at 13:00 and b only 1 °C, which alone would put the parting on a. The storm moved a meanwhile, so a is
    not named."""
    f = _weathered_field(("a", "b"), drift=("b", -6.0), cold=(6 * DAY + 9 * 12, 6 * DAY + 13 * 12))
    assert {e.node for e in f.of("air_temp.drift", "firing")} <= {"b"}


@pytest.mark.parametrize("away", [None, ("b", 6 * DAY + 10 * 12, 6 * DAY + 11 * 12)])
def test_a_drift_is_named_while_the_third_node_of_the_site_is_offline(away: tuple[str, int, int] | None) -> None:
    """Also when the one peer left is itself away for an hour while the two part (a dropout)."""
    f = _weathered_field(("a", "b", "c"), drift=("a", 6.0), silent="c", away=away)
    assert {e.node for e in f.of("air_temp.drift", "firing")} == {"a"}


def _bed(ec_drift: float = 0.0, fertigate_day: int | None = None, drift_from: int = 4 * DAY + DAY // 2,
         drift_until: int | None = None) -> Feeder:
    """One vegetable bed drying by day and drip-irrigated back to 34 %VWC each morning it is below 24.
    Its probe's bulk EC rises with water content (EC ∝ θ^1.5: the opposite sign of pore-water dilution,
    so the detector must learn the relation, not assume it). From reading `drift_from` (day 4 noon) the
    EC reading drifts by `ec_drift` dS/m over 6 h, until `drift_until`; on `fertigate_day` the morning
    irrigation carries fertiliser (EC × 2)."""
    rnd = random.Random(3)
    f = Feeder(Engine(), "t-veg-4")
    theta, salt, watering = 30.0, 0.5, False
    for i in range(6 * DAY):
        day, hour = divmod(i, DAY)
        hour /= 12
        if 8 <= hour < 17:
            theta -= 0.04
        if 6 <= hour < 8 and (theta < 24 or watering):
            watering = theta < 34
            theta += 0.6 if watering else 0.0
            if watering and day == fertigate_day:
                salt = min(1.0, salt + 0.1)
        else:
            watering = False
        ec = salt * (theta / 30) ** 1.5
        if drift_from <= i < (drift_until or 6 * DAY):
            ec += ec_drift * min(1.0, (i - drift_from) / 72)
        m = {"soil_moisture": round(theta + rnd.gauss(0, 0.1), 1), "soil_ec": round(ec + rnd.gauss(0, 0.005), 2)}
        f.send("a", MIDNIGHT_ICT + i * STEP, m)
    return f


def test_a_drifting_soil_ec_probe_is_found_against_its_own_soil_moisture() -> None:
    f = _bed(ec_drift=0.6)
    drift = f.of("soil_ec.drift", "firing")
    assert {e.node for e in drift} == {"a"}
    assert drift[0].ts >= MIDNIGHT_ICT + 4 * DAY * STEP + DAY // 2 * STEP
    assert f.of("soil_moisture.drift") == []


@pytest.mark.parametrize(("drift_from", "drift_until", "prompt"), [(24, 150, True), (60, 180, True), (96, 200, False)])
def test_a_soil_ec_probe_drifting_on_its_first_day_is_one_alert(drift_from: int, drift_until: int,
                                                                 prompt: bool) -> None:
    # Long before two days of wetness were learned: from 2 h, 5 h or 8 h after the node starts (when the
    # day's drying begins), into the drying.
    f = _bed(ec_drift=0.6 if drift_from == 96 else 0.8, drift_from=drift_from, drift_until=drift_until)
    events = f.of("soil_ec.drift")
    assert {e.node for e in events} == {"a"}
    # One alert: what was learned while the probe drifted is forgotten, so the clean days after it
    # raise nothing.
    resolved = [e for e in events if e.state == "resolved"]
    assert events[0].state == "firing" and resolved == [events[-1]]
    if prompt:
        # Found while it drifts; over within two hours of the probe reading true again, although the
        # soil has dried to a wetness not seen before.
        end = MIDNIGHT_ICT + drift_until * STEP
        assert events[0].ts < end < resolved[0].ts < end + 24 * STEP


@pytest.mark.parametrize("fertigate_day", [None, 5])
def test_drying_watering_and_fertigation_are_not_an_ec_drift(fertigate_day: int | None) -> None:
    assert _bed(fertigate_day=fertigate_day).of("soil_ec.drift") == []


def _beds(rise_c: float = 0.0, rise_h: float = 15.0, water_c: tuple[float, float] | None = None,
          rain: bool = False) -> Feeder:
    """Three beds drying alike. On day 3 from 20:00 c's probe reads `rise_c` %VWC higher over `rise_h`
    hours; with `water_c` (%VWC an hour, hours), bed c alone is irrigated from 06:00 on day 3; with `rain`,
    a light rain wets all three by 1 %VWC an hour from 10:00 to 18:00 that day."""
    rnd = random.Random(6)
    f = Feeder(Engine(), "t-veg-5")
    levels = {"a": 28.0, "b": 30.0, "c": 26.0}
    start = 3 * DAY + 20 * 12
    for i in range(5 * DAY):
        day, hour = divmod(i, DAY)
        hour /= 12
        for node in levels:
            if 8 <= hour < 17:
                levels[node] -= 0.02
            if water_c and node == "c" and day == 3 and 6 <= hour < 6 + water_c[1]:
                levels[node] += water_c[0] / 12
            if rain and day == 3 and 10 <= hour < 18:
                levels[node] += 1 / 12
            v = levels[node] + rnd.gauss(0, 0.1)
            if node == "c" and i >= start:
                v += rise_c * min(1.0, (i - start) / (rise_h * 12))
            f.send(node, MIDNIGHT_ICT + i * STEP, {"soil_moisture": round(v, 1)})
    return f


def test_a_soil_moisture_probe_creeping_up_through_the_night_is_a_drift() -> None:
    drift = _beds(rise_c=10.0).of("soil_moisture.drift", "firing")
    assert {e.node for e in drift} == {"c"}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"water_c": (12.0, 1.0)},  # one bed watered in an hour
        {"water_c": (3.0, 5.0)},  # one bed under a sprinkler for five hours
        {"water_c": (3.0, 4.0), "rain": True},  # then rain on all: c climbs, but no more than the others
        {"rise_c": 10.0, "rise_h": 1.0},  # as fast as water arrives
    ],
)
def test_watering_one_bed_or_rain_on_all_is_not_a_soil_moisture_drift(kwargs: dict) -> None:
    """A rise as fast as water arrives is watering, and rain raises every bed: neither is the probe."""
    assert _beds(**kwargs).of("soil_moisture.drift") == []


def _pond_oxygen(offset_c: float) -> Feeder:
    """Three ponds whose oxygen swings by day with different algae (amplitude 2.5 to 4.5 mg/L); from day 3
    pond c's probe reads `offset_c` mg/L off over 10 h."""
    rnd = random.Random(9)
    f = Feeder(Engine(), "t-pond-2")
    start = 3 * DAY
    for i in range(5 * DAY):
        hour = (i % DAY) / 12
        swing = math.sin(2 * math.pi * (hour - 10) / 24)
        for node, amp in (("a", 2.5), ("b", 3.5), ("c", 4.5)):
            v = 7.0 + amp * swing + rnd.gauss(0, 0.1)
            if node == "c" and i >= start:
                v += offset_c * min(1.0, (i - start) / 120)
            f.send(node, MIDNIGHT_ICT + i * STEP, {"dissolved_oxygen": round(max(0.2, v), 2), "water_temp": 28.0})
    return f


def _barn_fans_fail() -> Feeder:
    """Three pig barns at 24 °C; on day 2 at 10:00 barn c's fans stop and its air warms by 9 °C over 3 h,
    for 5 h: a real event in one barn, which its neighbours' thermometers do not share."""
    rnd = random.Random(13)
    f = Feeder(Engine(), "t-pig-4")
    start = 2 * DAY + 120
    for i in range(3 * DAY):
        for node in "abc":
            t = 24.0 + rnd.gauss(0, 0.2)
            if node == "c" and start <= i < start + 96:
                t += 9.0 * min(1.0, (i - start) / 36)
            f.send(node, MIDNIGHT_ICT + i * STEP, {"air_temp": round(t, 1), "air_humidity": 70.0 + rnd.gauss(0, 1)})
    return f


def test_a_barn_warming_alone_is_judged_a_drift_but_its_critical_heat_alert_still_goes_out() -> None:
    f = _barn_fans_fail()
    drift = f.of("air_temp.drift", "firing")
    assert drift and {e.node for e in drift} == {"c"}
    # A thermometer drifting and a barn whose fans failed look alike: the warning waits for the
    # technician, the critical alert does not.
    assert f.of("air_temp.warn_high") == []
    crit = f.of("air_temp.crit_high", "firing")
    assert crit and {e.node for e in crit} == {"c"} and crit[0].ts > drift[0].ts
    assert "Cảm biến có thể bị trôi" in crit[0].text["vi"]
    assert not any("trôi" in e.text["vi"] for e in f.farmer() if e.node != "c")


def _pond_crash(depth: float, from_h: int = 1, fall_h: int = 2, hours: int = 8) -> Feeder:
    """Three ponds like `_pond_oxygen`'s; on day 3 from `from_h` o'clock pond c's oxygen falls by `depth`
    mg/L over `fall_h` hours and stays down until `hours` after it began (a plankton die-off in that pond
    alone)."""
    rnd = random.Random(9)
    f = Feeder(Engine(), "t-pond-3")
    start = 3 * DAY + 12 * from_h
    for i in range(5 * DAY):
        hour = (i % DAY) / 12
        swing = math.sin(2 * math.pi * (hour - 10) / 24)
        for node, amp in (("a", 2.5), ("b", 3.5), ("c", 3.0)):
            v = 7.0 + amp * swing + rnd.gauss(0, 0.1)
            if node == "c" and start <= i < start + 12 * hours:
                v -= depth * min(1.0, (i - start) / (12 * fall_h))
            f.send(node, MIDNIGHT_ICT + i * STEP, {"dissolved_oxygen": round(max(0.2, v), 2),
                                                   "water_temp": round(29.0 + rnd.gauss(0, 0.05), 2)})
    return f


def test_a_pond_crashing_alone_still_alerts_its_farmer_though_it_reads_below_its_neighbours() -> None:
    f = _pond_crash(3.5)
    # Reading far below its neighbours for hours, pond c's probe may be judged to drift (a technician
    # alert) ...
    assert {e.node for e in f.of("dissolved_oxygen.drift")} <= {"c"}
    # ... but the farmer hears of the crash all the same: a fouled probe and a dying pond look alike.
    crit = f.of("dissolved_oxygen.crit_low", "firing")
    assert crit and {e.node for e in crit} == {"c"}
    assert MIDNIGHT_ICT + (3 * DAY + 12) * STEP < crit[0].ts < MIDNIGHT_ICT + (3 * DAY + 84) * STEP


def test_a_pond_sinking_below_its_neighbours_from_the_afternoon_still_warns_its_farmer_at_night() -> None:
    # From 16:00 pond c falls 1.8 mg/L below its usual over 6 h: judged a drift before its oxygen is low;
    # at night it falls under the 3 mg/L warning level, which the farmer must hear of all the same.
    f = _pond_crash(1.8, from_h=16, fall_h=6, hours=18)
    drift, warn = f.of("dissolved_oxygen.drift", "firing"), f.of("dissolved_oxygen.warn_low", "firing")
    assert drift and warn and drift[0].ts < warn[0].ts
    assert {e.node for e in drift + warn} == {"c"}
    # ... told that the probe may be the cause, so the walk to the pond checks both.
    assert "Cảm biến có thể bị trôi" in warn[0].text["vi"] and "probe may be drifting" in warn[0].text["en"]


def test_a_fouled_oxygen_probe_reading_low_is_a_drift() -> None:
    drift = _pond_oxygen(-4.0).of("dissolved_oxygen.drift", "firing")
    assert {e.node for e in drift} == {"c"}


def test_a_pond_reading_more_oxygen_than_its_neighbours_is_not_a_drift() -> None:
    """Oxygen probes foul and read low; a pond above its neighbours is the pond (more algae, an aerator)."""
    assert _pond_oxygen(4.0).of("dissolved_oxygen.drift") == []
