"""The `simulated` driver: plausible signals without hardware, for demos, benches and tests.

It asks a `SignalModel` for each quantity's value at the reading time. `model: <production type>`
(e.g. `fish_pond`) uses the simulators' physical node models (`simulators.models.node.NodeModel`,
stdlib only, imported only when asked for); `model: builtin` (the default) is a small model of our
own: a daily sine around a typical value plus noise (the typical values below are UNSOURCED demo
choices, not agronomy). `fail_every: N` makes every N-th read return NaN, so the bad-value path
(retry, then sensor fault on status) can be exercised end to end.
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from contract.quantities import QUANTITIES
from edge.drivers.hardware import Hardware
from edge.drivers.options import Options

# quantity → (typical value, daily amplitude, noise sd)
TYPICAL: dict[str, tuple[float, float, float]] = {
    "air_temp": (27.0, 4.0, 0.2),
    "air_humidity": (78.0, 12.0, 1.0),
    "soil_moisture": (30.0, 1.0, 0.3),
    "soil_temp": (26.0, 2.0, 0.1),
    "soil_ec": (0.8, 0.05, 0.02),
    "soil_ph": (6.2, 0.05, 0.02),
    "water_temp": (28.0, 2.0, 0.1),
    "water_ph": (7.6, 0.6, 0.03),
    "dissolved_oxygen": (6.0, 2.5, 0.15),
    "water_level": (120.0, 1.0, 0.3),
    "light": (20000.0, 20000.0, 500.0),
    "rain": (0.0, 0.0, 0.0),
    "wind_speed": (2.0, 1.0, 0.4),
    "co2": (800.0, 200.0, 20.0),
    "nh3": (8.0, 3.0, 0.5),
    "leaf_wetness": (30.0, 25.0, 2.0),
    "battery_v": (3.9, 0.05, 0.005),
    "rssi": (-70.0, 3.0, 1.0),
}


class SignalModel(Protocol):
    def value(self, quantity: str, ts_ms: int) -> float: ...


class DailySine:
    def __init__(self, seed: str) -> None:
        self._rng = random.Random(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))

    def value(self, quantity: str, ts_ms: int) -> float:
        mean, amp, sd = TYPICAL[quantity]
        # Peak at 14:00 ICT (07:00 UTC).
        phase = 2 * math.pi * ((ts_ms / 3_600_000 - 7.0) / 24.0)
        v = mean + amp * math.cos(phase) + self._rng.gauss(0, sd)
        q = QUANTITIES[quantity]
        return round(min(q.plausible_max, max(q.plausible_min, v)), 3)


class Simulated:
    def __init__(self, quantities: tuple[str, ...], model: SignalModel, fail_every: int,
                 clock: Callable[[], float] = time.time) -> None:  # fmt: skip
        self.quantities = quantities
        self.model = model
        self.fail_every = fail_every
        self._clock = clock
        self._reads = 0

    def read(self, env: Mapping[str, float]) -> dict[str, float]:
        self._reads += 1
        if self.fail_every and self._reads % self.fail_every == 0:
            return {q: math.nan for q in self.quantities}
        ts_ms = int(self._clock() * 1000)
        return {q: self.model.value(q, ts_ms) for q in self.quantities}

    def close(self) -> None:
        pass


def production_model(
    opts: Options, profile: str, seed: str, quantities: list[str] | None
) -> tuple[SignalModel, list[str]]:
    """The simulators' node model of one production type, and the quantities it will be asked for."""
    try:
        from ruongso.profiles import measured_quantities, profile_ids
        from simulators.models.node import NodeModel
    except ImportError as exc:
        raise opts.error("model", f"needs the simulators package ({exc.name} is missing); use model: builtin") from None
    if profile not in profile_ids():
        raise opts.error("model", f"{profile!r} is not builtin or a production type ({', '.join(profile_ids())})")
    produced = [*measured_quantities(profile), "battery_v", "rssi"]
    wanted = quantities or measured_quantities(profile)
    missing = [q for q in wanted if q not in produced]
    if missing:
        raise opts.error("quantities", f"a {profile} node model does not produce {missing[0]!r}")
    node_seed = int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big")
    measured = [q for q in wanted if q not in ("battery_v", "rssi")]
    return NodeModel(profile, node_seed, quantities=measured), wanted


def build(opts: Options, hw: Hardware) -> Simulated:
    raw = opts.raw("quantities", None)
    if raw is not None and (not isinstance(raw, list) or not raw):
        raise opts.error("quantities", f"{raw!r} is not a non-empty list of quantity names")
    seed = opts.text("seed", opts.path)
    model_name = opts.text("model", "builtin")
    model: SignalModel
    if model_name == "builtin":
        quantities = raw or ["air_temp", "air_humidity"]
        unknown = [q for q in quantities if q not in TYPICAL]
        if unknown:
            raise opts.error("quantities", f"unknown quantity {unknown[0]!r}; known: {', '.join(TYPICAL)}")
        model = DailySine(seed)
    else:
        model, quantities = production_model(opts, model_name, seed, raw)
    return Simulated(tuple(quantities), model, opts.integer("fail_every", 0, 0))
