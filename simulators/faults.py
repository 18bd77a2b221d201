"""Fault injection for one node: named kinds, drawn from the node's own generator, each recorded as truth.

Value faults change one quantity of a reading set (spike, stuck, drift, ds18b20_85, nan,
out_of_range); clock_skew changes a reading set's timestamp; message faults change or repeat a whole
message (duplicate, out_of_order, malformed_json, wrong_node); dropout silences the node.
The fault generator is separate from the signal generator, so turning faults on never changes the
clean signals around them.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Final

from contract.quantities import QUANTITIES
from contract.wire import Reason
from simulators.truth import TruthRecord

FAULT_KINDS: Final = (
    "spike",
    "stuck",
    "drift",
    "dropout",
    "ds18b20_85",
    "nan",
    "out_of_range",
    "duplicate",
    "out_of_order",
    "clock_skew",
    "malformed_json",
    "wrong_node",
)
VALUE_KINDS: Final = frozenset({"spike", "stuck", "drift", "ds18b20_85", "nan", "out_of_range"})
MESSAGE_KINDS: Final = frozenset({"duplicate", "out_of_order", "malformed_json", "wrong_node"})
# Sensors on a DS18B20 (1-Wire) probe, whose power-on register value 85.000 °C passes the CRC.
DS18B20_QUANTITIES: Final = ("water_temp", "soil_temp")
DS18B20_POWER_ON: Final = 85.0
# Signals that sit still for hours by nature (no rain, dry or soaked leaves): a flatline or a slow drift
# there would be a fault nobody could see, so stuck and drift leave them alone.
EVENT_QUANTITIES: Final = frozenset({"rain", "leaf_wetness"})

EXPECTED_REASON: Final = {
    "nan": Reason.NOT_FINITE,
    "out_of_range": Reason.IMPLAUSIBLE,
    "ds18b20_85": Reason.IMPLAUSIBLE,
    "malformed_json": Reason.MALFORMED_JSON,
    "wrong_node": Reason.NODE_MISMATCH,
}

# A typical large excursion of each quantity: spikes jump about this far, drifts end about this far off.
SCALE: Final = {
    "air_temp": 8.0,
    "air_humidity": 25.0,
    "soil_moisture": 12.0,
    "soil_temp": 6.0,
    "soil_ec": 1.0,
    "soil_ph": 1.0,
    "water_temp": 5.0,
    "water_ph": 1.5,
    "dissolved_oxygen": 5.0,
    "water_level": 25.0,
    "light": 40_000.0,
    "rain": 10.0,
    "wind_speed": 8.0,
    "co2": 2000.0,
    "nh3": 15.0,
    "leaf_wetness": 40.0,
}
# A clock that jumped ten years ahead (RTC corrupted) or never got set (counts from 1970 at boot).
FUTURE_SKEW_MS: Final = 10 * 365 * 86_400_000


def parse_kinds(text: str) -> tuple[str, ...]:
    """`spike,stuck,nan` or `all` → kinds; ValueError names an unknown kind."""
    text = text.strip()
    if not text or text == "none":
        return ()
    if text == "all":
        return FAULT_KINDS
    kinds = tuple(dict.fromkeys(k.strip() for k in text.split(",") if k.strip()))
    unknown = [k for k in kinds if k not in FAULT_KINDS]
    if unknown:
        raise ValueError(f"unknown fault kind {unknown[0]!r}; known: {', '.join(FAULT_KINDS)}, or all")
    return kinds


@dataclass(slots=True)
class _RangeFault:
    kind: str
    quantity: str | None
    remaining: int
    start: int = -1
    end: int = -1
    seq: int = -1
    seq_end: int = -1
    held: float = 0.0  # stuck: the frozen value
    total: int = 0  # drift: readings in the fault
    offset: float = 0.0  # drift: offset reached at the end
    value: float | None = None


class NodeFaults:
    """Decides, applies and records the faults of one node."""

    def __init__(
        self,
        site: str,
        node: str,
        boot: str,
        quantities: list[str],
        kinds: tuple[str, ...],
        rate: float,
        rng: random.Random,
    ) -> None:
        self.site, self.node, self.boot = site, node, boot
        self.quantities = quantities
        self.rate = rate
        self.rng = rng
        ds = [q for q in quantities if q in DS18B20_QUANTITIES]
        self.ds_quantities = ds
        self.kinds = tuple(k for k in kinds if k != "ds18b20_85" or ds)
        self.active: dict[str, _RangeFault] = {}  # quantity → value fault in progress
        self.dropout: _RangeFault | None = None
        self.pending_message: str | None = None
        self.truth: list[TruthRecord] = []

    # --- deciding ---------------------------------------------------------------------------------

    def start_faults(self) -> str | None:
        """Maybe start one fault at this reading set; returns a reading-level kind to apply now."""
        if not self.kinds or self.rng.random() >= self.rate:
            return None
        kind = self.kinds[self.rng.randrange(len(self.kinds))]
        if kind in VALUE_KINDS:
            candidates = self.ds_quantities if kind == "ds18b20_85" else self.quantities
            if kind in ("stuck", "drift"):
                candidates = [q for q in candidates if q not in EVENT_QUANTITIES]
            free = [q for q in candidates if q not in self.active]
            if free:
                q = free[self.rng.randrange(len(free))]
                self.active[q] = self._new_value_fault(kind, q)
            return None
        if kind == "dropout":
            if self.dropout is None:
                self.dropout = _RangeFault("dropout", None, self.rng.randint(3, 60))
            return None
        if kind in MESSAGE_KINDS:
            self.pending_message = self.pending_message or kind
            return None
        return kind  # clock_skew

    def _new_value_fault(self, kind: str, q: str) -> _RangeFault:
        rng = self.rng
        if kind == "stuck":
            return _RangeFault(kind, q, rng.randint(8, 60))
        if kind == "drift":
            n = rng.randint(30, 240)
            sign = -1.0 if q == "dissolved_oxygen" or rng.random() < 0.5 else 1.0
            return _RangeFault(kind, q, n, total=n, offset=sign * SCALE[q] * rng.uniform(0.5, 1.2))
        if kind == "ds18b20_85":
            return _RangeFault(kind, q, rng.randint(1, 3))
        return _RangeFault(kind, q, 1)

    # --- applying ---------------------------------------------------------------------------------

    def silent(self, ts: int, seq: int) -> bool:
        """True while the node is in a dropout: this reading set is never sent."""
        f = self.dropout
        if f is None:
            return False
        self._mark(f, ts, seq)
        f.remaining -= 1
        if f.remaining <= 0:
            self._record(f)
            self.dropout = None
        return True

    def apply_values(self, ts: int, seq: int, values: dict[str, float]) -> tuple[dict[str, float], tuple[str, ...]]:
        """The values as sent, and the kinds of the value faults applied to them."""
        if not self.active:
            return values, ()
        out = dict(values)
        kinds: list[str] = []
        for q, f in list(self.active.items()):
            if q not in out:
                del self.active[q]
                continue
            self._mark(f, ts, seq)
            out[q] = self._faulty_value(f, out[q])
            kinds.append(f.kind)
            f.remaining -= 1
            if f.remaining <= 0:
                self._record(f)
                del self.active[q]
        return out, tuple(kinds)

    def _faulty_value(self, f: _RangeFault, clean: float) -> float:
        q = QUANTITIES[f.quantity or ""]
        span = q.plausible_max - q.plausible_min
        lo, hi = q.plausible_min + 0.01 * span, q.plausible_max - 0.01 * span
        rng = self.rng
        if f.kind == "stuck":
            if f.value is None:
                f.value = clean
            return f.value
        if f.kind == "drift":
            done = (f.total - f.remaining + 1) / f.total
            v = min(hi, max(lo, clean + f.offset * done))
            f.value = v
            return round(v, 3)
        if f.kind == "ds18b20_85":
            f.value = DS18B20_POWER_ON
            return DS18B20_POWER_ON
        if f.kind == "nan":
            f.value = math.nan
            return math.nan
        scale = SCALE[q.name]
        if f.kind == "out_of_range":
            above = rng.random() < 0.5
            v = (
                q.plausible_max + scale * rng.uniform(0.2, 1.0)
                if above
                else q.plausible_min - scale * rng.uniform(0.2, 1.0)
            )
            f.value = round(v, 2)
            return f.value
        # spike: a jump of about one scale, kept inside the plausible range so only a detector sees it.
        jump = scale * rng.uniform(0.8, 1.5)
        up, down = min(hi, clean + jump), max(lo, clean - jump)
        v, other = (up, down) if rng.random() < 0.5 else (down, up)
        if abs(v - clean) < abs(other - clean):
            # Pinned near a bound (no rain, no light at night): jump the other way.
            v = other if abs(v - clean) < 0.5 * jump else v
        f.value = round(v, 3)
        return f.value

    def skew(self, ts: int, seq: int, interval_ms: int) -> int:
        if self.rng.random() < 0.5:
            skewed, reason = ts + FUTURE_SKEW_MS, Reason.TS_IN_FUTURE
        else:
            skewed, reason = 1000 + seq * interval_ms, Reason.TS_TOO_OLD
        self.truth.append(
            TruthRecord(self.site, self.node, None, "clock_skew", ts, ts, seq, None, self.boot, reason, ts_sent=skewed)
        )
        return skewed

    def take_message_fault(self) -> str | None:
        kind, self.pending_message = self.pending_message, None
        return kind

    def record_message(self, kind: str, ts: list[int], seqs: list[int]) -> None:
        self.truth.append(
            TruthRecord(
                self.site,
                self.node,
                None,
                kind,
                min(ts),
                max(ts),
                seqs[0],
                seqs[-1] if len(seqs) > 1 else None,
                self.boot,
                EXPECTED_REASON.get(kind),
            )
        )

    def close(self) -> None:
        """End of the run: record the faults still in progress, cut at the last reading they touched."""
        for f in list(self.active.values()):
            if f.start >= 0:
                self._record(f)
        self.active.clear()
        if self.dropout is not None and self.dropout.start >= 0:
            self._record(self.dropout)
        self.dropout = None

    # --- recording --------------------------------------------------------------------------------

    @staticmethod
    def _mark(f: _RangeFault, ts: int, seq: int) -> None:
        if f.start < 0:
            f.start, f.seq = ts, seq
        f.end, f.seq_end = ts, seq

    def _record(self, f: _RangeFault) -> None:
        value = f.value if f.kind in ("spike", "ds18b20_85", "nan", "out_of_range", "stuck") else None
        self.truth.append(
            TruthRecord(
                self.site,
                self.node,
                f.quantity,
                f.kind,
                f.start,
                f.end,
                f.seq,
                f.seq_end if f.seq_end != f.seq else None,
                self.boot,
                EXPECTED_REASON.get(f.kind),
                value,
            )
        )
