"""Sensor drivers, one module per sensor family, all with the shape of `base.Driver`.

`DRIVERS` maps the `driver:` name used in node.yaml to the function that builds the driver from its
options; a contract test runs over every entry.
"""

from __future__ import annotations

from collections.abc import Callable

from edge.drivers import (
    ads1115,
    battery,
    bme280,
    ds18b20,
    ezo,
    jsn_sr04t,
    mhz19,
    rain_gauge,
    sht,
    simulated,
    soil_moisture,
)
from edge.drivers.base import Driver, SensorError
from edge.drivers.hardware import Hardware
from edge.drivers.options import ConfigError, Options

Builder = Callable[[Options, Hardware], Driver]

DRIVERS: dict[str, Builder] = {
    "ds18b20": ds18b20.build,
    "sht31": sht.build_sht31,
    "sht4x": sht.build_sht4x,
    "bme280": bme280.build,
    "soil_moisture": soil_moisture.build,
    "battery": battery.build,
    "ezo_ph": ezo.build_ph,
    "ezo_do": ezo.build_do,
    "ezo_ec": ezo.build_ec,
    "jsn_sr04t": jsn_sr04t.build,
    "rain_gauge": rain_gauge.build,
    "mhz19": mhz19.build,
    "simulated": simulated.build,
}

__all__ = ["DRIVERS", "ConfigError", "Driver", "Hardware", "Options", "SensorError", "ads1115"]
