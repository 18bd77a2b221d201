"""Edge agent → Mosquitto → the real `ruongso ingest` → InfluxDB, across a broker outage.

The issue's "broker stopped for 10 minutes while the node samples" runs here at 5 readings/s for
a few seconds of outage: what matters is that readings are taken while the broker is down, not the
wall-clock length. The acks come from the real ingestor.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from edge.config import load_node_config
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


def test_every_reading_taken_during_a_broker_outage_lands_in_influxdb_once(
    tmp_path: Path, own_broker: Mosquitto, influxd: Influxd, influx: InfluxClient, ruongso_cmd: list[str]
) -> None:
    cfg = load_node_config(write_config(tmp_path, own_broker.url, spool={"ack_timeout": "5s"}))
    ingest_cmd = [*ruongso_cmd, "ingest", "--mqtt-url", own_broker.url, "--influx-url", influxd.url,
                  "--influx-db", influx.database, "--metrics-port", "0",
                  "--state-dir", str(tmp_path / "ingest")]  # fmt: skip
    with (tmp_path / "ingest.log").open("w") as log:
        ingest = subprocess.Popen(ingest_cmd, stdout=log, stderr=subprocess.STDOUT)
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
