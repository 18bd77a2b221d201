"""The simulated signals behave like the physics they model, and stay inside the plausible ranges."""

from __future__ import annotations

import itertools
import math
import statistics
import sys
from collections import defaultdict

import pytest

from contract.quantities import QUANTITIES
from ruongso.profiles import profile_ids
from simulators.models import NodeModel, RegionWeather, climate
from simulators.models.climate import ict_days

# 1 July 2025 and 1 January 2025, 00:00 ICT.
JULY = 1_751_302_800_000
JANUARY = 1_735_664_400_000
TEN_MIN = 600_000


def _run(profile: str, start: int, days: int, seed: int = 3, step: int = TEN_MIN) -> list[tuple[int, dict[str, float]]]:
    node = NodeModel(profile, seed, region=RegionWeather(seed))
    out = []
    for k in range(days * 86_400_000 // step):
        ts = start + k * step
        s = node.sample(ts)
        out.append((ts, {**s.values, "battery_v": s.battery_v, "rssi": s.rssi}))
    return out


def _by_day(series: list[tuple[int, dict[str, float]]], q: str) -> dict[int, list[tuple[float, float]]]:
    days: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for ts, v in series:
        d = ict_days(ts)
        days[math.floor(d)].append(((d - math.floor(d)) * 24, v[q]))
    return days


def _hour_of(points: list[tuple[float, float]], fn: object) -> float:
    return (max if fn is max else min)(points, key=lambda p: p[1])[0]


@pytest.mark.parametrize("profile", profile_ids())
@pytest.mark.parametrize("start", [JULY, JANUARY], ids=["july", "january"])
def test_clean_signals_stay_inside_the_plausible_ranges(profile: str, start: int) -> None:
    for _ts, values in _run(profile, start, days=10):
        for q, v in values.items():
            assert QUANTITIES[q].plausible(v), f"{profile} {q}={v}"


@pytest.mark.parametrize("start", [JULY, JANUARY], ids=["july", "january"])
def test_air_temperature_peaks_in_the_afternoon_and_bottoms_out_near_dawn(start: int) -> None:
    days = _by_day(_run("vegetable_open", start, days=20), "air_temp")
    maxima = [_hour_of(p, max) for p in days.values()]
    minima = [_hour_of(p, min) for p in days.values()]
    assert sum(12 <= h <= 17 for h in maxima) >= 0.8 * len(days), maxima
    # Minimum at sunrise (≈ 05:15–06:35 ICT through the year), give or take a shower or a cold front.
    assert sum(4 <= h <= 8 for h in minima) >= 0.7 * len(days), minima


def test_summer_is_hotter_than_winter_by_the_delta_normals() -> None:
    july = statistics.mean(v["air_temp"] for _, v in _run("rice_paddy", JULY, days=15))
    january = statistics.mean(v["air_temp"] for _, v in _run("rice_paddy", JANUARY, days=15))
    # Hà Nội normals: July mean ≈ 29.7 °C, January ≈ 17 °C (simulators/models/climate.py).
    assert 27 < july < 32 and 14 < january < 20


@pytest.mark.parametrize("seed", [3, 4])
def test_pond_oxygen_is_lowest_near_dawn_and_highest_in_the_afternoon(seed: int) -> None:
    node = NodeModel("fish_pond", seed, region=RegionWeather(seed))
    nights: dict[int, tuple[float, float]] = {}  # noon-to-noon window → (hour, DO) of its minimum
    days: dict[int, tuple[float, float]] = {}
    for k in range(20 * 144):
        ts = JULY + k * TEN_MIN
        do = node.sample(ts).values["dissolved_oxygen"]
        d = ict_days(ts)
        hour = (d - math.floor(d)) * 24
        night, day = math.floor(d - 0.5), math.floor(d)
        if night not in nights or do < nights[night][1]:
            nights[night] = (hour, do)
        if day not in days or do > days[day][1]:
            days[day] = (hour, do)
    crashes = {math.floor(ict_days(end) - 0.5) for _, _, end in node.events}
    lows = [h for n, (h, _) in nights.items() if n not in crashes and n != max(nights) and n != min(nights)]
    highs = [h for h, _ in days.values()]
    assert sum(4 <= h <= 9 for h in lows) >= 0.9 * len(lows), lows
    assert sum(12 <= h <= 19 for h in highs) >= 0.8 * len(highs), highs


def test_a_hot_season_brings_crash_nights_with_oxygen_below_2_mg_l_before_dawn() -> None:
    crashes = []
    for seed in range(12):
        node = NodeModel("fish_pond", seed, region=RegionWeather(seed))
        lows: dict[int, float] = {}
        for k in range(30 * 144):
            ts = JULY + k * TEN_MIN
            do = node.sample(ts).values["dissolved_oxygen"]
            day = math.floor(ict_days(ts))
            lows[day] = min(lows.get(day, 99.0), do)
        for kind, start, end in node.events:
            assert kind == "do_crash" and end - start == 14 * 3_600_000
            assert lows[math.floor(ict_days(end))] < 2.0
            crashes.append(seed)
    assert crashes, "30 summer days of 12 ponds should see at least one crash night"


def test_water_temperature_lags_and_damps_the_air() -> None:
    series = _run("fish_pond", JULY, days=10)
    air, water = _by_day(series, "air_temp"), _by_day(series, "water_temp")
    lag = [_hour_of(water[d], max) - _hour_of(air[d], max) for d in air if len(air[d]) == 144]
    assert statistics.median(lag) > 1.0
    air_range = statistics.mean(max(v for _, v in p) - min(v for _, v in p) for p in air.values())
    water_range = statistics.mean(max(v for _, v in p) - min(v for _, v in p) for p in water.values())
    assert water_range < 0.7 * air_range


def test_soil_dries_by_day_and_irrigation_brings_it_back_above_the_refill_point() -> None:
    # December: little rain, so the water balance is drydown and irrigation.
    december = JANUARY - 31 * 86_400_000
    series = [v["soil_moisture"] for _, v in _run("net_house", december, days=14)]
    falls = sum(b < a - 0.05 for a, b in itertools.pairwise(series))
    rises = [b - a for a, b in itertools.pairwise(series) if b > a + 0.5]
    assert falls > len(series) / 4 and rises, "expected drydown with irrigation events"
    # Net-house refill point for p = 0.40 on the silt-loam default: 25.2 %VWC (docs/agronomy.md §3.3).
    assert min(series) > 23.0


def test_barn_ammonia_is_higher_at_night_when_ventilation_is_low() -> None:
    series = _run("pig_barn", JANUARY, days=7)
    night = [v["nh3"] for ts, v in series if (ict_days(ts) % 1) * 24 < 5]
    midday = [v["nh3"] for ts, v in series if 11 <= (ict_days(ts) % 1) * 24 < 15]
    assert statistics.mean(night) > 1.3 * statistics.mean(midday)


def test_solar_nodes_charge_by_day() -> None:
    series = _run("lychee_orchard", JULY, days=5)
    dawn = [v["battery_v"] for ts, v in series if 5 <= (ict_days(ts) % 1) * 24 < 6]
    afternoon = [v["battery_v"] for ts, v in series if 14 <= (ict_days(ts) % 1) * 24 < 15]
    assert statistics.mean(afternoon) > statistics.mean(dawn)


def test_rain_falls_in_whole_bucket_tips_and_matches_the_season() -> None:
    july = [v["rain"] for _, v in _run("lychee_orchard", JULY, days=30, step=60_000)]
    tips = [r / 0.2794 for r in july if r > 0]
    assert tips and all(abs(t - round(t)) < 1e-3 for t in tips)
    # Hà Nội July normal ≈ 288 mm; one month of one seed may be well off, but not by an order of magnitude.
    assert 50 < sum(july) < 900


def test_the_models_import_without_numpy_scipy_or_fastapi() -> None:
    import subprocess

    code = (
        "import sys\n"
        "for m in ('numpy', 'scipy', 'fastapi', 'pydantic'): sys.modules[m] = None\n"
        "from simulators.models import NodeModel, RegionWeather\n"
        "print(NodeModel('fish_pond', 1, region=RegionWeather(1)).sample(1751302800000).values['dissolved_oxygen'])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) > 0


def test_the_edge_signal_protocol_reads_one_quantity_at_a_time_from_one_sample() -> None:
    node = NodeModel("fish_pond", 9, region=RegionWeather(9))
    twin = NodeModel("fish_pond", 9, region=RegionWeather(9))
    sample = twin.sample(JULY)
    assert node.value("dissolved_oxygen", JULY) == sample.values["dissolved_oxygen"]
    assert node.value("water_temp", JULY + 200) == sample.values["water_temp"]
    assert node.value("battery_v", JULY + 300) == sample.battery_v
    with pytest.raises(KeyError, match="does not measure 'nh3'"):
        node.value("nh3", JULY)


def test_a_simulated_year_follows_the_monthly_normals_of_the_delta() -> None:
    weather = RegionWeather(1)
    start = JANUARY
    temps: dict[int, list[float]] = defaultdict(list)
    rain = 0.0
    for k in range(365 * 24):
        ts = start + k * 3_600_000
        month = climate.month_index(climate.day_of_year(math.floor(ict_days(ts))))
        temps[month].append(weather.sample(ts).air_temp)
        rain += weather.rain_between(ts, ts + 3_600_000)
    for m in range(12):
        normal = (climate.T_MAX[m] + climate.T_MIN[m]) / 2
        assert abs(statistics.mean(temps[m]) - normal) < 1.5, (m + 1, statistics.mean(temps[m]), normal)
    assert 0.7 * sum(climate.RAIN_MM) < rain < 1.3 * sum(climate.RAIN_MM)


def test_a_quantity_the_production_type_lacks_is_refused_by_name_not_by_a_crash() -> None:
    node = NodeModel("pig_barn", 1, region=RegionWeather(1), quantities=["air_temp", "soil_moisture"])
    assert set(node.sample(JULY).values) == {"air_temp"}
    with pytest.raises(KeyError, match="does not measure 'soil_moisture'"):
        node.value("soil_moisture", JULY + 60_000)
