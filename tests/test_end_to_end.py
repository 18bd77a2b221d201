"""A simulated farm flows through real Mosquitto and the ingestor into real InfluxDB.

The test listens on the broker like any other subscriber and uses the wire contract as the oracle:
every reading set published must be one point in InfluxDB with the values that were sent, and
every message the contract refuses must be counted in `rejected` under the same reason.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest

from contract import topics
from contract.wire import Reading, Reason, WireError, decode_telemetry, encode_reading
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto
from tests.telemetry_recorder import TelemetryRecorder
from tests.waiting import wait_until

PROBE = ("e2e-probe", "e2e-probe-n01")


def _expected(messages: list[tuple[str, bytes, int]]) -> tuple[dict[tuple[str, str, int], dict], Counter[str]]:
    """What the contract says must be stored (keyed site, node, ts) and refused (by reason)."""
    stored: dict[tuple[str, str, int], dict] = {}
    refused: Counter[str] = Counter()
    for topic, payload, arrived in messages:
        t = topics.NodeTopic.parse(topic)
        try:
            out = decode_telemetry(payload, t.node, now_ms=arrived)
        except WireError as err:
            refused[err.reason] += 1
            continue
        for rej in out.rejections:
            refused[rej.reason] += 1
        for r in out.readings:
            fields = dict(r.m)
            if r.battery_v is not None:
                fields["battery_v"] = r.battery_v
            if r.rssi is not None:
                fields["rssi"] = r.rssi
            stored[(t.site, r.node, r.ts)] = fields
    return stored, refused


def _stored(influx: InfluxClient) -> dict[tuple[str, str, int], dict]:
    out: dict[tuple[str, str, int], dict] = {}
    for s in influx.query('SELECT * FROM "reading" GROUP BY "site", "node"'):
        for row in s.rows():
            ts = row.pop("time")
            row.pop("seq", None)
            out[(s.tags["site"], s.tags["node"], ts)] = {k: v for k, v in row.items() if v is not None}
    return out


def _rejected(influx: InfluxClient) -> Counter[str]:
    got: Counter[str] = Counter()
    for s in influx.query('SELECT sum("count") FROM "rejected" GROUP BY "reason"'):
        got[s.tags["reason"]] += int(s.values[0][1])
    return got


def _run_farm(ruongso_cmd: list[str], broker: Mosquitto, influxd: Influxd, db: str, tmp: Path,
              sim_args: list[str]) -> tuple[TelemetryRecorder, subprocess.CompletedProcess[str], subprocess.Popen[str]]:
    recorder = TelemetryRecorder(broker)
    ingest = subprocess.Popen(
        [*ruongso_cmd, "ingest", "--mqtt-url", broker.url, "--influx-url", influxd.url, "--influx-db", db],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        influx = InfluxClient(influxd.url, db)
        influx.create_database()  # so the test can query before the first write
        # A probe reading proves ingest is subscribed before the farm starts publishing.
        probe = Reading(PROBE[1], "probe", 0, int(time.time() * 1000) - 1000, {"air_temp": 20.0})
        # Sent again until stored (a message before ingest subscribes reaches nobody); the copies
        # are the same point, so InfluxDB keeps one.
        def probe_stored() -> bool:
            recorder.client.publish(str(topics.telemetry(*PROBE)), encode_reading(probe), qos=1)
            return influx.count_points("reading") >= 1

        wait_until(probe_stored, 30, interval=0.3, what="ingest to store the probe reading")
        influx.close()
        sim = subprocess.run(
            [*ruongso_cmd, "sim", "--mqtt-url", broker.url, *sim_args, "--truth", str(tmp / "truth.jsonl")],
            capture_output=True, text=True, timeout=240,
        )
        assert sim.returncode == 0, sim.stderr
    except BaseException:
        ingest.kill()
        print(ingest.communicate(timeout=10)[0][-4000:])
        raise
    return recorder, sim, ingest


def _stop(ingest: subprocess.Popen[str]) -> str:
    ingest.terminate()
    out, _ = ingest.communicate(timeout=30)
    assert ingest.returncode == 0, out
    return out


@pytest.mark.slow
def test_twenty_nodes_for_two_simulated_hours_land_one_point_per_message_with_equal_values(
    ruongso_cmd: list[str], broker: Mosquitto, influxd: Influxd, db_name: str, tmp_path: Path
) -> None:
    recorder, sim, ingest = _run_farm(
        ruongso_cmd, broker, influxd, db_name, tmp_path,
        ["--sites", "10", "--nodes-per-site", "2", "--interval", "60", "--duration", "2h",
         "--speed", "5000", "--seed", "7"],
    )
    influx = InfluxClient(influxd.url, db_name)
    try:
        sent = 20 * 120
        assert f"reading_sets={sent}" in sim.stdout, f"sim should report {sent} reading sets: {sim.stdout}"
        wait_until(lambda: len(recorder.messages) >= sent + 1, 30, what="recorder to see every message")
        expected, refused = _expected(recorder.messages)
        assert len(expected) == sent + 1 and not refused  # the farm's reading sets and the probe
        wait_until(lambda: influx.count_points("reading") >= sent + 1, 60, what="every point in InfluxDB")
        assert _stored(influx) == expected
    finally:
        recorder.close()
        _stop(ingest)
        influx.close()


@pytest.mark.slow
def test_with_faults_injected_every_bad_message_is_refused_by_reason_and_every_good_one_stored(
    ruongso_cmd: list[str], broker: Mosquitto, influxd: Influxd, db_name: str, tmp_path: Path
) -> None:
    recorder, sim, ingest = _run_farm(
        ruongso_cmd, broker, influxd, db_name, tmp_path,
        ["--sites", "4", "--nodes-per-site", "2", "--interval", "60", "--duration", "6h",
         "--speed", "20000", "--seed", "11", "--faults", "all", "--fault-rate", "0.05"],
    )
    influx = InfluxClient(influxd.url, db_name)
    try:
        truth = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines() if line]
        kinds = {t["kind"] for t in truth}
        assert {"malformed_json", "wrong_node", "nan", "out_of_range", "duplicate"} <= kinds, kinds
        published = int(re.search(r"messages=(\d+)", sim.stdout).group(1))  # type: ignore[union-attr]
        wait_until(lambda: len(recorder.messages) >= published + 1, 30, what="recorder to see every message")
        expected, refused = _expected(recorder.messages)
        assert refused[Reason.MALFORMED_JSON] >= 1 and refused[Reason.NODE_MISMATCH] >= 1
        wait_until(lambda: _rejected(influx) == refused, 60, what="every refusal counted in `rejected`")
        wait_until(lambda: _stored(influx) == expected, 60, what="every good reading stored")
    finally:
        recorder.close()
        _stop(ingest)
        influx.close()
