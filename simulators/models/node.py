"""One simulated sensor node: the physical models of its production type, read through noisy sensors.

    region = RegionWeather(seed=1)                       # one sky for every site of a run
    node = NodeModel("fish_pond", seed=42, region=region)
    s = node.sample(ts_ms)                               # call with increasing timestamps
    s.values["dissolved_oxygen"], s.battery_v, s.rssi

Stdlib only (plus `ruongso.profiles` for the quantity list of each profile): the edge agent's
`simulated` driver imports this module on a Raspberry Pi without numpy.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

from simulators.models import climate
from simulators.models.barn import Barn
from simulators.models.canopy import NET_HOUSE_LIGHT, LeafWetness, net_house_air, net_house_co2
from simulators.models.health import Battery, Radio
from simulators.models.noise import Noise
from simulators.models.seeds import derive_seed
from simulators.models.soil import LaggedTemperature, SoilChemistry, SoilWater
from simulators.models.water import Paddy, Pond
from simulators.models.weather import RegionWeather, Weather

RAIN_TIP_MM = 0.2794  # common tipping-bucket volume [RAIN-PI]
_RAIN_MAX_TIPS = int(39.9 / RAIN_TIP_MM)

# quantity → (Gaussian sensor noise, decimals, lower clip, upper clip). Noise levels are UNSOURCED
# ESTIMATES near the resolution of the sensors in docs/agronomy.md §9; the clips are physics (no
# negative light), never the plausible range, which clean signals stay inside by construction.
SENSOR: dict[str, tuple[float, int, float, float]] = {
    "air_temp": (0.05, 2, -50.0, 80.0),
    "air_humidity": (0.3, 1, 0.0, 100.0),
    "soil_moisture": (0.15, 1, 0.0, 100.0),
    "soil_temp": (0.03, 2, -50.0, 80.0),
    "soil_ec": (0.01, 2, 0.0, 50.0),
    "soil_ph": (0.02, 2, 0.0, 14.0),
    "water_temp": (0.03, 2, -5.0, 60.0),
    "water_ph": (0.02, 2, 0.0, 14.0),
    "dissolved_oxygen": (0.03, 2, 0.0, 40.0),
    "water_level": (0.3, 1, -100.0, 1000.0),
    "light": (0.0, 0, 0.0, 200_000.0),
    "rain": (0.0, 4, 0.0, 100.0),
    "wind_speed": (0.0, 1, 0.0, 80.0),
    "co2": (15.0, 0, 0.0, 100_000.0),
    "nh3": (0.3, 1, 0.0, 1000.0),
    "leaf_wetness": (1.0, 0, 0.0, 100.0),
}


@dataclass(slots=True)
class Sample:
    values: dict[str, float]
    battery_v: float
    rssi: float


@dataclass(slots=True)
class SiteClimate:
    """The regional sky with this site's small, fixed differences (shelter, local showers)."""

    region: RegionWeather
    temp_offset: float = 0.0
    rain_factor: float = 1.0
    wind_factor: float = 1.0

    @classmethod
    def for_site(cls, region: RegionWeather, site_seed: int) -> SiteClimate:
        rng = random.Random(derive_seed(site_seed, "microclimate"))
        return cls(region, rng.gauss(0, 0.3), rng.uniform(0.8, 1.2), rng.uniform(0.7, 1.3))

    _source: Weather | None = field(default=None, init=False, repr=False)
    _adjusted: Weather | None = field(default=None, init=False, repr=False)

    def sample(self, ts_ms: float) -> Weather:
        w = self.region.sample(ts_ms)
        if w is self._source and self._adjusted is not None:
            return self._adjusted
        self._source = w
        self._adjusted = Weather(
            air_temp=w.air_temp + self.temp_offset,
            dewpoint=w.dewpoint + self.temp_offset,
            humidity=w.humidity,
            lux=w.lux,
            solar=w.solar,
            cloud=w.cloud,
            rain_mm_h=w.rain_mm_h * self.rain_factor,
            wind=w.wind * self.wind_factor,
            daily_mean=w.daily_mean + self.temp_offset,
        )
        return self._adjusted

    def rain_between(self, t0_ms: float, t1_ms: float) -> float:
        return self.region.rain_between(t0_ms, t1_ms) * self.rain_factor


@dataclass(frozen=True, slots=True)
class _Field:
    """A cropped field's soil: FAO-56 depletion fraction p, irrigation, ET scale, EC and pH ranges, sun on soil."""

    p: float
    irrigated_share: float  # share of such fields that are irrigated
    et_factor: float
    ec_range: tuple[float, float]
    ph_range: tuple[float, float]
    sun_on_soil: float  # °C the bare soil gains in full sun


_FIELDS = {
    # p 0.45 cabbage/beans, 0.40 tomato, 0.50 citrus as the lychee proxy (docs/agronomy.md §3.3, §7);
    # pH ranges inside each profile's optimum; the rest UNSOURCED ESTIMATES.
    "vegetable_open": _Field(0.45, 1.0, 1.0, (0.3, 1.2), (5.6, 6.8), 3.0),
    "net_house": _Field(0.40, 1.0, 0.8, (0.8, 2.0), (5.8, 6.8), 1.0),  # fertigated, shaded
    "lychee_orchard": _Field(0.50, 0.5, 0.9, (0.2, 0.8), (5.2, 6.3), 1.0),  # canopy shade; half irrigate
}


@dataclass(slots=True)
class _Parts:
    soil: SoilWater | None = None
    soil_temp: LaggedTemperature | None = None
    chem: SoilChemistry | None = None
    leaf: LeafWetness | None = None
    pond: Pond | None = None
    paddy: Paddy | None = None
    barn: Barn | None = None
    sun_on_soil: float = 0.0
    co2_base: float = 420.0


class NodeModel:
    def __init__(
        self,
        profile_id: str,
        seed: int,
        *,
        region: RegionWeather | None = None,
        site_seed: int | None = None,
        site: SiteClimate | None = None,
        quantities: list[str] | None = None,
    ) -> None:
        if quantities is None:
            from ruongso.profiles import measured_quantities

            quantities = measured_quantities(profile_id)
        self.profile = profile_id
        self.quantities = list(quantities)
        # (quantity, noise, decimals, low clip, high clip) in the order the node reports them.
        self._sensors = [(q, *SENSOR[q]) for q in self.quantities]
        self.rng = random.Random(seed)
        self.noise = Noise(self.rng)
        if site is None:
            region = region or RegionWeather(derive_seed(seed, "region"))
            site = SiteClimate.for_site(region, seed if site_seed is None else site_seed)
        # Nodes of one site may share one SiteClimate (and its per-minute weather).
        self.site = site
        self.events: list[tuple[str, int, int]] = []
        self._last_ts: float | None = None
        self._rain_acc = 0.0
        self._cached: Sample | None = None
        self._cached_ts = 0
        self._build(profile_id)

    def _build(self, profile_id: str) -> None:
        rng = random.Random(self.rng.getrandbits(64))
        p = _Parts()
        indoor = profile_id in ("pig_barn", "poultry_barn")
        soil = _FIELDS.get(profile_id)
        if soil is not None:
            irrigated = rng.random() < soil.irrigated_share
            p.soil = SoilWater(rng, p=soil.p, irrigated=irrigated, et_factor=soil.et_factor)
            p.chem = SoilChemistry(rng, soil.ec_range, soil.ph_range)
            p.soil_temp = LaggedTemperature(6.0)
            p.sun_on_soil = soil.sun_on_soil
        if profile_id == "rice_paddy":
            p.paddy = Paddy(rng)
            p.chem = SoilChemistry(rng, (0.3, 0.9), (6.2, 7.0))
            p.soil_temp = LaggedTemperature(4.0)
        if profile_id == "fish_pond":
            p.pond = Pond(rng)
        if indoor:
            p.barn = Barn(profile_id, rng)
        if "leaf_wetness" in self.quantities:
            p.leaf = LeafWetness()
        p.co2_base = rng.uniform(410.0, 440.0)
        self.parts = p
        self.battery = Battery(rng, mains=indoor, shade=NET_HOUSE_LIGHT if profile_id == "net_house" else 1.0)
        self.radio = Radio(rng)

    def sample(self, ts_ms: int) -> Sample:
        """The node's readings at `ts_ms` (UTC ms); timestamps must increase from call to call."""
        last = self._last_ts
        dt_h = 0.0 if last is None else max(0.0, (ts_ms - last) / 3_600_000)
        w = self.site.sample(ts_ms)
        rain_mm = 0.0 if last is None else self.site.rain_between(last, ts_ms)
        self._last_ts = ts_ms
        day = climate.ict_days(ts_ms)
        hour = (day - math.floor(day)) * 24
        true = self._physics(ts_ms, day, hour, dt_h, w, rain_mm)
        values: dict[str, float] = {}
        normal = self.noise.normal
        for q, noise, decimals, lo, hi in self._sensors:
            if q not in true:
                continue  # asked for a quantity this production type does not have
            v = true[q] + normal(noise) if noise else true[q]
            values[q] = round(hi if v > hi else lo if v < lo else v, decimals)
        return Sample(values, round(self.battery.step(dt_h, w), 3), self.radio.rssi(day * 24, w))

    def value(self, quantity: str, ts_ms: int) -> float:
        """One quantity at `ts_ms`: the edge agent's `SignalModel` protocol (edge/drivers/simulated.py).

        Reads of several quantities within one second share one sample, so they come from the same state.
        """
        if self._cached is None or abs(ts_ms - self._cached_ts) >= 1000:
            self._cached, self._cached_ts = self.sample(ts_ms), ts_ms
        s = self._cached
        if quantity == "battery_v":
            return s.battery_v
        if quantity == "rssi":
            return s.rssi
        try:
            return s.values[quantity]
        except KeyError:
            raise KeyError(f"a {self.profile} node does not measure {quantity!r}") from None

    def _physics(
        self, ts_ms: int, day: float, hour: float, dt_h: float, w: Weather, rain_mm: float
    ) -> dict[str, float]:
        p = self.parts
        out: dict[str, float] = {"air_temp": w.air_temp, "air_humidity": w.humidity}
        if self.profile == "net_house":
            out["air_temp"], out["air_humidity"] = net_house_air(w)
            out["co2"] = net_house_co2(w, p.co2_base)
            rain_mm = 0.0
        out["light"] = w.lux * (NET_HOUSE_LIGHT if self.profile == "net_house" else 1.0) * (1 + self.noise.normal(0.01))
        out["wind_speed"] = max(0.0, w.wind * (1 + self.noise.normal(0.25)))
        out["rain"] = self._tip(rain_mm)
        if p.soil is not None and p.chem is not None and p.soil_temp is not None:
            theta = p.soil.step(dt_h, hour, w, rain_mm)
            out["soil_moisture"] = theta
            out["soil_temp"] = p.soil_temp.step(dt_h, out["air_temp"] + p.sun_on_soil * w.solar, w.daily_mean + 1.0)
            out["soil_ec"] = p.chem.ec(theta)
            out["soil_ph"] = p.chem.ph(day)
        if p.paddy is not None and p.chem is not None and p.soil_temp is not None:
            out.update(p.paddy.step(hour, dt_h, w, rain_mm))
            out["soil_temp"] = p.soil_temp.step(dt_h, out["water_temp"], w.daily_mean + 0.5)
            out["soil_ec"] = p.chem.ec(40.0 - min(out["water_level"], 10.0))
            out["soil_ph"] = p.chem.ph(day)
        if p.pond is not None:
            out.update(p.pond.step(ts_ms, dt_h, w, rain_mm))
            self.events = p.pond.events
        if p.barn is not None:
            out.update(p.barn.step(ts_ms, dt_h, w))
        if p.leaf is not None:
            out["leaf_wetness"] = p.leaf.step(dt_h, w, out["air_humidity"], sheltered=self.profile == "net_house")
        return out

    def _tip(self, rain_mm: float) -> float:
        """A tipping bucket: whole tips only, the remainder carried to the next reading."""
        self._rain_acc += rain_mm
        tips = min(_RAIN_MAX_TIPS, int(self._rain_acc / RAIN_TIP_MM))
        self._rain_acc -= tips * RAIN_TIP_MM
        return tips * RAIN_TIP_MM
