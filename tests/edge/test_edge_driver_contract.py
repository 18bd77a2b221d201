"""One contract over every registered driver: built from options, read through a fake bus, it returns
exactly its declared quantities, each a plausible wire-format value, and closes cleanly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from edge.drivers import DRIVERS, Hardware
from edge.sampler import check_values
from tests.edge.fakes import (
    FakeADS1115,
    FakeBME280,
    FakeEZO,
    FakeI2CBus,
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


def on_i2c(address: int, chip: object) -> Callable[[Path], Hardware]:
    def make(root: Path) -> Hardware:
        bus = FakeI2CBus()
        bus.attach(address, chip)
        return hardware(root, bus)

    return make


def on_uart(respond: Callable[[bytes], bytes]) -> Callable[[Path], Hardware]:
    return lambda root: hardware(root, uart=FakeUart(respond))


def with_ds18b20(root: Path) -> Hardware:
    write_ds18b20(root, "28-0000000001", w1_slave_text(24.5))
    return hardware(root)


# driver → (options, hardware that answers well)
GOOD: dict[str, tuple[dict[str, Any], Callable[[Path], Hardware]]] = {
    "ds18b20": ({"quantity": "soil_temp"}, with_ds18b20),
    "sht31": ({}, on_i2c(0x44, FakeSHT3x(25.0, 70.0))),
    "sht4x": ({}, on_i2c(0x44, FakeSHT4x(25.0, 70.0))),
    "bme280": ({}, on_i2c(0x76, FakeBME280())),
    "soil_moisture": ({"dry_volts": 2.3, "wet_volts": 0.7, "wet_vwc": 45}, on_i2c(0x48, FakeADS1115({0: 1.6}))),
    "battery": ({"channel": 1}, on_i2c(0x48, FakeADS1115({1: 1.9}))),
    "ezo_ph": ({}, on_i2c(0x63, FakeEZO("7.10"))),
    "ezo_do": ({}, on_i2c(0x61, FakeEZO("5.80"))),
    "ezo_ec": ({}, on_i2c(0x64, FakeEZO("850"))),
    "mhz19": ({"warmup": 0}, on_uart(mhz19(650))),
    "jsn_sr04t": ({"mount_cm": 200}, on_uart(jsn([800]))),
    "rain_gauge": ({"gpio": 17}, hardware),
    "simulated": ({"quantities": ["light", "wind_speed"]}, hardware),
}


def test_every_registered_driver_has_a_contract_case() -> None:
    assert set(GOOD) == set(DRIVERS)


@pytest.mark.parametrize("name", sorted(DRIVERS))
def test_driver_contract(tmp_path: Path, name: str) -> None:
    options, make_hw = GOOD[name]
    s = sensor(make_hw(tmp_path), name, **options)
    assert s.driver.quantities and len(set(s.driver.quantities)) == len(s.driver.quantities)
    values = s.driver.read({"water_temp": 26.0, "air_temp": 30.0, "soil_temp": 25.0})
    assert set(values) == set(s.driver.quantities)
    assert check_values(s.driver, values) == values
    s.driver.close()
    s.driver.close()
