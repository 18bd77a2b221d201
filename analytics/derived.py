"""Derived indicators (docs/agronomy.md §8): pure functions, tested against the §8 test vectors."""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

# Tứ Kỳ (agronomy.md §0); a site's surveyed position overrides these.
DEFAULT_LAT = 20.8
DEFAULT_LON = 106.4
ICT_OFFSET_S = 7 * 3600


def sat_vp(t: float) -> float:
    """Saturation vapour pressure e°(T), kPa (FAO-56 eq. 11)."""
    return 0.6108 * math.exp(17.27 * t / (t + 237.3))


def vpd(t: float, rh: float) -> float:
    """Vapour-pressure deficit, kPa (§8.2)."""
    return sat_vp(t) * (1.0 - rh / 100.0)


def dew_point(t: float, rh: float) -> float:
    """Magnus dew point, °C, Alduchov–Eskridge constants (§8.3); RH 0 has no dew point."""
    a, b = 17.625, 243.04
    g = math.log(max(rh, 1e-6) / 100.0) + a * t / (b + t)
    return b * g / (a - g)


def thi(t: float, rh: float) -> float:
    """Livestock temperature–humidity index (§8.4)."""
    return 0.8 * t + (rh / 100.0) * (t - 14.4) + 46.4


def heat_index(t: float, rh: float) -> float:
    """NWS heat index (Rothfusz with adjustments), °C in and out (§8.4)."""
    f = t * 9.0 / 5.0 + 32.0
    simple = 0.5 * (f + 61.0 + (f - 68.0) * 1.2 + rh * 0.094)
    if (simple + f) / 2.0 < 80.0:
        hi = simple
    else:
        hi = (
            -42.379 + 2.04901523 * f + 10.14333127 * rh - 0.22475541 * f * rh - 0.00683783 * f * f
            - 0.05481717 * rh * rh + 0.00122874 * f * f * rh + 0.00085282 * f * rh * rh
            - 0.00000199 * f * f * rh * rh
        )
        if rh < 13.0 and 80.0 <= f <= 112.0:
            hi -= ((13.0 - rh) / 4.0) * math.sqrt((17.0 - abs(f - 95.0)) / 17.0)
        elif rh > 85.0 and 80.0 <= f <= 87.0:
            hi += ((rh - 85.0) / 10.0) * ((87.0 - f) / 5.0)
    return (hi - 32.0) * 5.0 / 9.0


def do_saturation(t: float) -> float:
    """DO saturation in fresh water at 1 atm, mg/L (APHA, §8.8)."""
    k = t + 273.15
    return math.exp(-139.34410 + 1.575701e5 / k - 6.642308e7 / k**2 + 1.243800e10 / k**3 - 8.621949e11 / k**4)


def do_pct_sat(do: float, t: float) -> float:
    return 100.0 * do / do_saturation(t)


def gdd(tmax: float, tmin: float, tbase: float = 10.0, tcap: float | None = None) -> float:
    """Growing degree days of one day, °C·d (§8.6); `tcap` caps Tmax (some rice studies use 30)."""
    hi = min(tmax, tcap) if tcap is not None else tmax
    return max(0.0, hi / 2.0 + max(tmin, tbase) / 2.0 - tbase)


def extraterrestrial_radiation(lat_deg: float, doy: int) -> float:
    """Ra, MJ m⁻² d⁻¹ (FAO-56 eqs. 21–25)."""
    phi = math.radians(lat_deg)
    dr = 1.0 + 0.033 * math.cos(2.0 * math.pi * doy / 365.0)
    delta = 0.409 * math.sin(2.0 * math.pi * doy / 365.0 - 1.39)
    ws = math.acos(max(-1.0, min(1.0, -math.tan(phi) * math.tan(delta))))
    return (24.0 * 60.0 / math.pi) * 0.0820 * dr * (
        ws * math.sin(phi) * math.sin(delta) + math.cos(phi) * math.cos(delta) * math.sin(ws)
    )


def daylength_h(lat_deg: float, doy: int) -> float:
    """N = 24·ωs/π, hours (FAO-56 eq. 34)."""
    phi = math.radians(lat_deg)
    delta = 0.409 * math.sin(2.0 * math.pi * doy / 365.0 - 1.39)
    ws = math.acos(max(-1.0, min(1.0, -math.tan(phi) * math.tan(delta))))
    return 24.0 * ws / math.pi


def hargreaves_et0(tmax: float, tmin: float, ra: float, tmean: float | None = None) -> float:
    """Reference evapotranspiration, mm/d (Hargreaves, §8.5); Ra in MJ m⁻² d⁻¹."""
    tm = (tmax + tmin) / 2.0 if tmean is None else tmean
    return 0.0023 * (tm + 17.8) * math.sqrt(max(tmax - tmin, 0.0)) * 0.408 * ra


def blast_lwd_required_h(t: float) -> float | None:
    """Leaf-wetness hours needed for rice blast lesions at mean temperature t (CHOI87, §2.4)."""
    pts = ((18.0, 22.0), (22.0, 16.0), (26.0, 10.0), (30.0, 8.0))
    if not pts[0][0] <= t <= pts[-1][0]:
        return None
    for (t0, h0), (t1, h1) in itertools.pairwise(pts):
        if t <= t1:
            return h0 + (h1 - h0) * (t - t0) / (t1 - t0)
    return pts[-1][1]


@lru_cache(maxsize=1024)  # asked for every night-time pond reading and every light reading
def sun_times_local_h(lat_deg: float, lon_deg: float, doy: int) -> tuple[float, float]:
    """(sunrise, sunset) in ICT hours: solar noon 12:00 − 4 min per degree east of 105 °E ± N/2 (§8.7)."""
    noon = 12.0 - (lon_deg - 105.0) * 4.0 / 60.0
    half = daylength_h(lat_deg, doy) / 2.0
    return noon - half, noon + half


def uia(tan: float, ph: float, t: float) -> float:
    """Un-ionised ammonia (NH3) from total ammonia nitrogen, mg/L (Emerson et al. 1975, §4.4)."""
    pka = 0.09018 + 2729.92 / (t + 273.15)
    return tan / (1.0 + 10.0 ** (pka - ph))
