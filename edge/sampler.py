"""One sensor's reading for one interval: N samples with retries, bad values refused, the median kept.

A value is bad if the driver raises `SensorError` (CRC, sentinel, saturation, timeout), or if it is not
finite or outside the quantity's plausible range (contract.quantities). A bad sample is retried
`retries` times; if no sample of the interval is good the sensor gets a fault (reported on status)
and publishes nothing; the fault clears with the next good reading.
"""

from __future__ import annotations

import contextlib
import math
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from contract.quantities import QUANTITIES
from edge.config import SensorConfig
from edge.drivers import DRIVERS, Driver, Hardware, Options, SensorError
from edge.drivers.options import ConfigError

RETRY_PAUSE_S = 0.1


@dataclass
class ActiveSensor:
    config: SensorConfig
    driver: Driver
    last_slot: int | None = None
    fault: str | None = None
    failed_samples: int = field(default=0)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def single_sample(self) -> bool:
        # Counters (rain) report the count since the last read: a median of them makes no sense.
        return bool(getattr(self.driver, "single_sample", False))


def build_driver(cfg: SensorConfig, hw: Hardware) -> Driver:
    opts = Options(cfg.options, cfg.where)
    driver = DRIVERS[cfg.driver](opts, hw)
    opts.check_all_used()
    for q in driver.quantities:
        if q not in QUANTITIES:
            raise ConfigError(f"{cfg.where}: driver produces unknown quantity {q!r}")
    return driver


def build_sensors(configs: tuple[SensorConfig, ...], hw: Hardware, path: str = "sensors") -> list[ActiveSensor]:
    """Build every driver or none: a ConfigError leaves nothing half-built."""
    built: list[ActiveSensor] = []
    owner: dict[str, str] = {}
    try:
        for cfg in configs:
            sensor = ActiveSensor(cfg, build_driver(cfg, hw))
            built.append(sensor)
            for q in sensor.driver.quantities:
                if q in owner:
                    raise ConfigError(f"{path}: quantity {q!r} would come from both {owner[q]!r} and {cfg.name!r}")
                owner[q] = cfg.name
    except BaseException:
        close_all(built)
        raise
    return built


def start_all(sensors: list[ActiveSensor]) -> None:
    """Start drivers that count between reads (rain gauge), once they are the node's sensors."""
    for s in sensors:
        start = getattr(s.driver, "start", None)
        if callable(start):
            start()


def close_all(sensors: list[ActiveSensor]) -> None:
    for s in sensors:
        with contextlib.suppress(Exception):
            s.driver.close()


def check_values(driver: Driver, values: Mapping[str, float]) -> dict[str, float]:
    out: dict[str, float] = {}
    for q in driver.quantities:
        if q not in values:
            raise SensorError(f"no {q} in the reading")
        v = values[q]
        if not isinstance(v, int | float) or not math.isfinite(v):
            raise SensorError(f"{q} is {v!r}, not a finite number")
        spec = QUANTITIES[q]
        if not spec.plausible(v):
            raise SensorError(
                f"{q}={v:g} {spec.unit} is outside the plausible {spec.plausible_min:g}..{spec.plausible_max:g}",
                "sensor saturated, miswired or miscalibrated",
            )
        out[q] = float(v)
    return out


def read_once(sensor: ActiveSensor, env: Mapping[str, float], pause: Callable[[float], None]) -> dict[str, float]:
    """One good sample, retrying bad ones; raises the last SensorError when all attempts fail."""
    last: SensorError | None = None
    for attempt in range(sensor.config.retries + 1):
        if attempt:
            pause(RETRY_PAUSE_S)
        try:
            return check_values(sensor.driver, sensor.driver.read(env))
        except SensorError as exc:
            last = exc
        except Exception as exc:  # a driver bug must not stop the node: it becomes this sensor's fault
            last = SensorError(f"driver error: {type(exc).__name__}: {exc}", "report this to the maintainers")
    assert last is not None
    raise last


def sample(sensor: ActiveSensor, env: Mapping[str, float], pause: Callable[[float], None]) -> dict[str, float] | None:
    """The median of `samples` good samples, or None (and `sensor.fault` set) when there is none."""
    n = 1 if sensor.single_sample else sensor.config.samples
    good: list[dict[str, float]] = []
    error: SensorError | None = None
    for _ in range(n):
        try:
            good.append(read_once(sensor, env, pause))
        except SensorError as exc:
            error = exc
            sensor.failed_samples += 1
    if not good:
        assert error is not None
        sensor.fault = f"{error} — {error.hint}" if error.hint else str(error)
        return None
    sensor.fault = None
    return {q: round(statistics.median(s[q] for s in good), 4) for q in sensor.driver.quantities}
