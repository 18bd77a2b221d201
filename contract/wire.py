"""Wire format v1 in code: telemetry (single and batch), status, ack, and InfluxDB line protocol.

`decode_telemetry` is the one gate every consumer uses. It raises `WireError` (reason code + a
sentence a person can read) when a whole message must be refused, and otherwise returns the reading
sets it could accept plus a `Rejection` for every reading set or value it had to drop, so nothing is
ever lost silently: each item either becomes a point or is counted under a reason.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

from contract.quantities import HEALTH_FIELDS, MEASURED, QUANTITIES
from contract.topics import is_slug

VERSION: Final = 1
MAX_PAYLOAD_BYTES: Final = 256 * 1024
MAX_BATCH_ITEMS: Final = 1000
# Nothing in this project measured before 2020: a Pi without RTC that boots into 1970 is caught here.
TS_FLOOR_MS: Final = 1_577_836_800_000
DEFAULT_MAX_FUTURE_MS: Final = 5 * 60 * 1000
MAX_SEQ: Final = 2**63 - 1
BOOT_RE: Final = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class Reason:
    """Stable reason codes; they are metric labels and dead-letter keys, so never rename one."""

    # whole message
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    TOO_LARGE = "too_large"
    BAD_VERSION = "bad_version"
    BAD_NODE = "bad_node"
    NODE_MISMATCH = "node_mismatch"
    BAD_BOOT = "bad_boot"
    BAD_BATCH = "bad_batch"
    # one reading set
    BAD_SEQ = "bad_seq"
    BAD_TS = "bad_ts"
    TS_IN_FUTURE = "ts_in_future"
    TS_TOO_OLD = "ts_too_old"
    BAD_VALUES = "bad_values"
    NO_VALID_VALUES = "no_valid_values"
    # one value
    UNKNOWN_QUANTITY = "unknown_quantity"
    NOT_A_NUMBER = "not_a_number"
    NOT_FINITE = "not_finite"
    IMPLAUSIBLE = "implausible"
    # added for ingest (backward compatible): a topic that is not farm/<site>/<node>/<kind>, and a
    # point InfluxDB refused for good (400 bad line, 422 outside retention …)
    BAD_TOPIC = "bad_topic"
    INFLUX_REFUSED = "influx_refused"


class WireError(ValueError):
    """A message refused whole. `reason` is a stable code, `str(err)` a readable sentence."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Reading:
    """One reading set: every value one node measured at one instant."""

    node: str
    boot: str
    seq: int
    ts: int
    m: dict[str, float]
    battery_v: float | None = None
    rssi: float | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    """Something dropped from an accepted message: a whole reading set (`quantity` None) or one value."""

    reason: str
    detail: str
    seq: int | None = None
    quantity: str | None = None


@dataclass(slots=True)
class Decoded:
    node: str
    boot: str
    readings: list[Reading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    is_batch: bool = False


# --- decoding -----------------------------------------------------------------------------------


def _reject_constant(name: str) -> float:
    # json accepts NaN/Infinity tokens (not JSON, but buggy firmware sends them): keep them as
    # floats so they are refused per value, like any other non-finite number.
    return float(name.replace("Infinity", "inf"))


def parse_json(payload: bytes | str) -> Any:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise WireError(Reason.TOO_LARGE, f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        return json.loads(payload, parse_constant=_reject_constant)
    except UnicodeDecodeError as exc:
        raise WireError(Reason.MALFORMED_JSON, f"payload is not UTF-8: {exc.reason}") from None
    except (ValueError, RecursionError) as exc:
        raise WireError(Reason.MALFORMED_JSON, f"payload is not JSON: {str(exc)[:120]}") from None


def _is_int(v: object) -> TypeGuard[int]:
    return isinstance(v, int) and not isinstance(v, bool)


def _number(name: str, v: object, seq: int | None) -> float | Rejection:
    if not isinstance(v, int | float) or isinstance(v, bool):
        return Rejection(Reason.NOT_A_NUMBER, f"{name} is {type(v).__name__}, not a number", seq, name)
    try:
        f = float(v)
    except OverflowError:
        return Rejection(Reason.NOT_FINITE, f"{name} is too large to be a float", seq, name)
    if not math.isfinite(f):
        return Rejection(Reason.NOT_FINITE, f"{name} is {f}", seq, name)
    q = QUANTITIES[name]
    if not q.plausible_min <= f <= q.plausible_max:
        return Rejection(
            Reason.IMPLAUSIBLE,
            f"{name}={f:g} {q.unit} is outside the plausible range {q.plausible_min:g}..{q.plausible_max:g}",
            seq,
            name,
        )
    return f


def _reading_set(
    node: str, boot: str, item: Mapping[str, Any], now_ms: int, max_future_ms: int, out: Decoded
) -> None:
    seq = item.get("seq")
    if not _is_int(seq) or not 0 <= seq <= MAX_SEQ:
        out.rejections.append(Rejection(Reason.BAD_SEQ, f"seq {seq!r} is not a non-negative integer"))
        return
    ts = item.get("ts")
    if not _is_int(ts):
        out.rejections.append(Rejection(Reason.BAD_TS, f"ts {ts!r} is not integer milliseconds", seq))
        return
    if ts < TS_FLOOR_MS:
        out.rejections.append(
            Rejection(Reason.TS_TOO_OLD, f"ts {ts} is before 2020-01-01: the node's clock is not set", seq)
        )
        return
    if ts > now_ms + max_future_ms:
        out.rejections.append(
            Rejection(Reason.TS_IN_FUTURE, f"ts {ts} is {(ts - now_ms) / 1000:.0f} s in the future", seq)
        )
        return
    m = item.get("m", {})
    if not isinstance(m, dict):
        out.rejections.append(Rejection(Reason.BAD_VALUES, f"m is {type(m).__name__}, not an object", seq))
        return
    values: dict[str, float] = {}
    dropped: list[Rejection] = []
    for name, raw in m.items():
        if name not in MEASURED:
            dropped.append(Rejection(Reason.UNKNOWN_QUANTITY, f"unknown quantity {name!r}", seq, str(name)))
            continue
        v = _number(name, raw, seq)
        if isinstance(v, Rejection):
            dropped.append(v)
        else:
            values[name] = v
    health: dict[str, float | None] = {}
    for name in HEALTH_FIELDS:
        raw = item.get(name)
        if raw is None:
            health[name] = None
            continue
        v = _number(name, raw, seq)
        if isinstance(v, Rejection):
            dropped.append(v)
            health[name] = None
        else:
            health[name] = v
    out.rejections.extend(dropped)
    if not values and all(v is None for v in health.values()):
        why = "; ".join(d.detail for d in dropped) or "m is empty"
        out.rejections.append(Rejection(Reason.NO_VALID_VALUES, f"no valid value left ({why})", seq))
        return
    out.readings.append(Reading(node, boot, seq, ts, values, health["battery_v"], health["rssi"]))


def decode_telemetry(
    payload: bytes | str | Mapping[str, Any],
    topic_node: str,
    now_ms: int | None = None,
    max_future_ms: int = DEFAULT_MAX_FUTURE_MS,
) -> Decoded:
    """Validate one telemetry message published on `farm/<site>/<topic_node>/telemetry`."""
    doc = payload if isinstance(payload, Mapping) else parse_json(payload)
    if not isinstance(doc, dict):
        raise WireError(Reason.NOT_AN_OBJECT, f"payload is a JSON {type(doc).__name__}, not an object")
    v = doc.get("v")
    if not _is_int(v) or v != VERSION:
        raise WireError(Reason.BAD_VERSION, f"v is {v!r}; this consumer speaks wire format v{VERSION}")
    node = doc.get("node")
    if not is_slug(node):
        raise WireError(Reason.BAD_NODE, f"node {node!r} is not a slug")
    if node != topic_node:
        raise WireError(Reason.NODE_MISMATCH, f"payload node {node!r} published on node {topic_node!r}'s topic")
    boot = doc.get("boot")
    if not isinstance(boot, str) or not BOOT_RE.match(boot):
        raise WireError(Reason.BAD_BOOT, f"boot {boot!r} is not 1-32 of A-Z a-z 0-9 _ -")
    now = int(time.time() * 1000) if now_ms is None else now_ms
    out = Decoded(node, boot)
    if "batch" in doc:
        batch = doc["batch"]
        if not isinstance(batch, list) or not batch:
            raise WireError(Reason.BAD_BATCH, "batch must be a non-empty list of reading sets")
        if len(batch) > MAX_BATCH_ITEMS:
            raise WireError(Reason.BAD_BATCH, f"batch of {len(batch)} exceeds {MAX_BATCH_ITEMS} reading sets")
        out.is_batch = True
        for item in batch:
            if isinstance(item, dict):
                _reading_set(node, boot, item, now, max_future_ms, out)
            else:
                out.rejections.append(Rejection(Reason.BAD_BATCH, f"batch item is {type(item).__name__}"))
    else:
        _reading_set(node, boot, doc, now, max_future_ms, out)
    return out


# --- encoding -----------------------------------------------------------------------------------


def _reading_dict(r: Reading, with_header: bool) -> dict[str, Any]:
    d: dict[str, Any] = {"v": VERSION, "node": r.node, "boot": r.boot} if with_header else {}
    d["seq"] = r.seq
    d["ts"] = r.ts
    d["m"] = r.m
    if r.battery_v is not None:
        d["battery_v"] = r.battery_v
    if r.rssi is not None:
        d["rssi"] = r.rssi
    return d


def encode_reading(r: Reading) -> bytes:
    return json.dumps(_reading_dict(r, True), separators=(",", ":"), ensure_ascii=False).encode()


def encode_batch(readings: Iterable[Reading]) -> bytes:
    items = list(readings)
    if not items:
        raise ValueError("a batch needs at least one reading set")
    first = items[0]
    if any(r.node != first.node or r.boot != first.boot for r in items):
        raise ValueError("a batch carries reading sets of one node and one boot")
    doc = {"v": VERSION, "node": first.node, "boot": first.boot, "batch": [_reading_dict(r, False) for r in items]}
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


# --- InfluxDB line protocol (measurement `reading`, precision ms) ----------------------------------

MEASUREMENT: Final = "reading"


def to_line(site: str, r: Reading) -> str:
    """`reading,site=S,node=N q=1.0,…,seq=7i <ts ms>`.

    Tags are slugs and field keys registry names, so neither ever needs escaping; every quantity is a
    float (even when sent as 27) so InfluxDB never sees a field-type conflict.
    """
    fields = [f"{k}={v!r}" for k, v in r.m.items()]
    if r.battery_v is not None:
        fields.append(f"battery_v={r.battery_v!r}")
    if r.rssi is not None:
        fields.append(f"rssi={r.rssi!r}")
    fields.append(f"seq={r.seq}i")
    return f"{MEASUREMENT},site={site},node={r.node} {','.join(fields)} {r.ts}"


# --- status and ack ------------------------------------------------------------------------------

STATUS_STATES: Final = ("online", "offline")


@dataclass(frozen=True, slots=True)
class Status:
    state: str
    ts: int
    fw: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def encode(self) -> bytes:
        doc = {"state": self.state, "ts": self.ts, "fw": self.fw, **self.extra}
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def decode_status(payload: bytes | str) -> Status:
    doc = parse_json(payload)
    if not isinstance(doc, dict):
        raise WireError(Reason.NOT_AN_OBJECT, "status payload is not a JSON object")
    state, ts = doc.get("state"), doc.get("ts")
    if state not in STATUS_STATES:
        raise WireError(Reason.BAD_VALUES, f"status state {state!r} is not online/offline")
    if not _is_int(ts):
        raise WireError(Reason.BAD_TS, f"status ts {ts!r} is not integer milliseconds")
    fw = doc.get("fw", "")
    extra = {k: v for k, v in doc.items() if k not in ("state", "ts", "fw")}
    return Status(state, ts, fw if isinstance(fw, str) else str(fw), extra)


@dataclass(frozen=True, slots=True)
class Ack:
    """Every reading set of `boot` with seq ≤ `seq` is durably in InfluxDB."""

    boot: str
    seq: int
    ts: int

    def encode(self) -> bytes:
        return json.dumps({"boot": self.boot, "seq": self.seq, "ts": self.ts}, separators=(",", ":")).encode()


def decode_ack(payload: bytes | str) -> Ack:
    doc = parse_json(payload)
    if not isinstance(doc, dict):
        raise WireError(Reason.NOT_AN_OBJECT, "ack payload is not a JSON object")
    boot, seq, ts = doc.get("boot"), doc.get("seq"), doc.get("ts")
    if not isinstance(boot, str) or not BOOT_RE.match(boot):
        raise WireError(Reason.BAD_BOOT, f"ack boot {boot!r} is invalid")
    if not _is_int(seq) or seq < 0:
        raise WireError(Reason.BAD_SEQ, f"ack seq {seq!r} is invalid")
    if not _is_int(ts):
        raise WireError(Reason.BAD_TS, f"ack ts {ts!r} is invalid")
    return Ack(boot, seq, ts)
