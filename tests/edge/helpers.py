"""Building one sensor the way node.yaml does, for driver and sampler tests."""

from __future__ import annotations

from typing import Any

from edge.config import parse_sensors
from edge.drivers import Hardware
from edge.sampler import ActiveSensor, build_sensors


def sensor(hw: Hardware, driver: str, **options: Any) -> ActiveSensor:
    options.setdefault("name", "s1")
    (cfg,) = parse_sensors([{"driver": driver, **options}])
    (built,) = build_sensors((cfg,), hw)
    return built
