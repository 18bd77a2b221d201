"""Sampling: N samples → median, bad values retried, faults reported and cleared, timestamps aligned."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import pytest

from edge.config import parse_sensors
from edge.drivers import SensorError
from edge.sampler import ActiveSensor, check_values, sample
from tests.edge.fakes import hardware, w1_slave_text, write_ds18b20
from tests.edge.helpers import sensor


class Scripted:
    """A driver that returns the given values in turn (a float, or an exception to raise)."""

    quantities = ("water_temp",)

    def __init__(self, *script: float | Exception) -> None:
        self.script = list(script)
        self.reads = 0

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        self.reads += 1
        item = self.script.pop(0)
        if isinstance(item, Exception):
            raise item
        return {"water_temp": item}

    def close(self) -> None:
        pass


def active(driver: Scripted, samples: int = 1, retries: int = 2) -> ActiveSensor:
    (cfg,) = parse_sensors([{"name": "t", "driver": "simulated", "samples": samples, "retries": retries}])
    return ActiveSensor(cfg, driver)


def no_pause(_: float) -> None:
    pass


def test_the_median_of_n_samples_is_kept_so_one_spike_does_not_count() -> None:
    s = active(Scripted(27.0, 27.2, 41.0, 27.1, 26.9), samples=5)
    assert sample(s, {}, no_pause) == {"water_temp": 27.1}


def test_nan_and_implausible_values_are_retried_not_published() -> None:
    s = active(Scripted(math.nan, 99.0, 28.5), retries=2)
    assert sample(s, {}, no_pause) == {"water_temp": 28.5}
    assert s.fault is None and s.driver.reads == 3  # type: ignore[attr-defined]


def test_when_every_attempt_is_bad_the_sensor_has_a_fault_and_publishes_nothing() -> None:
    s = active(Scripted(math.nan, math.nan, math.nan, 28.0), retries=2)
    assert sample(s, {}, no_pause) is None
    assert s.fault is not None and "nan" in s.fault
    assert sample(s, {}, no_pause) == {"water_temp": 28.0}
    assert s.fault is None, "a good reading clears the fault"


def test_a_driver_bug_becomes_a_fault_not_a_crash() -> None:
    s = active(Scripted(ZeroDivisionError("oops")), retries=0)
    assert sample(s, {}, no_pause) is None
    assert s.fault is not None and "ZeroDivisionError" in s.fault


def test_a_ds18b20_stuck_at_85_is_a_fault_with_its_hint(tmp_path: Path) -> None:
    write_ds18b20(tmp_path, "28-0000aa", w1_slave_text(raw=0x0550))
    s = sensor(hardware(tmp_path), "ds18b20", quantity="water_temp", samples=3)
    assert sample(s, {}, no_pause) is None
    assert s.fault is not None and "85.000" in s.fault and "power" in s.fault


def test_plausibility_comes_from_the_quantity_registry() -> None:
    s = active(Scripted())
    assert check_values(s.driver, {"water_temp": 45.0}) == {"water_temp": 45.0}
    for bad in (45.1, -0.1, math.inf):
        with pytest.raises(SensorError, match="water_temp"):
            check_values(s.driver, {"water_temp": bad})
