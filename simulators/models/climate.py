"""Red River Delta climate normals and sun geometry for Tứ Kỳ (Hải Dương), local time ICT (UTC+7).

Monthly normals are those of Hà Nội (Láng station, ~60 km west of Tứ Kỳ) as tabulated in the climate
box of the Wikipedia article "Hanoi" (https://en.wikipedia.org/wiki/Hanoi#Climate, whose source is the
Vietnam Institute for Building Science and Technology). They were transcribed to one decimal and are
NOT re-verified here: January and November min/max and the Jan/Apr/Nov/Dec rainfall agree with
https://exploreonevietnam.com/hanoi-weather/ (Jan 13.6–19.3 °C, Nov 18.5–24.3 °C; 18.6/90.1/43.4/23.4 mm).
Rain days and sunshine hours are UNSOURCED ESTIMATES of the same table's order of magnitude.
Using Hà Nội for Tứ Kỳ (same delta plain, a few metres above sea level) is an UNSOURCED ESTIMATE.

Sun geometry follows FAO-56 ch. 3 eqs. 22–25 and 34 (https://www.fao.org/3/x0490e/x0490e07.htm);
solar noon ≈ 11:54 ICT at 106.4 °E (docs/agronomy.md §8.7).
"""

from __future__ import annotations

import math
from typing import Final

ICT_OFFSET_MS: Final = 7 * 3600 * 1000
DAY_MS: Final = 86_400_000
LAT_DEG: Final = 20.8
LON_DEG: Final = 106.4
# 4 min per degree east of the 105 °E zone meridian; equation of time ignored (±16 min).
SOLAR_NOON_H: Final = 12.0 - (LON_DEG - 105.0) * 4 / 60

# Index 0 = January.
T_MAX: Final = (19.7, 20.4, 23.0, 27.2, 31.6, 33.1, 33.2, 32.4, 31.4, 29.2, 25.9, 22.3)
T_MIN: Final = (14.3, 15.5, 18.2, 21.7, 24.6, 26.1, 26.3, 26.0, 24.9, 22.3, 18.7, 15.5)
RAIN_MM: Final = (18.6, 26.2, 43.8, 90.1, 188.5, 239.9, 288.2, 318.0, 265.4, 130.7, 43.4, 23.4)
RAIN_DAYS: Final = (10.0, 12.0, 15.0, 13.0, 14.0, 15.0, 16.0, 17.0, 14.0, 9.0, 7.0, 6.0)
SUN_HOURS: Final = (68.0, 46.0, 47.0, 90.0, 183.0, 172.0, 195.0, 174.0, 176.0, 167.0, 140.0, 123.0)
DAYS_IN_MONTH: Final = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MID_DOY: Final = tuple(sum(DAYS_IN_MONTH[:m]) + DAYS_IN_MONTH[m] / 2 for m in range(12))


def ict_days(ts_ms: int | float) -> float:
    """Days since 1970-01-01 00:00 ICT (fractional)."""
    return (ts_ms + ICT_OFFSET_MS) / DAY_MS


def ict_hour(ts_ms: int | float) -> float:
    d = ict_days(ts_ms)
    return (d - math.floor(d)) * 24.0


def day_of_year(day_index: int) -> float:
    """1-based day of the year of an ICT day index (365.2425-day mean year: fine for climate)."""
    # 1970-01-01 is day 1; drift of the mean year is under a day over the simulator's range.
    return (day_index % 365.2425) + 1.0


def month_index(doy: float) -> int:
    acc = 0
    for m, n in enumerate(DAYS_IN_MONTH):
        acc += n
        if doy <= acc:
            return m
    return 11


def normal(table: tuple[float, ...], doy: float) -> float:
    """A monthly normal interpolated linearly between mid-month points (smooth across the year)."""
    for m in range(12):
        if doy < _MID_DOY[m]:
            prev = (m - 1) % 12
            x0 = _MID_DOY[prev] - (365.0 if m == 0 else 0.0)
            frac = (doy - x0) / (_MID_DOY[m] - x0)
            return table[prev] + frac * (table[m] - table[prev])
    x0 = _MID_DOY[11]
    frac = (doy - x0) / (365.0 + _MID_DOY[0] - x0)
    return table[11] + frac * (table[0] - table[11])


def declination(doy: float) -> float:
    """Solar declination (rad), FAO-56 eq. 24."""
    return 0.409 * math.sin(2 * math.pi * doy / 365 - 1.39)


def daylength_h(doy: float) -> float:
    """FAO-56 eqs. 25 and 34."""
    phi = math.radians(LAT_DEG)
    ws = math.acos(max(-1.0, min(1.0, -math.tan(phi) * math.tan(declination(doy)))))
    return 24 * ws / math.pi


def sunrise_h(doy: float) -> float:
    return SOLAR_NOON_H - daylength_h(doy) / 2


def sin_elevation(doy: float, hour: float) -> float:
    """Sine of the solar elevation at a local (ICT) hour; negative at night."""
    phi = math.radians(LAT_DEG)
    dec = declination(doy)
    omega = math.radians((hour - SOLAR_NOON_H) * 15.0)
    return math.sin(phi) * math.sin(dec) + math.cos(phi) * math.cos(dec) * math.cos(omega)


def sat_vapour_kpa(t_c: float) -> float:
    """e°(T), FAO-56 eq. 11."""
    return 0.6108 * math.exp(17.27 * t_c / (t_c + 237.3))


def relative_humidity(t_c: float, dewpoint_c: float) -> float:
    return min(100.0, 100.0 * sat_vapour_kpa(dewpoint_c) / sat_vapour_kpa(t_c))


def do_saturation(t_c: float) -> float:
    """Dissolved-oxygen saturation of fresh water at 1 atm (mg/L), APHA (docs/agronomy.md §8.8)."""
    tk = t_c + 273.15
    return math.exp(-139.34410 + 1.575701e5 / tk - 6.642308e7 / tk**2 + 1.243800e10 / tk**3 - 8.621949e11 / tk**4)
