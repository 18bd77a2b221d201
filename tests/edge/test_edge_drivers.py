"""Every driver against a fake bus that answers byte for byte as its datasheet says."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from edge.drivers import ConfigError, SensorError
from edge.drivers.bme280 import Calibration, compensate_h, compensate_t
from edge.drivers.crc import dallas_crc8, mhz19_checksum, sensirion_crc8
from edge.drivers.ds18b20 import parse_w1_slave
from edge.drivers.hardware import Debouncer
from edge.drivers.mhz19 import ABC_OFF, READ_CO2
from edge.sampler import read_once
from tests.edge.fakes import (
    BME_CAL,
    FakeADS1115,
    FakeBME280,
    FakeEZO,
    FakeI2CBus,
    FakePulses,
    FakeSHT3x,
    FakeSHT4x,
    FakeUart,
    hardware,
    jsn,
    mhz19,
    w1_slave_text,
    write_ds18b20,
)
from tests.edge.helpers import sensor

NO_ENV: dict[str, float] = {}


# --- checksums: the datasheets' own vectors ----------------------------------------------------------


def test_sensirion_crc_of_beef_is_0x92_as_the_datasheet_says() -> None:
    assert sensirion_crc8(b"\xbe\xef") == 0x92


def test_dallas_crc_matches_a_real_ds18b20_scratchpad() -> None:
    assert dallas_crc8(bytes.fromhex("72014b467fff0e10")) == 0x57


def test_mhz19_read_and_abc_off_commands_are_the_datasheet_bytes() -> None:
    assert READ_CO2.hex() == "ff0186000000000079"
    assert ABC_OFF.hex() == "ff0179000000000086"
    assert mhz19_checksum(bytes.fromhex("ff01990000001388cb")) == 0xCB


# --- DS18B20 (1-Wire sysfs under a movable sys_root) ------------------------------------------------


def test_ds18b20_reads_a_real_w1_slave_file(tmp_path: Path) -> None:
    write_ds18b20(
        tmp_path, "28-0316a2794aff", "72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n"
    )
    s = sensor(hardware(tmp_path), "ds18b20", quantity="water_temp")
    assert s.driver.read(NO_ENV) == {"water_temp": 23.125}


def test_ds18b20_negative_temperatures_decode_from_twos_complement(tmp_path: Path) -> None:
    write_ds18b20(tmp_path, "28-00000a", w1_slave_text(-10.125))
    assert sensor(hardware(tmp_path), "ds18b20", quantity="soil_temp").driver.read(NO_ENV) == {"soil_temp": -10.125}


def test_ds18b20_power_on_85_is_refused_even_though_its_crc_is_good(tmp_path: Path) -> None:
    write_ds18b20(tmp_path, "28-00000a", w1_slave_text(raw=0x0550))
    with pytest.raises(SensorError, match=r"85\.000"):
        sensor(hardware(tmp_path), "ds18b20", quantity="water_temp").driver.read(NO_ENV)


def test_ds18b20_85_is_accepted_when_the_previous_reading_was_close_to_it() -> None:
    assert parse_w1_slave(w1_slave_text(raw=0x0550), last_good=84.5) == 85.0


def test_ds18b20_kernel_crc_no_is_refused(tmp_path: Path) -> None:
    write_ds18b20(tmp_path, "28-00000a", w1_slave_text(21.5, crc_ok=False))
    with pytest.raises(SensorError, match="CRC"):
        sensor(hardware(tmp_path), "ds18b20", quantity="water_temp").driver.read(NO_ENV)


def test_ds18b20_scratchpad_with_a_flipped_bit_is_refused_by_our_own_crc() -> None:
    text = w1_slave_text(21.5).replace("58 01", "59 01")  # 21.5 °C = 0x0158 → one bit flipped
    with pytest.raises(SensorError, match="CRC mismatch"):
        parse_w1_slave(text)


def test_ds18b20_all_zero_scratchpad_is_a_fault() -> None:
    zeros = "00 00 00 00 00 00 00 00 00"
    with pytest.raises(SensorError, match="all zeros"):
        parse_w1_slave(f"{zeros} : crc=00 YES\n{zeros} t=0\n")


def test_ds18b20_missing_sensor_says_how_many_were_found(tmp_path: Path) -> None:
    (tmp_path / "sys/bus/w1/devices").mkdir(parents=True)
    with pytest.raises(SensorError, match="0 DS18B20") as err:
        sensor(hardware(tmp_path), "ds18b20", quantity="water_temp").driver.read(NO_ENV)
    assert "w1-gpio" in err.value.hint


def test_ds18b20_picks_the_configured_device_among_several(tmp_path: Path) -> None:
    write_ds18b20(tmp_path, "28-aaaa", w1_slave_text(20.0))
    write_ds18b20(tmp_path, "28-bbbb", w1_slave_text(30.0))
    s = sensor(hardware(tmp_path), "ds18b20", quantity="water_temp", device="28-bbbb")
    assert s.driver.read(NO_ENV) == {"water_temp": 30.0}


# --- Sensirion SHT3x / SHT4x ----------------------------------------------------------------------


def test_sht31_sends_single_shot_high_repeatability_and_converts(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x44, FakeSHT3x(temp=26.5, rh=81.0))
    values = sensor(hardware(tmp_path, bus), "sht31").driver.read(NO_ENV)
    assert values == pytest.approx({"air_temp": 26.5, "air_humidity": 81.0}, abs=0.01)
    assert bus.log[0] == ("w", 0x44, b"\x24\x00")


def test_sht31_crc_failure_is_retried_then_the_good_frame_is_kept(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x45, FakeSHT3x(temp=30.0, rh=60.0, bad_crc_reads=2))
    s = sensor(hardware(tmp_path, bus), "sht31", address=0x45, retries=2)
    assert read_once(s, NO_ENV, lambda _: None)["air_temp"] == pytest.approx(30.0, abs=0.01)


def test_sht31_crc_failures_beyond_the_retries_raise(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x44, FakeSHT3x(temp=30.0, rh=60.0, bad_crc_reads=5))
    s = sensor(hardware(tmp_path, bus), "sht31", retries=2)
    with pytest.raises(SensorError, match="CRC"):
        read_once(s, NO_ENV, lambda _: None)


def test_sht4x_uses_command_fd_and_its_own_humidity_formula(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x44, FakeSHT4x(temp=18.25, rh=95.5))
    values = sensor(hardware(tmp_path, bus), "sht4x").driver.read(NO_ENV)
    assert values == pytest.approx({"air_temp": 18.25, "air_humidity": 95.5}, abs=0.01)
    assert bus.log[0] == ("w", 0x44, b"\xfd")


def test_sht4x_8000_8000_pattern_is_a_fault(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x44, FakeSHT4x(temp=0, rh=0, fault_pattern=True))
    with pytest.raises(SensorError, match="0x8000"):
        sensor(hardware(tmp_path, bus), "sht4x").driver.read(NO_ENV)


def test_an_absent_i2c_chip_is_a_fault_with_an_i2cdetect_hint(tmp_path: Path) -> None:
    with pytest.raises(SensorError, match="does not answer") as err:
        sensor(hardware(tmp_path, FakeI2CBus()), "sht31").driver.read(NO_ENV)
    assert "i2cdetect" in err.value.hint


# --- BME280 ---------------------------------------------------------------------------------------


def test_bme280_temperature_matches_the_datasheet_example() -> None:
    cal = Calibration(**BME_CAL)
    assert compensate_t(519888, cal)[0] == 25.08


def _humidity_double(adc_h: int, t_fine: int, c: Calibration) -> float:
    """The datasheet's floating-point formula (bme280_compensate_H_double), as an independent check."""
    v = t_fine - 76800.0
    v = (adc_h - (c.h4 * 64.0 + c.h5 / 16384.0 * v)) * (
        c.h2 / 65536.0 * (1.0 + c.h6 / 67108864.0 * v * (1.0 + c.h3 / 67108864.0 * v))
    )
    v = v * (1.0 - c.h1 * v / 524288.0)
    return min(100.0, max(0.0, v))


@pytest.mark.parametrize("adc_h", [20000, 30000, 40000])
def test_bme280_integer_humidity_agrees_with_the_datasheet_double_formula(adc_h: int) -> None:
    cal = Calibration(**BME_CAL)
    _, t_fine = compensate_t(519888, cal)
    assert compensate_h(adc_h, t_fine, cal) == pytest.approx(_humidity_double(adc_h, t_fine, cal), abs=0.01)


def test_bme280_forced_read_writes_ctrl_hum_before_ctrl_meas(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    chip = FakeBME280()
    bus.attach(0x76, chip)
    values = sensor(hardware(tmp_path, bus), "bme280").driver.read(NO_ENV)
    assert values["air_temp"] == 25.08
    cal = Calibration(**BME_CAL)
    assert values["air_humidity"] == pytest.approx(compensate_h(30000, compensate_t(519888, cal)[1], cal), abs=0.01)
    writes = [d for op, _, d in bus.log if op == "w" and len(d) == 2]
    assert writes == [bytes([0xF2, 0x01]), bytes([0xF4, 0x25])]


def test_a_bmp280_sold_as_bme280_is_refused(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x77, FakeBME280(chip_id=0x58))
    with pytest.raises(SensorError, match="BMP280"):
        sensor(hardware(tmp_path, bus), "bme280", address=0x77).driver.read(NO_ENV)


# --- ADS1115: soil moisture and battery -------------------------------------------------------------


def test_soil_moisture_two_point_calibration(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    adc = FakeADS1115({0: 1.5, 1: 0.0, 2: 0.0, 3: 0.0})
    bus.attach(0x48, adc)
    s = sensor(hardware(tmp_path, bus), "soil_moisture", dry_volts=2.3, dry_vwc=5.0, wet_volts=0.7, wet_vwc=45.0)
    assert s.driver.read(NO_ENV)["soil_moisture"] == pytest.approx(25.0, abs=0.05)
    # Single-shot, AIN0 vs GND, ±4.096 V, 128 SPS, comparator off.
    assert adc.configs_written == [0b1_100_001_1_100_0_0_0_11]


def test_soil_probe_far_outside_its_calibration_is_a_fault(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x48, FakeADS1115({0: 3.3, 1: 0, 2: 0, 3: 0}))
    s = sensor(hardware(tmp_path, bus), "soil_moisture", dry_volts=2.3, wet_volts=0.7, wet_vwc=45.0)
    with pytest.raises(SensorError, match="outside its calibration"):
        s.driver.read(NO_ENV)


def test_adc_at_full_scale_is_saturation_not_a_value(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x49, FakeADS1115({0: 0, 1: 0, 2: 5.0, 3: 0}))
    s = sensor(hardware(tmp_path, bus), "battery", address=0x49, channel=2, gain=2.048)
    with pytest.raises(SensorError, match="clipped"):
        s.driver.read(NO_ENV)


def test_battery_voltage_through_the_divider(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x48, FakeADS1115({0: 0, 1: 0, 2: 0, 3: 1.95}))
    s = sensor(hardware(tmp_path, bus), "battery", channel=3, divider=2.0)
    assert s.driver.read(NO_ENV) == {"battery_v": pytest.approx(3.9, abs=0.001)}


# --- EZO pH / DO / EC --------------------------------------------------------------------------------


def test_ezo_ph_sends_temperature_compensation_then_reads(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    chip = FakeEZO("7.412")
    bus.attach(0x63, chip)
    s = sensor(hardware(tmp_path, bus), "ezo_ph")
    assert s.driver.read({"water_temp": 28.37}) == {"water_ph": 7.412}
    assert chip.temps == ["28.4"]
    assert [d for op, _, d in bus.log if op == "w"] == [b"T,28.4", b"R"]


def test_ezo_ec_first_field_in_microsiemens_is_published_in_ds_per_m(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x64, FakeEZO("1413.0,706,0.70,1.000"))
    assert sensor(hardware(tmp_path, bus), "ezo_ec").driver.read(NO_ENV) == {"soil_ec": 1.413}


def test_ezo_still_processing_is_waited_for(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x61, FakeEZO("6.35", pending_reads=2))
    assert sensor(hardware(tmp_path, bus), "ezo_do").driver.read(NO_ENV) == {"dissolved_oxygen": 6.35}


def test_ezo_no_data_is_a_fault(tmp_path: Path) -> None:
    bus = FakeI2CBus()
    bus.attach(0x61, FakeEZO("6.35", pending_reads=10))
    with pytest.raises(SensorError, match="still processing"):
        sensor(hardware(tmp_path, bus), "ezo_do").driver.read(NO_ENV)


# --- MH-Z19 (UART) -------------------------------------------------------------------------------------


def test_mhz19_switches_abc_off_sets_range_and_reads_ppm(tmp_path: Path) -> None:
    uart = FakeUart(mhz19(1234))
    s = sensor(hardware(tmp_path, uart=uart), "mhz19", warmup=0)
    assert s.driver.read(NO_ENV) == {"co2": 1234.0}
    assert uart.written[:3] == [ABC_OFF, bytes.fromhex("ff01990000001388cb"), READ_CO2]


def test_mhz19_checksum_failure_is_refused(tmp_path: Path) -> None:
    s = sensor(hardware(tmp_path, uart=FakeUart(mhz19(900, corrupt=1))), "mhz19", warmup=0)
    with pytest.raises(SensorError, match="checksum"):
        s.driver.read(NO_ENV)


def test_mhz19_readings_during_warm_up_are_refused(tmp_path: Path) -> None:
    s = sensor(hardware(tmp_path, uart=FakeUart(mhz19(400))), "mhz19", warmup="60s")
    with pytest.raises(SensorError, match="warming up"):
        s.driver.read(NO_ENV)


def test_mhz19_at_the_top_of_its_range_is_saturated(tmp_path: Path) -> None:
    s = sensor(hardware(tmp_path, uart=FakeUart(mhz19(5000))), "mhz19", warmup=0, range=5000)
    with pytest.raises(SensorError, match="saturated"):
        s.driver.read(NO_ENV)


# --- JSN-SR04T (UART trigger mode) --------------------------------------------------------------------


def test_jsn_level_is_mount_height_minus_distance(tmp_path: Path) -> None:
    uart = FakeUart(jsn([1234]))
    s = sensor(hardware(tmp_path, uart=uart), "jsn_sr04t", mount_cm=250)
    assert s.driver.read(NO_ENV) == {"water_level": 126.6}
    assert uart.written == [b"\x55"]


def test_jsn_speed_of_sound_is_corrected_with_air_temperature(tmp_path: Path) -> None:
    s = sensor(hardware(tmp_path, uart=FakeUart(jsn([1000]))), "jsn_sr04t", mount_cm=200, compensate_with="air_temp")
    expected = 200 - 100 * (331.3 + 0.606 * 35) / 340
    assert s.driver.read({"air_temp": 35.0})["water_level"] == pytest.approx(expected, abs=0.05)


@pytest.mark.parametrize(("mm", "why"), [(200, "blind zone"), (6000, "maximum"), (None, "no valid echo")])
def test_jsn_blind_zone_max_range_and_silence_are_faults(tmp_path: Path, mm: int | None, why: str) -> None:
    s = sensor(hardware(tmp_path, uart=FakeUart(jsn([mm]))), "jsn_sr04t", mount_cm=250)
    with pytest.raises(SensorError, match=why):
        s.driver.read(NO_ENV)


# --- rain gauge ------------------------------------------------------------------------------------------


def test_rain_gauge_reports_tips_since_the_previous_read(tmp_path: Path) -> None:
    pulses = FakePulses()
    s = sensor(hardware(tmp_path, pulses=pulses), "rain_gauge", gpio=17, mm_per_tip=0.2794)
    s.driver.start()  # type: ignore[attr-defined]
    pulses.n = 3
    assert s.driver.read(NO_ENV) == {"rain": pytest.approx(0.8382)}
    pulses.n = 4
    assert s.driver.read(NO_ENV) == {"rain": pytest.approx(0.2794)}
    assert s.driver.read(NO_ENV) == {"rain": 0.0}


def test_rain_gauge_with_a_dead_counter_is_a_fault(tmp_path: Path) -> None:
    pulses = FakePulses()
    s = sensor(hardware(tmp_path, pulses=pulses), "rain_gauge", gpio=17)
    pulses.running = False
    with pytest.raises(SensorError, match="stopped"):
        s.driver.read(NO_ENV)


def test_debounce_drops_edges_closer_than_the_gap() -> None:
    d = Debouncer(0.025)
    accepted = [t for t in (0.0, 0.002, 0.010, 0.030, 0.031, 1.0) if d.accept(t)]
    assert accepted == [0.0, 0.030, 1.0]


# --- simulated -----------------------------------------------------------------------------------------


def test_simulated_values_are_plausible_and_fail_every_gives_nan(tmp_path: Path) -> None:
    s = sensor(hardware(tmp_path), "simulated", quantities=["air_temp", "dissolved_oxygen"], fail_every=3)
    first, second, third = (s.driver.read(NO_ENV) for _ in range(3))
    assert 15 < first["air_temp"] < 40 and 0 < second["dissolved_oxygen"] < 15
    assert all(math.isnan(v) for v in third.values())


def test_simulated_with_a_production_type_uses_the_simulators_node_model(tmp_path: Path) -> None:
    s = sensor(hardware(tmp_path), "simulated", model="fish_pond", quantities=["dissolved_oxygen", "battery_v"])
    values = s.driver.read(NO_ENV)
    assert set(values) == {"dissolved_oxygen", "battery_v"} and 0 < values["dissolved_oxygen"] < 20


def test_simulated_refuses_a_quantity_its_production_type_does_not_measure(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not produce 'co2'"):
        sensor(hardware(tmp_path), "simulated", model="fish_pond", quantities=["co2"])
    with pytest.raises(ConfigError, match="not builtin or a production type"):
        sensor(hardware(tmp_path), "simulated", model="shrimp_farm")


def fake_gpio_tree(root: Path, exported: bool) -> Path:
    gpio = root / "sys/class/gpio"
    chip = gpio / "gpiochip512"
    chip.mkdir(parents=True)
    (chip / "label").write_text("pinctrl-bcm2711\n")
    (chip / "base").write_text("512\n")
    (gpio / "export").write_text("")
    pin = gpio / "gpio529"
    if exported:
        pin.mkdir()
        for name, value in (("direction", "out"), ("edge", "none"), ("value", "1")):
            (pin / name).write_text(value)
    return gpio


def test_sysfs_pulse_counter_sets_the_pin_up_for_falling_edges_at_the_kernels_gpio_base(tmp_path: Path) -> None:
    from edge.drivers.hardware import SysfsGpioPulses, gpio_base

    gpio = fake_gpio_tree(tmp_path, exported=True)
    assert gpio_base(tmp_path) == 512
    counter = SysfsGpioPulses(tmp_path, 17, 0.025)
    try:
        assert (gpio / "gpio529/direction").read_text() == "in"
        assert (gpio / "gpio529/edge").read_text() == "falling"
        assert counter.alive() and counter.count() == 0
    finally:
        counter.close()
    assert not counter.alive()


def test_a_gpio_that_cannot_be_exported_is_a_rain_gauge_fault(tmp_path: Path) -> None:
    from edge.drivers.hardware import Hardware, SysfsGpioPulses

    gpio = fake_gpio_tree(tmp_path, exported=False)
    hw = Hardware(sys_root=tmp_path, pulses=SysfsGpioPulses, sleep=lambda s: None)
    s = sensor(hw, "rain_gauge", gpio=17)
    with pytest.raises(SensorError, match="cannot watch GPIO 17"):
        s.driver.read(NO_ENV)
    assert (gpio / "export").read_text() == "529"
