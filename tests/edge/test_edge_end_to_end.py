"""Edge agent → Mosquitto → the real `ruongso ingest` → InfluxDB, across a broker outage.

The issue's "broker stopped for 10 minutes while the node samples" runs here at 5 readings/s for
a few seconds of outage: what matters is that readings are taken while the broker is down, not the
wall-clock length. The acks come from the real ingestor.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from edge.config import load_node_config
from edge.outbox import Outbox, Pending, body_of
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto
from tests.edge.conftest import running, write_config
from tests.waiting import wait_until


def seqs_in_influx(influx: InfluxClient, node: str) -> list[int]:
    return [
        int(row[1])
        for series in influx.query(f"SELECT seq FROM reading WHERE node = '{node}'")
        for row in series.values
    ]


def start_ingest(
    tmp_path: Path, broker: Mosquitto, influxd: Influxd, db: str, cmd: list[str]
) -> subprocess.Popen[bytes]:
    args = [*cmd, "ingest", "--mqtt-url", broker.url, "--influx-url", influxd.url, "--influx-db", db,
            "--metrics-port", "0", "--state-dir", str(tmp_path / "ingest")]  # fmt: skip
    with (tmp_path / "ingest.log").open("w") as log:
        return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)


def test_every_reading_taken_during_a_broker_outage_lands_in_influxdb_once(
    tmp_path: Path, own_broker: Mosquitto, influxd: Influxd, influx: InfluxClient, ruongso_cmd: list[str]
) -> None:
    cfg = load_node_config(write_config(tmp_path, own_broker.url, spool={"ack_timeout": "5s"}))
    ingest = start_ingest(tmp_path, own_broker, influxd, influx.database, ruongso_cmd)
    try:
        with running(cfg) as agent:
            wait_until(lambda: len(seqs_in_influx(influx, cfg.node)) >= 5, 30, what="first points in InfluxDB")
            own_broker.stop()
            taken = agent.seq
            wait_until(lambda: agent.seq >= taken + 25, 15, what="25 readings taken while the broker is down")
            own_broker.start()
            last = agent.seq
            wait_until(lambda: set(range(last)) <= set(seqs_in_influx(influx, cfg.node)), 60, what="every seq stored")
            wait_until(lambda: agent.outbox.depth < 10, 30, what="ingest's acks empty the outbox")
    finally:
        ingest.terminate()
        ingest.wait(30)
    stored = seqs_in_influx(influx, cfg.node)
    assert sorted(stored) == list(range(len(stored))), "one point per reading: no gap, no second point"


def test_after_the_spool_overflowed_ingest_acks_the_survivors_and_the_spool_drains(
    tmp_path: Path, broker: Mosquitto, influxd: Influxd, influx: InfluxClient, ruongso_cmd: list[str]
) -> None:
    cfg = load_node_config(write_config(tmp_path, broker.url, spool={"max_bytes": "64KiB", "ack_timeout": "5s"}))
    box = Outbox(cfg.spool.path, 10**9)  # a long outage: 3000 readings waiting, far over the bound
    ts = int(time.time() * 1000) - 3_600_000
    for seq in range(3000):
        box.add(Pending("longoutage", seq, ts + seq * 1000, "k", 0, body_of({"air_temp": 25.0}, None, None)))
    box.flush()
    box.close()
    ingest = start_ingest(tmp_path, broker, influxd, influx.database, ruongso_cmd)
    try:
        with running(cfg) as agent:
            kept = 3000 - agent.outbox.evicted
            wait_until(lambda: agent.outbox.depth < 10, 30, what="survivors acked by ingest despite the hole")
            wait_until(lambda: "longoutage" not in agent.outbox.aliases, 10, what="the rebased boot fully acked")
    finally:
        ingest.terminate()
        ingest.wait(30)
    q = f"SELECT air_temp FROM reading WHERE node = '{cfg.node}' AND time < now() - 5m"
    old = [ts_ms for series in influx.query(q) for ts_ms, _ in series.values]
    assert len(old) == kept, "every surviving reading stored once"
    assert old == [ts + seq * 1000 for seq in range(3000 - kept, 3000)], "the oldest were the ones evicted"


def test_readings_spooled_by_an_earlier_run_reach_influxdb_beside_the_new_runs(
    tmp_path: Path, own_broker: Mosquitto, influxd: Influxd, influx: InfluxClient, ruongso_cmd: list[str]
) -> None:
    # A long ack timeout: the old boot must be acked at once, not rescued by a resend.
    cfg = load_node_config(write_config(tmp_path, own_broker.url, spool={"ack_timeout": "60s"}))
    own_broker.stop()
    with running(cfg) as first:  # no broker: everything stays in the spool
        wait_until(lambda: first.outbox.depth >= 15, 15, what="15 readings spooled")
    spooled = first.seq
    last_old_ts = first.outbox.last_ts
    own_broker.start()
    ingest = start_ingest(tmp_path, own_broker, influxd, influx.database, ruongso_cmd)
    try:
        wait_until(lambda: "mqtt_connected" in (tmp_path / "ingest.log").read_text(), 30, what="ingest connected")
        with running(cfg) as second:
            wait_until(lambda: second.seq >= 5, 10)
            # The new run's readings flow while the old boot's are replayed; both get acked.
            wait_until(lambda: len(seqs_in_influx(influx, cfg.node)) >= spooled + 5, 20, what="both runs stored")
            wait_until(lambda: second.outbox.depth < 5, 15, what="the old run's readings acked and deleted")
    finally:
        ingest.terminate()
        ingest.wait(30)
    q = f"SELECT seq FROM reading WHERE node = '{cfg.node}' AND time <= {last_old_ts}ms"
    old = [int(row[1]) for series in influx.query(q) for row in series.values]
    assert sorted(old) == list(range(spooled)), "every reading of the earlier run stored once"
