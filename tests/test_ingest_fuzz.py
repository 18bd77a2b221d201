"""10 000 fuzzed payloads through real Mosquitto and ingest: no crash, and every one either stored
or counted as rejected by reason, exactly as the wire contract (the oracle) decides."""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contract import topics
from contract.quantities import QUANTITIES
from contract.wire import MAX_PAYLOAD_BYTES, WireError, decode_telemetry
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto
from tests.ingest.helpers import Publisher, new_site, rejected_by_reason, running
from tests.ingest.helpers import settings as ingest_settings
from tests.waiting import wait_until

NODES = ("n1", "n2", "n3")
NOW = int(time.time() * 1000)

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-10, max_value=110),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=0, max_value=100),
)
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=8), st.lists(st.integers(), max_size=2))
values = st.one_of(numbers, numbers, junk)
quantity_names = st.one_of(st.sampled_from(sorted(QUANTITIES)), st.text(max_size=10))
# Well clear of the "now + 5 min" edge, so the oracle and ingest agree whatever the clock did meanwhile.
timestamps = st.one_of(
    st.integers(min_value=NOW - 30 * 86_400_000, max_value=NOW - 60_000),
    st.integers(min_value=NOW + 86_400_000, max_value=NOW + 10**12),
    st.integers(min_value=-(2**40), max_value=1_500_000_000_000),
    st.floats(allow_nan=False),
    junk,
)
MEASURED = sorted(n for n, q in QUANTITIES.items() if not q.health)


@st.composite
def plausible_set(draw: st.DrawFn) -> dict[str, Any]:
    names = draw(st.lists(st.sampled_from(MEASURED), min_size=1, max_size=4, unique=True))
    m = {n: draw(st.floats(min_value=QUANTITIES[n].plausible_min, max_value=QUANTITIES[n].plausible_max))
         for n in names}
    item: dict[str, Any] = {"seq": draw(st.integers(min_value=0, max_value=10**6)),
                            "ts": draw(st.integers(min_value=NOW - 30 * 86_400_000, max_value=NOW - 60_000)),
                            "m": m}
    if draw(st.booleans()):
        item["battery_v"] = draw(st.floats(min_value=2.5, max_value=4.35))
    return item


@st.composite
def broken_set(draw: st.DrawFn) -> Any:
    """A plausible reading set with zero to three things wrong with it."""
    item = draw(plausible_set())
    for _ in range(draw(st.integers(min_value=0, max_value=3))):
        what = draw(st.sampled_from(["seq", "ts", "m", "value", "name", "health", "drop", "whole"]))
        if what == "seq":
            item["seq"] = draw(st.one_of(st.integers(min_value=-5, max_value=-1), junk, st.floats()))
        elif what == "ts":
            item["ts"] = draw(timestamps)
        elif what == "m":
            item["m"] = draw(junk)
        elif what == "value" and isinstance(item.get("m"), dict) and item["m"]:
            item["m"][draw(st.sampled_from(sorted(item["m"])))] = draw(values)
        elif what == "name" and isinstance(item.get("m"), dict):
            item["m"][draw(quantity_names)] = draw(values)
        elif what == "health":
            item[draw(st.sampled_from(["battery_v", "rssi"]))] = draw(values)
        elif what == "drop":
            item.pop(draw(st.sampled_from(sorted(item))), None)
        elif what == "whole":
            return draw(junk)
    return item


@st.composite
def documents(draw: st.DrawFn, node: str) -> Any:
    doc: dict[str, Any] = {"v": 1, "node": node, "boot": "b1"}
    if draw(st.integers(min_value=0, max_value=3)):
        item = draw(broken_set())
        if isinstance(item, dict):
            doc.update(item)
        else:
            doc["m"] = item
    else:
        doc["batch"] = draw(st.lists(broken_set(), min_size=1, max_size=6))
    for _ in range(draw(st.integers(min_value=0, max_value=3)) // 2):  # mostly a sound envelope
        what = draw(st.sampled_from(["v", "node", "boot", "batch", "drop"]))
        if what == "v":
            doc["v"] = draw(st.one_of(junk, st.integers()))
        elif what == "node":
            doc["node"] = draw(st.one_of(st.sampled_from(NODES), junk, st.text(max_size=70)))
        elif what == "boot":
            doc["boot"] = draw(st.one_of(st.text(max_size=40), junk))
        elif what == "batch":
            doc["batch"] = draw(st.one_of(junk, st.just([{"seq": 0}] * 1001)))
        else:
            doc.pop(draw(st.sampled_from(sorted(doc))), None)
    return doc


NASTY: list[Any] = [None, "x", "", -1, 0, 1.5, 10**30, 2**64, math.nan, math.inf, -math.inf, True, [], {}, "NaN"]


def _mutate(payload: bytes, rnd: random.Random) -> bytes:
    """One more payload from `payload`: a value swapped for a nasty one, a byte changed, or a cut."""
    op = rnd.randrange(4)
    if op < 2:
        try:
            doc = json.loads(payload)
        except ValueError:
            doc = None
        if isinstance(doc, dict) and doc:
            target = doc
            if isinstance(doc.get("m"), dict) and doc["m"] and rnd.random() < 0.5:
                target = doc["m"]
            elif isinstance(doc.get("batch"), list) and doc["batch"] and isinstance(doc["batch"][0], dict):
                target = rnd.choice([d for d in doc["batch"] if isinstance(d, dict)] or [doc])
            if target:  # a batch item may be an empty object: then fall through to a byte change
                target[rnd.choice(sorted(target, key=str))] = rnd.choice(NASTY)
                return json.dumps(doc).encode()
    b = bytearray(payload)
    if op == 2 and b:
        b[rnd.randrange(len(b))] = rnd.randrange(256)
        return bytes(b)
    return bytes(b[: rnd.randrange(len(b) + 1)])


@st.composite
def messages(draw: st.DrawFn) -> list[tuple[str, bytes]]:
    """Four payloads for one node: a drawn one and three mutations of it."""
    node = draw(st.sampled_from(NODES))
    kind = draw(st.sampled_from(range(100)))
    if kind < 4:
        payload = draw(st.binary(max_size=64))
    elif kind < 8:
        payload = json.dumps(draw(st.one_of(junk, numbers, st.lists(numbers)))).encode()
    elif kind == 8:
        payload = b'{"v":1,"node":"' + node.encode() + b'","x":"' + b"x" * (MAX_PAYLOAD_BYTES + 1) + b'"}'
    else:
        payload = json.dumps(draw(documents(node))).encode()  # NaN/Infinity tokens included
    rnd = draw(st.randoms(use_true_random=False))
    return [(node, payload)] + [(node, _mutate(payload, rnd)) for _ in range(3)]


@pytest.mark.slow
def test_ten_thousand_fuzzed_payloads_are_each_stored_or_counted_by_reason(
    broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site = new_site("tf")
    sent: list[tuple[str, bytes]] = []
    pub = Publisher(broker.url)
    s = ingest_settings(broker.url, influxd.url, influx.database, tmp_path / "state", batch_size=2000)
    with running(s) as ing:

        @settings(max_examples=2500, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(messages())
        def publish_four(four: list[tuple[str, bytes]]) -> None:
            for node, payload in four:
                topic = str(topics.telemetry(site, node))
                sent.append((topic, payload))
                pub.publish(topic, payload)

        publish_four()
        wait_until(lambda: ing.metrics.messages_in >= len(sent), 120, interval=0.2, what="every message taken in")
        assert ing.failed is None
        # (>=: retained status and ack messages of other tests on the shared broker come in too)
        assert ing.metrics.messages_in >= len(sent) >= 9000

        want_rejected: Counter[str] = Counter()
        want_stored: set[tuple[str, int]] = set()
        accepted = 0
        for topic, payload in sent:
            node = topics.NodeTopic.parse(topic).node
            try:
                out = decode_telemetry(payload, node)
            except WireError as err:
                want_rejected[err.reason] += 1
                continue
            want_rejected.update(r.reason for r in out.rejections)
            want_stored.update((r.node, r.ts) for r in out.readings)
            accepted += len(out.readings)
        # the fuzz is worth something only if it mixes both outcomes and reaches most reasons
        assert accepted > 2000 and len(want_rejected) >= 14, (accepted, want_rejected)
        wait_until(lambda: rejected_by_reason(influx, site) == dict(want_rejected), 60, interval=0.5,
                   what="every rejection in `rejected`")
        wait_until(lambda: influx.count_points("reading", f"site='{site}'") == len(want_stored), 60,
                   interval=0.5, what="every accepted reading set stored")
    pub.close()
