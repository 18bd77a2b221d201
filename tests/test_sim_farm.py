"""The farm's message stream: deterministic, clean when asked, and every injected fault recorded and visible.

The wire contract is the oracle: each fault that ingest must refuse is decoded here and must be
refused with the reason its truth record names; the clean run with the same seed gives the values the
faults replaced (faults never change the clean signals).
"""

from __future__ import annotations

import itertools
import json
import math
from collections import Counter, defaultdict

import pytest

from contract.quantities import QUANTITIES
from contract.topics import NodeTopic, NodeTopicKind
from contract.wire import Decoded, Reason, WireError, decode_status, decode_telemetry, parse_json
from simulators.farm import Farm, FarmConfig, Message
from simulators.faults import EVENT_QUANTITIES, FAULT_KINDS, SCALE, parse_kinds
from simulators.labels import labelled_values

START = 1_751_302_800_000  # 1 July 2025 00:00 ICT
FAR_FUTURE = START + 400 * 86_400_000  # "now" for decoding: nothing simulated here is in the future


def _farm(**kw: object) -> Farm:
    args: dict[str, object] = dict(start_ms=START, duration_s=6 * 3600, sites=4, nodes_per_site=2, seed=11)
    args.update(kw)
    return Farm(FarmConfig(**args))  # type: ignore[arg-type]


def _decode(msg: Message, now: int = FAR_FUTURE) -> Decoded:
    return decode_telemetry(msg.payload, NodeTopic.parse(msg.topic).node, now_ms=now)


def _values(messages: list[Message]) -> dict[tuple[str, int], dict[str, float]]:
    """(node, seq) → values as sent, for the messages that parse."""
    out: dict[tuple[str, int], dict[str, float]] = {}
    for msg in messages:
        try:
            doc = parse_json(msg.payload)
        except WireError:
            continue
        for item in doc.get("batch", [doc]):
            out[(doc["node"], item["seq"])] = item["m"]
    return out


@pytest.fixture(scope="module")
def faulty() -> tuple[Farm, list[Message]]:
    farm = _farm(faults=FAULT_KINDS, fault_rate=0.03)
    return farm, list(farm.messages())


@pytest.fixture(scope="module")
def clean() -> list[Message]:
    return list(_farm().messages())


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not() -> None:
    a = [(m.topic, m.payload) for m in _farm(duration_s=3600, faults="all", fault_rate=0.05).messages()]
    b = [(m.topic, m.payload) for m in _farm(duration_s=3600, faults="all", fault_rate=0.05).messages()]
    c = [(m.topic, m.payload) for m in _farm(duration_s=3600, faults="all", fault_rate=0.05, seed=12).messages()]
    assert a == b and a != c


def test_adding_sites_and_nodes_leaves_the_existing_nodes_unchanged() -> None:
    small = [(m.topic, m.payload) for m in _farm(duration_s=3600, sites=2, nodes_per_site=1).messages()]
    big = {(m.topic, m.payload) for m in _farm(duration_s=3600, sites=5, nodes_per_site=3).messages()}
    assert small and set(small) <= big


def test_a_site_prefix_changes_the_slugs_but_not_the_signals() -> None:
    plain = [m.payload for m in _farm(duration_s=1800).messages()]
    prefixed = list(_farm(duration_s=1800, site_prefix="t42").messages())
    assert all(m.meta.site.startswith("t42-") for m in prefixed)
    assert [json.loads(m.payload)["m"] for m in prefixed] == [json.loads(p)["m"] for p in plain]


def test_a_clean_farm_cycles_through_every_profile_and_every_reading_is_accepted(clean: list[Message]) -> None:
    farm = _farm(sites=7, nodes_per_site=1, duration_s=24 * 3600)
    messages = list(farm.messages())
    assert {s.profile for s in farm.sites} == set(farm._quantities)
    assert len({s.profile for s in farm.sites}) == 7
    assert len(messages) == farm.stats["reading_sets"] == 7 * 24 * 60
    for msg in messages + clean:
        out = _decode(msg)
        assert not out.rejections and len(out.readings) == 1
    assert not farm.truth


def test_timestamps_rise_per_node_and_messages_come_in_simulated_time_order(clean: list[Message]) -> None:
    last: dict[str, int] = {}
    at = [m.meta.at_ms for m in clean]
    assert at == sorted(at)
    for msg in clean:
        doc = json.loads(msg.payload)
        assert doc["ts"] > last.get(doc["node"], 0)
        last[doc["node"]] = doc["ts"]
    seqs = defaultdict(list)
    for msg in clean:
        seqs[msg.meta.node].append(msg.meta.seqs[0])
    assert all(s == list(range(len(s))) for s in seqs.values())


def test_every_fault_kind_is_injected_and_recorded(faulty: tuple[Farm, list[Message]]) -> None:
    farm, _ = faulty
    counts = Counter(r.kind for r in farm.truth)
    assert set(counts) == set(FAULT_KINDS), counts
    assert counts == farm.fault_counts
    assert not [r for r in farm.truth if r.kind in ("stuck", "drift") and r.quantity in EVENT_QUANTITIES]
    for r in farm.truth:
        d = json.loads(r.to_json())
        assert {"site", "node", "quantity", "kind", "start", "end"} <= set(d) and d["start"] <= d["end"]
        assert (d["quantity"] is None) == (
            r.kind in {"dropout", "duplicate", "out_of_order", "clock_skew", "malformed_json", "wrong_node"}
        )


def test_every_fault_ingest_must_refuse_is_refused_with_the_recorded_reason(
    faulty: tuple[Farm, list[Message]],
) -> None:
    farm, messages = faulty
    refused: dict[tuple[str, int], list[tuple[str, str | None]]] = defaultdict(list)
    for msg in messages:
        now = msg.meta.ts[0] + 60_000  # the ingest clock when the node sent it
        try:
            out = _decode(msg, now)
        except WireError as err:
            for seq in msg.meta.seqs:
                refused[(msg.meta.node, seq)].append((err.reason, None))
            continue
        for rej in out.rejections:
            refused[(msg.meta.node, rej.seq if rej.seq is not None else -1)].append((rej.reason, rej.quantity))
    expected = [r for r in farm.truth if r.expect]
    assert {r.kind for r in expected} == {
        "nan",
        "out_of_range",
        "ds18b20_85",
        "clock_skew",
        "malformed_json",
        "wrong_node",
    }
    for r in expected:
        for seq in r.seqs:
            assert (r.expect, r.quantity) in refused[(r.node, seq)], r
    # And nothing else is refused: every refusal is explained by the truth.
    explained = sum(len(r.seqs) for r in expected)
    assert sum(len(v) for v in refused.values()) == explained


def test_value_faults_change_only_their_quantity_as_described(
    faulty: tuple[Farm, list[Message]], clean: list[Message]
) -> None:
    farm, messages = faulty
    sent, truth_values = _values(messages), _values(clean)
    seen: Counter[str] = Counter()
    for r in farm.truth:
        if r.quantity is None:
            continue
        q = QUANTITIES[r.quantity]
        span = [(r.node, s) for s in r.seqs if (r.node, s) in sent]
        values = [sent[k][r.quantity] for k in span]
        cleans = [truth_values[k][r.quantity] for k in span]
        if not values:
            continue  # the fault fell in a message that never parsed (e.g. inside a dropout window)
        seen[r.kind] += 1
        if r.kind == "spike":
            assert q.plausible(values[0]) and abs(values[0] - cleans[0]) >= 0.4 * SCALE[r.quantity]
        elif r.kind == "stuck":
            assert len(set(values)) == 1 and values[0] == r.value
        elif r.kind == "drift":
            offsets = [abs(v - c) for v, c in zip(values, cleans, strict=True)]
            assert offsets[-1] >= offsets[0] and all(q.plausible(v) for v in values)
        elif r.kind == "ds18b20_85":
            assert r.quantity in ("water_temp", "soil_temp") and set(values) == {85.0}
        elif r.kind == "nan":
            assert math.isnan(values[0])
        elif r.kind == "out_of_range":
            assert not q.plausible(values[0]) and values[0] == r.value
        # Every other quantity of those reading sets is the clean value.
        for k in span:
            others = {n: v for n, v in sent[k].items() if n != r.quantity and not _faulted(farm, r.node, k[1], n)}
            assert others == {n: truth_values[k][n] for n in others}
    assert set(seen) == {"spike", "stuck", "drift", "ds18b20_85", "nan", "out_of_range"}


def _faulted(farm: Farm, node: str, seq: int, quantity: str) -> bool:
    return any(r.node == node and r.quantity == quantity and seq in r.seqs for r in farm.truth)


def test_message_faults_repeat_reorder_or_silence_as_described(faulty: tuple[Farm, list[Message]]) -> None:
    farm, messages = faulty
    by_seq: dict[tuple[str, int], list[int]] = defaultdict(list)
    for i, msg in enumerate(messages):
        for seq in msg.meta.seqs:
            by_seq[(msg.meta.node, seq)].append(i)
    for r in farm.truth:
        positions = by_seq.get((r.node, r.seqs[0]), [])
        if r.kind == "duplicate":
            i, j = positions
            assert messages[i].payload == messages[j].payload and messages[j].meta.repeat
            assert json.loads(messages[i].payload)["seq"] == r.seq
        elif r.kind == "out_of_order":
            (i,) = positions
            before = [m.meta.seqs[0] for m in messages[:i] if m.meta.node == r.node]
            assert max(before) > r.seqs[0], "the held message must come after a later one"
            assert not _decode(messages[i]).rejections
        elif r.kind == "dropout":
            for seq in r.seqs:
                assert (r.node, seq) not in by_seq
        elif r.kind == "malformed_json":
            (i,) = positions
            with pytest.raises(WireError) as err:
                _decode(messages[i])
            assert err.value.reason == Reason.MALFORMED_JSON
        elif r.kind == "wrong_node":
            (i,) = positions
            assert json.loads(messages[i].payload)["node"] != r.node
        elif r.kind == "clock_skew":
            (i,) = positions
            assert json.loads(messages[i].payload)["ts"] == r.ts_sent != r.start


def test_batches_carry_the_same_reading_sets_as_single_messages(clean: list[Message]) -> None:
    batched = list(_farm(batch=25).messages())
    assert all(len(m.meta.seqs) <= 25 for m in batched) and len(batched) < len(clean) / 20
    assert _values(batched) == _values(clean)
    for msg in batched:
        out = _decode(msg)
        assert out.is_batch and not out.rejections


def test_fault_kinds_parse_by_name_or_all() -> None:
    assert parse_kinds("all") == FAULT_KINDS
    assert parse_kinds("spike, nan,spike") == ("spike", "nan")
    with pytest.raises(ValueError, match="unknown fault kind 'bogus'"):
        parse_kinds("spike,bogus")


def test_the_manifest_lists_every_site_and_node_near_tu_ky() -> None:
    farm = _farm(sites=8, nodes_per_site=3, site_prefix="m1")
    manifest = json.loads(json.dumps(farm.manifest(), ensure_ascii=False))
    assert [s["site"] for s in manifest["sites"]][:2] == ["m1-rice-1", "m1-veg-1"]
    assert manifest["sites"][7]["site"] == "m1-rice-2" and manifest["sites"][7]["name_vi"] == "Ruộng lúa 2"
    for s in manifest["sites"]:
        assert abs(s["lat"] - 20.8) < 0.05 and abs(s["lon"] - 106.4) < 0.05
        assert [n["node"] for n in s["nodes"]] == [f"{s['site']}-n0{i}" for i in (1, 2, 3)]


def test_labelled_values_mark_each_faulted_value_and_leave_the_rest_clean(clean: list[Message]) -> None:
    farm = _farm(faults="spike,stuck,drift,nan,duplicate,out_of_order,clock_skew,dropout", fault_rate=0.03)
    rows = labelled_values(farm)
    clean_values = _values(clean)
    labels = Counter(r.fault for r in rows)
    assert {"spike", "stuck", "drift", "nan", "duplicate", "out_of_order", "clock_skew"} <= set(labels)
    assert "dropout" not in labels  # lost readings have no row
    for r in rows:
        if r.fault is None or r.fault in ("duplicate", "out_of_order", "clock_skew"):
            assert r.value == clean_values[(r.node, r.seq)][r.quantity]
    keys = [(r.node, r.seq, r.quantity) for r in rows]
    assert len(keys) == len(set(keys))


def test_with_status_each_node_goes_online_offline_in_its_dropouts_and_offline_at_the_end() -> None:
    farm = _farm(status=True, faults="dropout", fault_rate=0.02)
    messages = list(farm.messages())
    states: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for msg in messages:
        topic = NodeTopic.parse(msg.topic)
        if topic.kind is NodeTopicKind.STATUS:
            st = decode_status(msg.payload)
            assert msg.meta.kind == "status" and st.ts == msg.meta.at_ms
            states[topic.node].append((st.state, st.ts))
        else:
            assert states[topic.node][-1][0] == "online", "telemetry only while the node is online"
    dropout_starts = {(r.node, r.start) for r in farm.truth if r.kind == "dropout"}
    went_offline = 0
    for node, seq in states.items():
        kinds = [s for s, _ in seq]
        assert kinds[0] == "online" and kinds[-1] == "offline"
        assert all(a != b for a, b in itertools.pairwise(kinds)), "states alternate"
        # Every offline but the farewell is the start of a dropout.
        for state, ts in seq[:-1]:
            if state == "offline":
                assert (node, ts) in dropout_starts
                went_offline += 1
    assert went_offline > 0
