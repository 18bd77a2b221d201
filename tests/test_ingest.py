"""Ingest against real Mosquitto and InfluxDB: what it stores, what it refuses, and how it says so."""

from __future__ import annotations

import json
import math
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

from contract import topics
from contract.wire import MAX_PAYLOAD_BYTES, Reason, decode_ack, encode_batch
from ingest.settings import IngestSettings
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto, free_port
from tests.ingest.helpers import (
    AckListener,
    Publisher,
    new_site,
    reading,
    rejected_by_reason,
    running,
    settings,
    stored,
    telemetry,
)
from tests.waiting import wait_until


def _settings(broker: Mosquitto, influxd: Influxd, db: str, tmp: Path, **kw: object) -> IngestSettings:
    return settings(broker.url, influxd.url, db, tmp / "state", **kw)


def test_each_valid_message_becomes_exactly_one_point_with_equal_values(
    broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site = new_site()
    singles = [reading(f"n{i % 5}", i, air_temp=20 + i / 7, soil_moisture=31.5) for i in range(200)]
    batch = [reading("nb", i, ts=1_764_000_000_000 + i * 1000) for i in range(30)]
    pub = Publisher(broker.url)
    with running(_settings(broker, influxd, influx.database, tmp_path)) as ing:
        pub.publish_all([telemetry(site, r) for r in singles])
        pub.publish(str(topics.telemetry(site, "nb")), encode_batch(batch)).wait_for_publish(5)
        wait_until(lambda: len(stored(influx, site)) >= 230, 20, what="every point")
        assert ing.failed is None
    assert rejected_by_reason(influx, site) == {}
    pub.close()
    got = stored(influx, site)
    want = {(r.node, r.ts): {**r.m, "battery_v": r.battery_v, "rssi": r.rssi, "seq": r.seq} for r in singles + batch}
    assert got == want


def _bad_payloads(site: str) -> list[tuple[str, bytes, str]]:
    good = json.loads(telemetry(site, reading("nx", 1))[1])
    t = str(topics.telemetry(site, "nx"))

    def variant(**change: object) -> bytes:
        return json.dumps({**good, **change}).encode()

    future = int(time.time() * 1000) + 3600_000
    return [
        (t, b"{not json", Reason.MALFORMED_JSON),
        (t, b"\xff\xfe\x00garbage", Reason.MALFORMED_JSON),
        (t, b"[1, 2, 3]", Reason.NOT_AN_OBJECT),
        (t, variant(v="1"), Reason.BAD_VERSION),
        (t, variant(node="other-node"), Reason.NODE_MISMATCH),
        (t, variant(node=42), Reason.BAD_NODE),
        (t, variant(boot="no spaces allowed"), Reason.BAD_BOOT),
        (t, variant(seq="7"), Reason.BAD_SEQ),
        (t, variant(ts=1.5e12), Reason.BAD_TS),
        (t, variant(ts=future), Reason.TS_IN_FUTURE),
        (t, variant(ts=86_400_000), Reason.TS_TOO_OLD),
        (t, variant(m=[1, 2]), Reason.BAD_VALUES),
        (t, variant(m={"warp_drive": 1.0, "air_temp": 25.0}), Reason.UNKNOWN_QUANTITY),
        (t, variant(m={"air_temp": "hot", "air_humidity": 60.0}), Reason.NOT_A_NUMBER),
        (t, variant(m={"air_temp": 999.0, "air_humidity": 60.0}), Reason.IMPLAUSIBLE),
        (t, variant(m={}, battery_v=None, rssi=None), Reason.NO_VALID_VALUES),
        (t, variant(batch=[]), Reason.BAD_BATCH),
        (t, variant(m={"air_temp": math.nan}), Reason.NOT_FINITE),
        (t, variant(m={"air_temp": math.inf, "air_humidity": 50.0}), Reason.NOT_FINITE),
        (t, b'{"v":1,"pad":"' + b"x" * (MAX_PAYLOAD_BYTES + 10) + b'"}', Reason.TOO_LARGE),
        (f"farm/{site}/Not_A_Slug/telemetry", variant(), Reason.BAD_TOPIC),
    ]


def test_every_bad_payload_kind_is_counted_under_its_reason_and_stored_in_rejected(
    broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site = new_site()
    bad = _bad_payloads(site)
    expected: dict[str, int] = {}
    for _t, _p, reason in bad:
        expected[reason] = expected.get(reason, 0) + 1
    s = _settings(broker, influxd, influx.database, tmp_path)
    pub = Publisher(broker.url)
    with running(s) as ing:
        pub.publish_all([(t, p) for t, p, _r in bad])
        after = reading("nx", 99)
        pub.publish_all([telemetry(site, after)])  # still alive and storing after all of that
        wait_until(lambda: (after.node, after.ts) in stored(influx, site), 20, what="the good message after")
        wait_until(lambda: ing.metrics.messages_in >= len(bad) + 1, 10)
        counted = dict(ing.metrics.rejected)
    pub.close()
    # Only this test's messages count: the shared broker may hold other tests' retained messages.
    assert all(counted.get(reason, 0) >= n for reason, n in expected.items()), counted
    in_db = rejected_by_reason(influx, site)
    bad_topic = f"farm/{site}/Not_A_Slug/telemetry"
    in_db[Reason.BAD_TOPIC] = sum(
        int(r["count"]) for ser in influx.query(f"SELECT * FROM \"rejected\" WHERE topic='{bad_topic}'")
        for r in ser.rows())
    assert in_db == expected, in_db
    letters = [json.loads(line) for line in s.dead_letter_path.read_text().splitlines()]
    letters = [d for d in letters if site in d["topic"]]
    assert sorted(d["reason"] for d in letters) == sorted(r for _t, _p, r in bad)
    assert all(d["topic"] and d["detail"] and len(d["payload"].encode()) <= 1024 * 4 for d in letters)
    rows = influx.query(f"SELECT * FROM \"rejected\" WHERE reason='{Reason.NODE_MISMATCH}'")[0].rows()
    assert rows[0]["site"] == site and rows[0]["node"] == "nx" and "other-node" in rows[0]["payload"]


def test_a_replayed_message_writes_no_second_point_and_counts_as_a_duplicate(
    broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site = new_site()
    r = reading("n1", 5)
    pub = Publisher(broker.url)
    with running(_settings(broker, influxd, influx.database, tmp_path)):
        pub.publish_all([telemetry(site, r), telemetry(site, r), telemetry(site, reading("n1", 6))])
        wait_until(lambda: influx.query(f"SELECT sum(duplicates) FROM node_health WHERE site='{site}'"), 15,
                   what="node_health")
    pub.close()
    assert influx.count_points("reading", f"site='{site}'") == 2
    health = influx.query(f"SELECT sum(received), sum(duplicates), sum(gaps) FROM node_health WHERE site='{site}'")
    assert health[0].values[0][1:] == [3, 1, 0]


def test_the_database_is_created_when_missing(
    broker: Mosquitto, influxd: Influxd, db_name: str, tmp_path: Path
) -> None:
    site = new_site()
    r = reading("n1", 0)
    pub = Publisher(broker.url)
    with running(_settings(broker, influxd, db_name, tmp_path)):
        pub.publish_all([telemetry(site, r)])
        influx = InfluxClient(influxd.url, db_name)
        wait_until(lambda: stored(influx, site), 15, what="the point in the new database")
    pub.close()
    influx.close()


def test_status_messages_become_node_status_points(
    broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site = new_site()
    ts = int(time.time() * 1000) - 1000
    pub = Publisher(broker.url)
    with running(_settings(broker, influxd, influx.database, tmp_path)):
        pub.publish_all([
            (str(topics.status(site, "n1")), json.dumps(
                {"state": "online", "ts": ts, "fw": "1.2.0", "uptime_s": 12.5, "spool_depth": 3,
                 "sensor_faults": ["sht31"]}).encode()),
            (str(topics.status(site, "n2")), b'{"state":"sleeping","ts":1}'),
        ])
        rows = wait_until(lambda: influx.query(f"SELECT * FROM node_status WHERE site='{site}'"), 15)
        wait_until(lambda: rejected_by_reason(influx, site), 10)
    pub.close()
    row = rows[0].rows()[0]
    assert row["time"] == ts and row["online"] == 1 and row["fw"] == "1.2.0"
    assert row["uptime_s"] == 12.5 and row["spool_depth"] == 3 and row["sensor_faults"] == "sht31"
    assert rejected_by_reason(influx, site) == {Reason.BAD_VALUES: 1}


def test_the_end_to_end_ack_is_the_retained_cumulative_watermark_and_survives_a_restart(
    broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site = new_site()
    s = _settings(broker, influxd, influx.database, tmp_path)
    pub = Publisher(broker.url)
    listener = AckListener(broker.url, site)
    try:
        with running(s):
            # seq 3 is missing: the watermark stops at 2 however far the node gets
            pub.publish_all([telemetry(site, reading("n1", i, boot="bootA")) for i in (0, 1, 2, 4, 5)])
            wait_until(lambda: "n1" in listener.acks, 15, what="an ack")
            wait_until(lambda: decode_ack(listener.acks["n1"]).seq == 2, 5)
        with running(s):
            pub.publish_all([telemetry(site, reading("n1", 3, boot="bootA"))])
            # The new run learns "≤ 2 settled" from the retained ack; 4 and 5 come again from the
            # node's outbox, as they were never acknowledged.
            wait_until(lambda: decode_ack(listener.acks["n1"]).seq == 3, 15, what="watermark 3 after restart")
            pub.publish_all([telemetry(site, reading("n1", i, boot="bootA")) for i in (4, 5)])
            wait_until(lambda: decode_ack(listener.acks["n1"]).seq == 5, 15, what="watermark 5")
        assert decode_ack(listener.acks["n1"]).boot == "bootA"
    finally:
        pub.close()
        listener.close()


def test_the_command_says_where_it_reads_and_writes_serves_metrics_and_stops_cleanly_on_sigterm(
    ruongso_cmd: list[str], broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site, port = new_site(), free_port()
    url_with_password = broker.url.replace("mqtt://", "mqtt://ingest:s3cret-pw@")
    p = subprocess.Popen(
        [*ruongso_cmd, "ingest", "--mqtt-url", url_with_password, "--influx-url", influxd.url, "--influx-db",
         influx.database, "--state-dir", str(tmp_path / "st"), "--metrics-port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert p.stdout is not None
        first = p.stdout.readline()
        assert first.startswith("ruongso ingest: reading mqtt://ingest@127.0.0.1") and influxd.url in first
        assert "s3cret" not in first
        pub = Publisher(broker.url)
        r = reading("n1", 0)

        def stored_once() -> bool:
            pub.publish_all([telemetry(site, r)])
            return bool(stored(influx, site))

        wait_until(stored_once, 20, interval=0.3, what="the point")
        pub.publish_all([(str(topics.telemetry(site, "n1")), b"{broken")])
        metrics = wait_until(lambda: _metrics(port), 10, what="/metrics with the rejection")
        assert 'ruongso_ingest_rejected_total{instance=' in metrics and 'reason="malformed_json"' in metrics
        pub.close()
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=30)
    finally:
        p.kill()
    assert p.returncode == 0, out
    assert "Traceback" not in out and "stopped;" in out and "s3cret" not in out


def _metrics(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:
            text = resp.read().decode()
    except OSError:
        return ""
    return text if 'reason="malformed_json"' in text else ""


def test_bad_settings_and_an_unreachable_broker_are_clear_errors_not_tracebacks(
    ruongso_cmd: list[str], influxd: Influxd, tmp_path: Path
) -> None:
    bad = subprocess.run([*ruongso_cmd, "ingest", "--batch-size", "0", "--state-dir", str(tmp_path)],
                         capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "batch_size" in bad.stderr and "Traceback" not in bad.stderr
    gone = subprocess.run(
        [*ruongso_cmd, "ingest", "--mqtt-url", f"mqtt://127.0.0.1:{free_port()}", "--influx-url", influxd.url,
         "--influx-db", "unreach", "--state-dir", str(tmp_path / "s2"), "--metrics-port", "0"],
        capture_output=True, text=True, timeout=60,
    )
    assert gone.returncode == 1 and "cannot reach MQTT broker" in gone.stderr
    assert "Traceback" not in gone.stderr + gone.stdout


def test_a_point_influxdb_refuses_for_good_is_dead_lettered_and_the_rest_of_its_batch_stored(
    broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site = new_site()
    now = int(time.time() * 1000) - 60_000
    # Someone wrote soil_ec as a string for node n9: InfluxDB now refuses floats there (400, field type conflict).
    influx.write([f'reading,site={site},node=n9 soil_ec="high",seq=0i {now - 1000}'])
    good = [reading("n1", i, ts=now + i) for i in range(20)]
    clash = reading("n9", 1, ts=now, soil_ec=1.5)
    s = _settings(broker, influxd, influx.database, tmp_path, batch_ms=500)
    pub = Publisher(broker.url)
    with running(s) as ing:
        pub.publish_all([telemetry(site, r) for r in good[:10]] + [telemetry(site, clash)]
                        + [telemetry(site, r) for r in good[10:]])
        wait_until(lambda: ing.metrics.rejected.get(Reason.INFLUX_REFUSED) == 1, 15, what="the refusal")
        wait_until(lambda: rejected_by_reason(influx, site) == {Reason.INFLUX_REFUSED: 1}, 10)
    pub.close()
    assert {k for k in stored(influx, site) if k[0] == "n1"} == {("n1", r.ts) for r in good}
    letter = json.loads(s.dead_letter_path.read_text().splitlines()[-1])
    assert letter["reason"] == Reason.INFLUX_REFUSED and "conflict" in letter["detail"]
    assert letter["payload"].startswith(f"reading,site={site},node=n9 soil_ec=1.5")


def test_pipeline_figures_are_written_every_interval(
    broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site = new_site()
    pub = Publisher(broker.url)
    with running(_settings(broker, influxd, influx.database, tmp_path, client_id="pipe-test")):
        pub.publish_all([telemetry(site, reading("n1", i)) for i in range(5)])
        rows = wait_until(lambda: [r for s in influx.query("SELECT * FROM pipeline WHERE instance='pipe-test'")
                                   for r in s.rows() if r["points_written"] >= 5], 15, what="a pipeline point")
    pub.close()
    row = rows[-1]
    assert row["messages_in"] >= 5 and row["rejected"] == 0 and row["spool_bytes"] == 0
    assert {"influx_errors", "dead_letters", "write_latency_ms_p95", "batch_size_mean"} <= set(row)


def test_members_of_a_shared_subscription_share_progress_so_the_ack_watermark_covers_both_halves(
    broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site = new_site()
    group = f"g{site}"
    a = _settings(broker, influxd, influx.database, tmp_path / "a", client_id=f"a-{site}", share_group=group)
    b = _settings(broker, influxd, influx.database, tmp_path / "b", client_id=f"b-{site}", share_group=group)
    listener = AckListener(broker.url, site)
    pub = Publisher(broker.url)
    try:
        with running(a) as ing_a, running(b) as ing_b:
            pub.publish_all([telemetry(site, reading("n1", i, boot="bootS")) for i in range(200)])
            wait_until(lambda: "n1" in listener.acks and decode_ack(listener.acks["n1"]).seq == 199, 20,
                       what="watermark 199")
            # both took part: without shared progress neither could have acked past the other's seqs
            assert ing_a.metrics.points_written > 0 and ing_b.metrics.points_written > 0
    finally:
        pub.close()
        listener.close()
