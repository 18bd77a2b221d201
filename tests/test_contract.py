"""The wire contract: what every publisher and consumer relies on."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from contract import topics
from contract.alerts import AlertEvent, decode_alert
from contract.quantities import QUANTITIES
from contract.wire import (
    MAX_PAYLOAD_BYTES,
    Ack,
    Reading,
    Reason,
    Status,
    WireError,
    decode_ack,
    decode_status,
    decode_telemetry,
    encode_batch,
    encode_reading,
    to_line,
)

EXAMPLES = Path(__file__).resolve().parent.parent / "contract" / "examples"
NOW = 1764455000123 + 1000


def doc(**over: object) -> dict:
    base = {"v": 1, "node": "n1", "boot": "b1", "seq": 3, "ts": NOW - 1000, "m": {"air_temp": 21.5}}
    base.update(over)
    return base


def decode(d: object, node: str = "n1"):
    return decode_telemetry(json.dumps(d).encode(), node, now_ms=NOW)


def test_the_spec_example_decodes_to_one_reading_with_health_fields() -> None:
    out = decode_telemetry((EXAMPLES / "single.json").read_bytes(), "hk-rice-n01", now_ms=NOW)
    (r,) = out.readings
    assert (r.seq, r.ts, r.battery_v, r.rssi) == (1042, 1764455000123, 3.92, -71.0)
    assert r.m == {"air_temp": 27.1, "air_humidity": 81.0, "soil_moisture": 31.5}
    assert out.rejections == []


def test_a_batch_yields_every_reading_set_in_order() -> None:
    out = decode_telemetry((EXAMPLES / "batch.json").read_bytes(), "hk-rice-n01", now_ms=NOW)
    assert out.is_batch and [r.seq for r in out.readings] == [1040, 1041]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("invalid_*.json")), ids=lambda p: p.stem)
def test_golden_invalid_payloads_are_refused_with_their_reason(path: Path) -> None:
    case = json.loads(path.read_text())
    with pytest.raises(WireError) as err:
        decode_telemetry(json.dumps(case["payload"]).encode(), case["topic_node"], now_ms=NOW)
    assert err.value.reason == case["reason"]


@pytest.mark.parametrize(
    "payload, reason",
    [
        (b"{not json", Reason.MALFORMED_JSON),
        (b"\xff\xfe", Reason.MALFORMED_JSON),
        (b"[1]", Reason.NOT_AN_OBJECT),
        (json.dumps(doc(v=True)).encode(), Reason.BAD_VERSION),
        (json.dumps(doc(node="N 1")).encode(), Reason.BAD_NODE),
        (json.dumps(doc(node="n2")).encode(), Reason.NODE_MISMATCH),
        (json.dumps(doc(batch="x")).encode(), Reason.BAD_BATCH),
        (b"{" + b" " * MAX_PAYLOAD_BYTES + b"}", Reason.TOO_LARGE),
    ],
)
def test_whole_message_errors_name_their_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(WireError) as err:
        decode_telemetry(payload, "n1", now_ms=NOW)
    assert err.value.reason == reason
    assert str(err.value)  # a sentence for the log


@pytest.mark.parametrize(
    "over, reason",
    [
        ({"seq": -1}, Reason.BAD_SEQ),
        ({"seq": 1.5}, Reason.BAD_SEQ),
        ({"ts": 1.7e12}, Reason.BAD_TS),
        ({"ts": 1000}, Reason.TS_TOO_OLD),
        ({"ts": NOW + 3600_000}, Reason.TS_IN_FUTURE),
        ({"m": []}, Reason.BAD_VALUES),
        ({"m": {}}, Reason.NO_VALID_VALUES),
    ],
)
def test_a_bad_reading_set_is_rejected_not_stored(over: dict, reason: str) -> None:
    out = decode(doc(**over))
    assert out.readings == []
    assert [r.reason for r in out.rejections] == [reason]


def test_bad_values_are_dropped_one_by_one_and_the_rest_is_kept() -> None:
    payload = (
        b'{"v":1,"node":"n1","boot":"b1","seq":1,"ts":%d,"m":{"air_temp":21.0,"water_temp":85.0,'
        b'"dissolved_oxygen":NaN,"soil_ph":"7","made_up":1,"air_humidity":true}}' % (NOW - 5)
    )
    out = decode_telemetry(payload, "n1", now_ms=NOW)
    assert out.readings[0].m == {"air_temp": 21.0}
    got = {r.quantity: r.reason for r in out.rejections}
    assert got == {
        "water_temp": Reason.IMPLAUSIBLE,
        "dissolved_oxygen": Reason.NOT_FINITE,
        "soil_ph": Reason.NOT_A_NUMBER,
        "made_up": Reason.UNKNOWN_QUANTITY,
        "air_humidity": Reason.NOT_A_NUMBER,
    }


def test_a_reading_set_whose_only_value_is_bad_is_rejected_with_the_values_reason() -> None:
    out = decode(doc(m={"air_temp": 85.0}))
    assert out.readings == []
    assert {r.reason for r in out.rejections} == {Reason.IMPLAUSIBLE, Reason.NO_VALID_VALUES}


def test_encode_then_decode_round_trips_exactly() -> None:
    r = Reading("n1", "b1", 7, NOW - 10, {"air_temp": 0.1 + 0.2, "co2": 412.0}, 3.7, -67.0)
    assert decode_telemetry(encode_reading(r), "n1", now_ms=NOW).readings == [r]
    batch = [r, Reading("n1", "b1", 8, NOW - 5, {"air_temp": 22.0})]
    assert decode_telemetry(encode_batch(batch), "n1", now_ms=NOW).readings == batch


def test_line_protocol_writes_every_value_as_float_and_seq_as_integer() -> None:
    r = Reading("n-1", "b", 42, 1764455000123, {"air_temp": 27.0, "light": 1e-05}, None, -71.0)
    line = to_line("site-a", r)
    assert line == "reading,site=site-a,node=n-1 air_temp=27.0,light=1e-05,rssi=-71.0,seq=42i 1764455000123"
    assert math.isclose(float(line.split("air_temp=")[1].split(",")[0]), 27.0)


def test_topics_build_and_parse_and_refuse_what_is_not_v1() -> None:
    t = topics.telemetry("hk-pond-1", "hk-pond-n02")
    assert str(t) == "farm/hk-pond-1/hk-pond-n02/telemetry"
    assert topics.NodeTopic.parse(str(t)) == t
    assert str(topics.alerts("hk-pond-1")) == "farm/hk-pond-1/alerts"
    assert topics.shared("ingest", topics.ALL_TELEMETRY) == "$share/ingest/farm/+/+/telemetry"
    for bad in ("farm/a/b", "farm/A/b/telemetry", "farm/a/b/other", "x/a/b/telemetry", "farm/a/-b/ack"):
        with pytest.raises(topics.TopicError):
            topics.NodeTopic.parse(bad)


def test_status_ack_and_alert_events_round_trip() -> None:
    s = Status("online", NOW, "1.2.0", {"uptime_s": 5})
    assert decode_status(s.encode()) == s
    a = Ack("b1", 99, NOW)
    assert decode_ack(a.encode()) == a
    e = AlertEvent("a-1", "hk-pond-1", "hk-pond-n02", "dissolved_oxygen.crit_low", "agronomic", "farmer",
                   "critical", "firing", NOW, NOW, {"vi": "Oxy hòa tan thấp", "en": "DO low"},
                   "dissolved_oxygen", 1.8, 2.0, "mg/L")
    assert decode_alert(e.encode()) == e
    with pytest.raises(WireError):
        decode_alert(b'{"v":1,"id":"x","site":"s","rule":"r","kind":"bad"}')


def test_every_quantity_has_a_unit_a_range_and_labels() -> None:
    for q in QUANTITIES.values():
        assert q.plausible_min < q.plausible_max
        assert q.label_vi and q.label_en
