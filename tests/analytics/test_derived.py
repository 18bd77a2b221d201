"""Derived indicators against the test vectors of docs/agronomy.md §8."""

from __future__ import annotations

import pytest

from analytics import derived
from analytics.forecast import project_line


@pytest.mark.parametrize(("t", "es"), [(15, 1.705), (24.5, 3.075), (30, 4.243)])
def test_saturation_vapour_pressure(t: float, es: float) -> None:
    assert derived.sat_vp(t) == pytest.approx(es, abs=0.001)


@pytest.mark.parametrize(("t", "rh", "v"), [(25, 70, 0.950), (30, 80, 0.849)])
def test_vpd(t: float, rh: float, v: float) -> None:
    assert derived.vpd(t, rh) == pytest.approx(v, abs=0.001)


@pytest.mark.parametrize(("t", "rh", "td"), [(25, 70, 19.15), (30, 80, 26.17)])
def test_dew_point(t: float, rh: float, td: float) -> None:
    assert derived.dew_point(t, rh) == pytest.approx(td, abs=0.01)


@pytest.mark.parametrize(("t", "rh", "hi"), [((90 - 32) * 5 / 9, 70, 41.1), (32, 70, 40.4)])
def test_heat_index(t: float, rh: float, hi: float) -> None:
    assert derived.heat_index(t, rh) == pytest.approx(hi, abs=0.05)


@pytest.mark.parametrize(("t", "rh", "v"), [(25, 70, 73.8), (28, 75, 79.0), (30, 80, 82.9)])
def test_thi(t: float, rh: float, v: float) -> None:
    assert derived.thi(t, rh) == pytest.approx(v, abs=0.05)


@pytest.mark.parametrize(("t", "cs"), [(20, 9.09), (25, 8.26), (26, 8.11), (28, 7.83), (30, 7.56)])
def test_do_saturation(t: float, cs: float) -> None:
    assert derived.do_saturation(t) == pytest.approx(cs, abs=0.005)


def test_do_percent_saturation_is_relative_to_the_apha_table() -> None:
    assert derived.do_pct_sat(4.13, 25) == pytest.approx(50.0, abs=0.1)


@pytest.mark.parametrize(("lat", "doy", "ra"), [(-20, 246, 32.2), (20.8, 15, 26.3), (20.8, 196, 39.4)])
def test_extraterrestrial_radiation(lat: float, doy: int, ra: float) -> None:
    assert derived.extraterrestrial_radiation(lat, doy) == pytest.approx(ra, abs=0.06)


def test_hargreaves_et0() -> None:
    assert derived.hargreaves_et0(30, 15, 30) == pytest.approx(4.39, abs=0.01)


def test_growing_degree_days_plain_and_with_base_floor() -> None:
    assert derived.gdd(30, 20) == pytest.approx(15.0)
    assert derived.gdd(14, 6) == pytest.approx(2.0)  # Tmin raised to the 10 °C base
    assert derived.gdd(9, 4) == 0.0


def test_daylength_at_tu_ky() -> None:
    assert derived.daylength_h(20.8, 355) == pytest.approx(10.7, abs=0.05)
    assert derived.daylength_h(20.8, 172) == pytest.approx(13.3, abs=0.05)


@pytest.mark.parametrize(("t", "h"), [(18, 22), (20, 19), (24, 13), (28, 9), (30, 8)])
def test_blast_leaf_wetness_hours_interpolate_choi(t: float, h: float) -> None:
    assert derived.blast_lwd_required_h(t) == pytest.approx(h)


def test_blast_table_is_undefined_outside_18_to_30_degrees() -> None:
    assert derived.blast_lwd_required_h(17.9) is None
    assert derived.blast_lwd_required_h(31) is None


def test_do_forecast_worked_example_of_agronomy_4_1() -> None:
    # 8.0 mg/L at 18:00, 6.5 at 21:00 → −0.5 mg/L/h → 2.0 mg/L projected at 06:00.
    assert project_line([(18.0, 8.0), (21.0, 6.5)], 30.0) == pytest.approx(2.0)


@pytest.mark.parametrize(("ph", "t", "fraction"), [(8, 25, 0.0537), (9, 25, 0.362), (8, 30, 0.0743)])
def test_unionised_ammonia_fraction_of_agronomy_4_4(ph: float, t: float, fraction: float) -> None:
    assert derived.uia(1.0, ph, t) == pytest.approx(fraction, abs=0.0005)
