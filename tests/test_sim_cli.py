"""`ruongso sim` against a real Mosquitto: every message it reports is on the broker, and bad input is one line."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from contract import topics
from ruongso.local_services import Mosquitto, free_port
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from simulators.faults import FAULT_KINDS
from tests.telemetry_recorder import TelemetryRecorder
from tests.waiting import wait_until


def _summary(stdout: str) -> dict[str, str]:
    lines = [line for line in stdout.splitlines() if line.startswith("sim ")]
    assert len(lines) == 1, stdout
    return dict(re.findall(r"(\w+)=(\S+)", lines[0]))


def test_a_fast_run_publishes_exactly_the_messages_it_reports(
    ruongso_cmd: list[str], broker: Mosquitto, tmp_path: Path
) -> None:
    counter = TelemetryRecorder(broker, "clitest1")
    try:
        run = subprocess.run(
            [*ruongso_cmd, "sim", "--mqtt-url", broker.url, "--site-prefix", "clitest1", "--sites", "7",
             "--nodes-per-site", "2", "--duration", "2h", "--speed", "max", "--seed", "5", "--faults", "all",
             "--fault-rate", "0.02", "--truth", str(tmp_path / "truth.jsonl"),
             "--manifest", str(tmp_path / "manifest.json")],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "Traceback" not in run.stderr
        summary = _summary(run.stdout)
        sent = int(summary["messages"])
        assert int(summary["reading_sets"]) <= 14 * 120 <= sent + 200
        counter.drain()
        assert counter.count() == sent
    finally:
        counter.close()
    truth = [json.loads(line) for line in (tmp_path / "truth.jsonl").read_text().splitlines()]
    reported = dict(kv.split(":") for kv in summary["faults"].split(","))
    assert {k: int(v) for k, v in reported.items()} == {
        k: sum(t["kind"] == k for t in truth) for k in {t["kind"] for t in truth}
    }
    assert set(reported) <= set(FAULT_KINDS)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert len(manifest["sites"]) == 7 and manifest["sites"][3]["name_vi"] == "Ao cá 1"


def test_real_time_mode_streams_its_truth_and_stops_cleanly_on_ctrl_c_with_every_message_acknowledged(
    ruongso_cmd: list[str], broker: Mosquitto, tmp_path: Path
) -> None:
    counter = TelemetryRecorder(broker, "clitest2")
    truth = tmp_path / "truth.jsonl"
    proc = subprocess.Popen(
        [*ruongso_cmd, "sim", "--mqtt-url", broker.url, "--site-prefix", "clitest2", "--interval", "0.1",
         "--faults", "spike,nan,duplicate", "--fault-rate", "0.2", "--truth", str(truth)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: counter.count() >= 10, 20, what="real-time messages")
        # The truth file grows while the run goes on, for live views and crashed runs.
        wait_until(lambda: truth.exists() and len(truth.read_text().splitlines()) >= 3, 20, what="live truth")
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        summary = _summary(out)
        assert out.startswith("sim interrupted")
        counter.drain()
        assert counter.count() == int(summary["messages"])
        # Real time: the timestamps are the wall clock's.
        last = json.loads(counter.payloads[-1])["ts"]
        assert abs(last - time.time() * 1000) < 10_000
        records = [json.loads(line) for line in truth.read_text().splitlines()]
        assert [r["start"] for r in records] == sorted(r["start"] for r in records)
        assert {r["kind"] for r in records} <= {"spike", "nan", "duplicate"}
        reported = dict(kv.split(":") for kv in summary["faults"].split(","))
        assert sum(map(int, reported.values())) == len(records)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        counter.close()


@pytest.mark.parametrize(
    "args, says",
    [
        (["--duration", "5x"], "--duration"),
        (["--profile", "banana"], "unknown profile 'banana'"),
        (["--sites", "0"], "--sites must be at least 1"),
        (["--nodes-per-site", "two"], "--nodes-per-site 'two' is not a whole number"),
        (["--faults", "spike,gremlin"], "unknown fault kind 'gremlin'"),
        (["--fault-rate", "1.5"], "fault rate"),
        (["--speed", "0"], "--speed"),
        (["--start", "yesterday"], "--start"),
        (["--mqtt-url", "http://broker"], "mqtt://"),
        (["--batch", "5000"], "batch"),
        (["--site-prefix", "Bad_Prefix"], "is not a slug"),
        (["--truth", "/nonexistent/dir/truth.jsonl"], "cannot write --truth"),
    ],
)
def test_bad_input_gives_one_line_and_exit_code_2(ruongso_cmd: list[str], args: list[str], says: str) -> None:
    run = subprocess.run([*ruongso_cmd, "sim", *args], capture_output=True, text=True, timeout=30)
    assert run.returncode == 2, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ruongso sim: error:") and says in lines[0], run.stderr


def test_an_unreachable_broker_is_one_line_and_exit_code_1(ruongso_cmd: list[str]) -> None:
    url = f"mqtt://127.0.0.1:{free_port()}"
    run = subprocess.run([*ruongso_cmd, "sim", "--mqtt-url", url, "--duration", "1m"], capture_output=True,
                         text=True, timeout=30)  # fmt: skip
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot reach MQTT broker" in lines[0], run.stderr


def test_the_broker_url_comes_from_the_environment_and_future_timestamps_are_warned_about(
    ruongso_cmd: list[str], broker: Mosquitto
) -> None:
    counter = TelemetryRecorder(broker, "clitest3")
    start = int(time.time() * 1000) + 3_600_000
    try:
        run = subprocess.run(
            [*ruongso_cmd, "sim", "--site-prefix", "clitest3", "--duration", "10m", "--speed", "max",
             "--start", str(start)],
            capture_output=True, text=True, timeout=60, env={**os.environ, "RUONGSO_MQTT_URL": broker.url},
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        assert "warning: timestamps run up to 70 min ahead" in run.stderr
        sent = int(_summary(run.stdout)["messages"])
        assert sent == 20
        counter.drain()
        assert counter.count() == sent
        assert min(json.loads(p)["ts"] for p in counter.payloads) >= start
    finally:
        counter.close()


def test_a_broker_crash_mid_run_is_survived_and_every_message_still_acknowledged(
    ruongso_cmd: list[str], own_broker: Mosquitto
) -> None:
    counter = TelemetryRecorder(own_broker, "clitest4")
    proc = subprocess.Popen(
        [*ruongso_cmd, "sim", "--mqtt-url", own_broker.url, "--site-prefix", "clitest4", "--interval", "0.05",
         "--duration", "4"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_until(lambda: counter.count() >= 5, 20, what="the first messages")
        own_broker.kill()
        own_broker.start()
        out, err = proc.communicate(timeout=60)
        # Exit 0 means every publish got its PUBACK, those queued while the broker was down included.
        assert proc.returncode == 0, err
        assert "sim reconnecting" in err
        summary = _summary(out)
        assert summary["reading_sets"] == summary["messages"] == str(2 * 80)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        counter.close()


def test_with_status_every_node_leaves_a_retained_offline_status_when_the_run_ends(
    ruongso_cmd: list[str], broker: Mosquitto
) -> None:
    run = subprocess.run(
        [*ruongso_cmd, "sim", "--mqtt-url", broker.url, "--site-prefix", "clitest5", "--sites", "3",
         "--duration", "30m", "--speed", "max", "--status"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    summary = _summary(run.stdout)
    assert summary["statuses"] == str(2 * 6) and summary["messages"] == str(6 * 30)
    retained: dict[str, str] = {}
    target = parse_mqtt_url(broker.url)
    client = make_client(target, client_id="sim-test-status")

    def on_message(c: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.payload:  # an empty payload is a deleted retained message
            retained[msg.topic] = json.loads(msg.payload)["state"]

    client.on_message = on_message
    connect_and_wait(client, target)
    client.subscribe(topics.node_filter(topics.NodeTopicKind.STATUS), qos=1)
    try:
        wait_until(lambda: len([t for t in retained if "/clitest5-" in t]) >= 6, 10, what="retained statuses")
        mine = {t: s for t, s in retained.items() if "/clitest5-" in t}
        assert len(mine) == 6 and set(mine.values()) == {"offline"}
    finally:
        # An empty retained message deletes the retained one: leave the shared broker as we found it.
        for topic in [t for t in list(retained) if "/clitest5-" in t]:
            client.publish(topic, b"", qos=1, retain=True).wait_for_publish(5)
        client.disconnect()
        client.loop_stop()
