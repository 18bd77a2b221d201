"""Ingest's parts on their own: spool, sequence windows, dead-letter lines, settings, the paho client."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

import ingest
from ingest.convert import DeadLetter
from ingest.deadletters import DeadLetterFile, RejectedLines
from ingest.fastmqtt import BufferedClient
from ingest.lineproto import field_string
from ingest.progress import AckTracker, HealthTracker, SeqWindow, decode_progress, encode_progress
from ingest.settings import IngestSettings
from ingest.spool import Spool, SpoolFull
from ruongso.influx import InfluxClient
from ruongso.local_services import Mosquitto
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from ruongso.settings import SettingsError, build
from tests.waiting import wait_until

# --- spool ---------------------------------------------------------------------------------------


def _drain(spool: Spool) -> list[bytes]:
    out = []
    while (rec := spool.peek()) is not None:
        out.append(rec)
        spool.pop()
    return out


def test_the_spool_replays_in_order_across_segments_and_reopens_where_it_stopped(tmp_path: Path) -> None:
    records = [f"batch {i} ".encode() * (i + 1) for i in range(50)]
    spool = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=200)
    for r in records:
        spool.append(r)
    assert spool.records == 50 and len(list(tmp_path.glob("seg-*.log"))) > 3
    for r in records[:20]:
        assert spool.peek() == r
        spool.pop()
    spool.close()
    again = Spool(tmp_path, max_bytes=1 << 20, segment_bytes=200)
    assert again.records == 30
    assert again.bytes == sum(8 + len(r) for r in records[20:])
    assert _drain(again) == records[20:]
    assert not list(tmp_path.glob("seg-*.log")) and again.bytes == 0


def test_a_torn_last_record_is_cut_off_and_the_spool_goes_on(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.append(b"first")
    spool.append(b"second")
    spool.close()
    seg = next(tmp_path.glob("seg-*.log"))
    with open(seg, "ab") as f:
        f.write(b"\x00\x00\x00\x40\x12\x34")  # a crash in the middle of a third append
    again = Spool(tmp_path, max_bytes=1 << 20)
    again.append(b"third")
    assert _drain(again) == [b"first", b"second", b"third"]


def test_a_record_replayed_but_not_popped_before_a_crash_is_replayed_again(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=1 << 20)
    spool.append(b"a")
    spool.append(b"b")
    assert spool.peek() == b"a"  # written to InfluxDB, then the process died before pop()
    spool.close()
    assert _drain(Spool(tmp_path, max_bytes=1 << 20)) == [b"a", b"b"]


def test_the_spool_refuses_what_would_pass_its_cap(tmp_path: Path) -> None:
    spool = Spool(tmp_path, max_bytes=100)
    spool.append(b"x" * 50)
    with pytest.raises(SpoolFull):
        spool.append(b"y" * 50)
    spool.pop()
    spool.append(b"y" * 50)
    assert spool.records == 1


# --- sequence windows ----------------------------------------------------------------------------


def test_a_window_advances_only_over_contiguous_seqs_and_spots_repeats() -> None:
    w = SeqWindow()
    assert [w.add(s) for s in (0, 1, 3, 4, 1)] == [True, True, True, True, False]
    assert w.low == 1 and w.above == {3, 4}
    w.add(2)
    assert w.low == 4 and not w.above
    w.raise_low(10)
    assert w.low == 10 and not w.add(7)


def test_node_health_counts_repeats_at_once_and_a_gap_only_when_it_outlives_an_interval() -> None:
    h = HealthTracker()
    for seq in (100, 101, 101, 104, 105, 108):  # first seen mid-boot at 100: nothing before is "missing"
        h.observe("s", "n", "b", seq)
    got = h.report()[("s", "n")]
    assert (got.received, got.duplicates, got.gaps, got.last_seq) == (6, 1, 0, 108)
    h.observe("s", "n", "b", 102)  # late, within the interval: not a loss
    got = h.report()[("s", "n")]
    assert (got.received, got.duplicates, got.gaps) == (1, 0, 3)  # 103, 106, 107 never came
    assert h.report() == {}


def test_the_ack_watermark_is_published_once_per_move_and_a_seed_lifts_it() -> None:
    a = AckTracker()
    a.settled([("s", "n", "b", 0), ("s", "n", "b", 2)])
    assert a.take_dirty() == [("s", "n", "b", 0)]
    assert a.take_dirty() == []
    a.seed("s", "n", "b", 1)  # the retained ack of an earlier run
    a.settled([("s", "n", "b", 3)])
    assert a.take_dirty() == [("s", "n", "b", 3)]
    a.settled([("s", "n", "b", 2)])  # resent: the node missed the ack, so it is said again
    assert a.take_dirty() == [("s", "n", "b", 3)]


def test_two_boots_of_one_node_both_get_their_ack_and_the_current_one_is_said_last() -> None:
    a = AckTracker()
    a.settled([("s", "n", "new", 0), ("s", "n", "old", 7), ("s", "n", "old", 0), ("s", "n", "new", 1)])
    assert a.take_dirty() == [("s", "n", "old", 0), ("s", "n", "new", 1)]


# --- dead-letter lines ---------------------------------------------------------------------------


def test_rejections_in_one_millisecond_stay_distinct_points(influx: InfluxClient) -> None:
    enc = RejectedLines()
    d = DeadLetter("bad_seq", "farm/s/n/telemetry", 'said "hi"\nthen \\ left', "{\"x\":\n1}", "s", "n", 3)
    lines = [enc.line(d, 1_764_000_000_000) for _ in range(5)]
    influx.write(lines)
    rows = influx.query('SELECT * FROM "rejected"')[0].rows()
    assert len(rows) == 5 and sum(r["count"] for r in rows) == 5
    assert rows[0]["detail"] == 'said "hi"\\nthen \\ left' and rows[0]["seq"] == 3


def test_field_strings_escape_quotes_backslashes_and_control_characters() -> None:
    assert field_string('a"b\\c\nd\x01') == '"a\\"b\\\\c\\nd?"'


# --- settings ------------------------------------------------------------------------------------


def test_flags_override_env_and_derived_paths_follow_the_client_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RUONGSO_INFLUX_DB", "fromenv")
    monkeypatch.setenv("RUONGSO_BATCH_SIZE", "123")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    s = build(IngestSettings, batch_size=77, client_id=None)
    assert s.influx_db == "fromenv" and s.batch_size == 77
    assert s.client_id.startswith("ruongso-ingest-") and s.client_id.endswith("-fromenv")
    assert s.state_path == tmp_path / "ruongso" / "ingest" / f"{s.client_id}@127.0.0.1-1883"
    assert s.dead_letter_path == s.state_path / "dead-letters.jsonl"


@pytest.mark.parametrize(
    ("flags", "named"),
    [({"share_group": "no/slash"}, "share_group"), ({"batch_size": 0}, "batch_size"),
     ({"mqtt_url": "http://x"}, "mqtt_url"), ({"metrics_port": 70000}, "metrics_port")],
)
def test_a_bad_setting_is_refused_naming_the_option(flags: dict[str, object], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        build(IngestSettings, **flags)


# --- the tuned paho client -----------------------------------------------------------------------


class _Collector:
    def __init__(self, broker: Mosquitto, cls: type[mqtt.Client], topic: str) -> None:
        self.got: list[tuple[str, bytes, int, bool, object]] = []
        target = parse_mqtt_url(broker.url)
        self.client = make_client(target, f"cmp-{cls.__name__}-{time.monotonic_ns()}", client_class=cls)
        self.client.on_message = lambda c, u, m: self.got.append(
            (m.topic, bytes(m.payload), m.qos, m.retain, getattr(m.properties, "UserProperty", None)))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        connect_and_wait(self.client, target)
        self.client.subscribe(topic, qos=1)
        assert subscribed.wait(5)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_the_buffered_client_receives_exactly_what_stock_paho_receives(broker: Mosquitto) -> None:
    topic = f"cmp/{time.monotonic_ns()}"
    stock = _Collector(broker, mqtt.Client, f"{topic}/#")
    fast = _Collector(broker, BufferedClient, f"{topic}/#")
    pub = make_client(parse_mqtt_url(broker.url), f"cmp-pub-{time.monotonic_ns()}")
    connect_and_wait(pub, parse_mqtt_url(broker.url))
    props = Properties(PacketTypes.PUBLISH)
    props.UserProperty = ("k", "v")
    sent = []
    for i in range(3000):
        payload = b"x" * (300_000 if i % 1000 == 7 else i % 50)  # some span several 256 KiB reads
        p = props if i % 100 == 3 else None
        sent.append(pub.publish(f"{topic}/{i % 7}", payload, qos=i % 2, properties=p))
    for info in sent:
        info.wait_for_publish(10)
    wait_until(lambda: len(stock.got) == 3000 and len(fast.got) == 3000, 30, what="both to receive everything")
    assert fast.got == stock.got
    for c in (stock, fast):
        c.close()
    pub.disconnect()
    pub.loop_stop()


def test_the_dead_letter_file_rotates_past_its_cap_keeping_the_newest(tmp_path: Path) -> None:
    f = DeadLetterFile(tmp_path / "dl.jsonl", max_bytes=2000)
    for i in range(40):
        f.append([DeadLetter("bad_seq", "farm/s/n/telemetry", f"letter {i}", "{}", "s", "n")], 1)
    f.close()
    newest = (tmp_path / "dl.jsonl").read_text().splitlines()
    older = (tmp_path / "dl.jsonl.1").read_text().splitlines()
    assert "letter 39" in newest[-1] and older and len(newest) + len(older) < 40


def test_progress_messages_carry_seqs_as_ranges_and_refuse_garbage() -> None:
    seqs = [("s", "n", "b", i) for i in (5, 1, 2, 3, 9)] + [("s", "m", "b", 0)]
    payload = encode_progress(seqs)
    assert b"[1,3]" in payload
    assert sorted(decode_progress(payload)) == sorted(seqs)
    for bad in (b"{}", b"[[1,2,3,4]]", b'[["s","n","b",[[3,1]]]]', b"nope", b'[["S P","n","b",[]]]'):
        with pytest.raises(ValueError):
            decode_progress(bad)


def test_seqs_older_than_where_health_started_watching_are_not_repeats() -> None:
    h = HealthTracker()
    for seq in (10, 11, 3, 4, 11):  # 3 and 4: another member's share, or a late replay
        h.observe("s", "n", "b", seq)
    got = h.report()[("s", "n")]
    assert (got.received, got.duplicates) == (5, 1)


def test_the_sample_env_lists_every_setting_with_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    sample = Path(ingest.__file__).parent / "sample.env"
    lines = [ln.lstrip("# ") for ln in sample.read_text().splitlines() if "=" in ln and ln.startswith(("R", "# R"))]
    names = {ln.split("=", 1)[0].removeprefix("RUONGSO_").lower() for ln in lines}
    assert names == set(IngestSettings.model_fields)
    for ln in sample.read_text().splitlines():
        if ln.startswith("RUONGSO_"):
            key, value = ln.split("=", 1)
            monkeypatch.setenv(key, value)
    from_sample = build(IngestSettings)
    assert from_sample == build(IngestSettings, client_id=from_sample.client_id)
    for ln in sample.read_text().splitlines():
        if ln.startswith("RUONGSO_"):
            monkeypatch.delenv(ln.split("=", 1)[0])
    assert from_sample == build(IngestSettings)
