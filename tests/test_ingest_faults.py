"""Ingest under faults, with real processes, counted by (node, boot, seq): nothing may go missing."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from contract import topics
from contract.wire import encode_reading
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto
from tests.ingest.helpers import Publisher, new_site, reading, running, settings
from tests.waiting import wait_until


def _stream(site: str, n: int, nodes: int = 50, boot: str = "f1") -> list[tuple[str, bytes]]:
    return [(str(topics.telemetry(site, f"n{i % nodes:02d}")),
             encode_reading(reading(f"n{i % nodes:02d}", i // nodes, boot=boot))) for i in range(n)]


def _seqs(influx: InfluxClient, site: str) -> set[tuple[str, int]]:
    out: set[tuple[str, int]] = set()
    for s in influx.query(f"SELECT seq FROM \"reading\" WHERE site='{site}' GROUP BY \"node\""):
        out.update((s.tags["node"], int(v[1])) for v in s.values)
    return out


def _expected(n: int, nodes: int = 50) -> set[tuple[str, int]]:
    return {(f"n{i % nodes:02d}", i // nodes) for i in range(n)}


def _publish_in_background(url: str, msgs: list[tuple[str, bytes]]) -> threading.Thread:
    def run() -> None:
        pub = Publisher(url)
        pub.publish_all(msgs, timeout=120)
        pub.close()

    th = threading.Thread(target=run, daemon=True)
    th.start()
    return th


def _ingest(broker: Mosquitto, influxd: Influxd, db: str, tmp: Path, cid: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ruongso", "ingest", "--mqtt-url", broker.url, "--influx-url", influxd.url,
         "--influx-db", db, "--client-id", cid, "--state-dir", str(tmp / cid), "--metrics-port", "0",
         "--batch-size", "1000", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def _wait_ready(influx: InfluxClient, broker: Mosquitto, site: str) -> None:
    """Ingest is subscribed once a probe of its own site lands; the probe is sent again until then
    (a message published before the subscription exists reaches nobody; repeats are idempotent)."""
    pub = Publisher(broker.url)
    probe = (str(topics.telemetry(site, "probe")), encode_reading(reading("probe", 0)))

    def landed() -> bool:
        pub.publish_all([probe])
        return influx.count_points("reading", f"site='{site}' AND node='probe'") == 1

    wait_until(landed, 30, interval=0.3, what="ingest to be subscribed")
    pub.close()


def _stop(p: subprocess.Popen[str]) -> str:
    p.send_signal(signal.SIGTERM)
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0, out
    return out


@pytest.mark.slow
def test_kill_9_in_the_middle_of_a_stream_and_restart_loses_nothing(
    own_broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site, n = new_site("tk"), 50_000
    p = _ingest(own_broker, influxd, influx.database, tmp_path, "kill9")
    try:
        _wait_ready(influx, own_broker, site)
        pub = _publish_in_background(own_broker.url, _stream(site, n))
        wait_until(lambda: influx.count_points("reading", f"site='{site}'") > 10_000, 60, interval=0.2,
                   what="a fifth written")
        p.kill()
        p.wait(10)
        assert influx.count_points("reading", f"site='{site}'") < n, "killed mid-stream, not after it"
        pub.join(120)
        p = _ingest(own_broker, influxd, influx.database, tmp_path, "kill9")
        wait_until(lambda: influx.count_points("reading", f"site='{site}'") >= n + 1, 90, interval=0.5,
                   what="every message after the restart")
        _stop(p)
    finally:
        p.kill()
    assert _seqs(influx, site) >= _expected(n)


@pytest.mark.slow
def test_influxdb_down_under_load_then_back_everything_arrives_through_the_spool(
    broker: Mosquitto, own_influxd: Influxd, tmp_path: Path
) -> None:
    site, n = new_site("td"), 6000
    influx = InfluxClient(own_influxd.url, "outage")
    s = settings(broker.url, own_influxd.url, "outage", tmp_path / "state", retry_budget_s=0.5,
                 batch_size=500, receive_maximum=2000)
    with running(s) as ing:
        assert ing.writer is not None
        msgs = _stream(site, n)
        pub = Publisher(broker.url)
        pub.publish_all(msgs[:1000])
        wait_until(lambda: ing.metrics.points_written >= 1000, 20)
        own_influxd.stop()
        pub.publish_all(msgs[1000:])  # the broker takes them all while InfluxDB is down
        # Everything is acked to the broker once spooled (the last batch a moment after it arrived, so
        # this waits for the acks, not only the arrivals); memory holds at most Receive Maximum.
        wait_until(lambda: ing.metrics.spooled_batches > 0 and ing.metrics.acked >= n, 60,
                   what="the rest taken in, spooled and acked")
        assert ing.metrics.messages_in >= n and ing.metrics.spool_bytes > 0
        errors = ing.metrics.influx_errors
        wait_until(lambda: ing.metrics.influx_errors >= errors + 3, 30, what="replay probes failing meanwhile")
        assert ing.metrics.spool_records > 0
        own_influxd.start()
        wait_until(lambda: ing.metrics.spool_records == 0, 60, what="the spool replayed")
        pub.close()
    assert _seqs(influx, site) == _expected(n)
    assert not any((tmp_path / "state" / "spool").glob("seg-*.log")), "a drained spool takes no disk"
    influx.close()


@pytest.mark.slow
def test_two_ingestors_on_one_shared_subscription_split_the_stream_and_a_killed_one_loses_nothing(
    own_broker: Mosquitto, influxd: Influxd, influx: InfluxClient, tmp_path: Path
) -> None:
    site, n = new_site("ts"), 10_000
    a = _ingest(own_broker, influxd, influx.database, tmp_path, "share-a", "--share-group", "ingest")
    b = _ingest(own_broker, influxd, influx.database, tmp_path, "share-b", "--share-group", "ingest")
    try:
        _wait_ready(influx, own_broker, site)
        pub = _publish_in_background(own_broker.url, _stream(site, n))
        wait_until(lambda: influx.count_points("reading", f"site='{site}'") > 2000, 60, what="a fifth written")
        a.kill()
        a.wait(10)
        assert influx.count_points("reading", f"site='{site}'") < n, "killed mid-stream, not after it"
        pub.join(120)
        # Mosquitto keeps what it had routed to the dead member in its session; the member comes
        # back under the same client id (systemd Restart=always) and finishes it.
        a = _ingest(own_broker, influxd, influx.database, tmp_path, "share-a", "--share-group", "ingest")
        wait_until(lambda: influx.count_points("reading", f"site='{site}'") >= n + 1, 90, interval=0.5,
                   what="every message")
        out_b = _stop(b)
        _stop(a)
    finally:
        a.kill()
        b.kill()
    assert _seqs(influx, site) >= _expected(n)
    written_by_b = int(out_b.split(" points written")[0].rsplit(" ", 1)[-1])
    assert 0 < written_by_b < n, "both members took a share of the stream"


@pytest.mark.slow
def test_a_broker_restart_mid_stream_loses_nothing(own_broker: Mosquitto, influxd: Influxd, influx: InfluxClient,
                                                  tmp_path: Path) -> None:
    site, n = new_site("tb"), 4000
    msgs = _stream(site, n)
    s = settings(own_broker.url, influxd.url, influx.database, tmp_path / "state")
    with running(s) as ing:
        pub = Publisher(own_broker.url)
        pub.publish_all(msgs[: n // 2])
        pub.close()
        own_broker.stop()  # queued and unacked messages persist in the broker's session store
        own_broker.start()
        pub = Publisher(own_broker.url)
        pub.publish_all(msgs[n // 2:])
        pub.close()
        wait_until(lambda: influx.count_points("reading", f"site='{site}'") >= n, 60, interval=0.3,
                   what="every message after the broker came back")
        assert ing.failed is None
    assert _seqs(influx, site) == _expected(n)


def test_wrong_influxdb_credentials_spool_the_data_until_they_are_fixed_nothing_is_dead_lettered(
    broker: Mosquitto, tmp_path: Path
) -> None:
    site, n = new_site("ta"), 500
    secured = Influxd(tmp_path / "influxd-auth", auth=True)
    secured.start()
    try:
        s = settings(broker.url, secured.url, "secured", tmp_path / "state", influx_user="ingest",
                     influx_password="pw-1")
        with running(s) as ing:
            pub = Publisher(broker.url)
            pub.publish_all(_stream(site, n, nodes=5))
            wait_until(lambda: ing.metrics.messages_in >= n and ing.metrics.spool_records > 0, 30,
                       what="the data spooled while InfluxDB refuses the credentials")
            assert ing.metrics.dead_letters == 0
            # The operator creates the user (the first admin may be created without credentials).
            with InfluxClient(secured.url, "secured") as anon:
                anon.query("CREATE USER ingest WITH PASSWORD 'pw-1' WITH ALL PRIVILEGES")
            wait_until(lambda: ing.metrics.spool_records == 0, 60, what="the spool replayed")
            pub.close()
        with InfluxClient(secured.url, "secured", "ingest", "pw-1") as c:
            assert _seqs(c, site) == _expected(n, nodes=5)
    finally:
        secured.stop()


@pytest.mark.slow
def test_with_influxdb_down_and_the_spool_full_ingest_stops_acking_holds_little_and_loses_nothing(
    broker: Mosquitto, own_influxd: Influxd, tmp_path: Path
) -> None:
    site, n = new_site("tq"), 3000
    influx = InfluxClient(own_influxd.url, "full")
    s = settings(broker.url, own_influxd.url, "full", tmp_path / "state", retry_budget_s=0.3, retry_max_s=0.3,
                 batch_size=100, receive_maximum=200, spool_max_bytes=20_000)
    with running(s) as ing:
        assert ing.writer is not None
        own_influxd.stop()
        pub = Publisher(broker.url)
        for info in [pub.publish(t, p) for t, p in _stream(site, n)]:
            info.wait_for_publish(30)  # the broker has them all; it keeps what ingest does not ack
        # Full means a batch found no room: how many bytes that takes depends on how batches fell.
        wait_until(lambda: ing.metrics.spool_full > 0 and ing.metrics.spool_bytes > 0, 30, what="the spool full")
        held = []
        for _ in range(20):  # a second of sampling while nothing can be written or spooled
            held.append(ing.writer.queue.qsize())
            time.sleep(0.05)
        assert max(held) <= 200 and ing.metrics.messages_in < n, "Receive Maximum bounds what ingest holds"
        own_influxd.start()
        wait_until(lambda: influx.count_points("reading", f"site='{site}'") >= n, 90, interval=0.5,
                   what="everything once InfluxDB is back")
        pub.close()
    assert _seqs(influx, site) == _expected(n)
    influx.close()
