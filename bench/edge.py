"""Edge agent figures against the issue's targets, each with a baseline measured in the same run (issue 4).

    .venv/bin/python bench/edge.py [--seconds 30] [--readings 100000]

1. Footprint: `ruongso edge` as a child process with five simulated sensors at 1 s, publishing to a
   private Mosquitto: resident memory (VmRSS, peak VmHWM) and CPU % of one core over `--seconds`.
   Baseline: a Python process that only imports the agent's modules and sleeps. Targets: ≤ 40 MB, ≤ 2 %.
2. Replay: `--readings` reading sets already in the outbox (a node back after a long outage), drained
   to the broker by the agent, readings/s: `confirm: puback` (broker has them) and `confirm: ack`
   (an in-bench acker plays ingest's part). Baseline: the same batches published by a bare paho client
   with the same in-flight window, no outbox. Target: ≥ 5k readings/s.
Figures are noisy on a shared 2-core machine; the ratios are what count.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and `edge` would import this file.
if sys.path and Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import os
import subprocess
import tempfile
import threading
import time
from typing import Any

import yaml

from contract import topics
from contract.wire import Ack, Reading, decode_telemetry, encode_batch
from edge.agent import Agent
from edge.config import load_node_config
from edge.forwarder import WINDOW
from edge.outbox import Outbox, Pending, body_of
from ruongso.local_services import Mosquitto
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url

SITE, NODE = "bench-site", "bench-node"
QUANTITIES = ["air_temp", "air_humidity", "soil_moisture", "soil_temp", "water_temp"]
CLK_TCK = os.sysconf("SC_CLK_TCK")


def write_config(folder: Path, url: str, sensors: list[dict[str, Any]], confirm: str) -> Path:
    doc = {
        "site": SITE,
        "node": NODE,
        "mqtt": {"url": url, "reconnect_max": "2s"},
        "spool": {"path": str(folder / "spool.sqlite"), "confirm": confirm, "max_bytes": "1GB"},
        "sensors": sensors,
    }
    path = folder / "node.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


def proc_stats(pid: int) -> tuple[float, float, float]:
    """(CPU seconds, RSS MB, peak RSS MB) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / CLK_TCK
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return cpu, int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def measure(cmd: list[str], seconds: float, warmup: float = 5.0) -> tuple[float, float, float]:
    """CPU % of one core after warm-up, RSS MB at the end, peak RSS MB."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(warmup)
        cpu0, _, _ = proc_stats(proc.pid)
        t0 = time.monotonic()
        time.sleep(seconds)
        cpu1, rss, peak = proc_stats(proc.pid)
        return 100 * (cpu1 - cpu0) / (time.monotonic() - t0), rss, peak
    finally:
        proc.terminate()
        proc.wait(10)


def footprint(url: str, seconds: float) -> None:
    sensors = [
        {"name": f"s{i}", "driver": "simulated", "interval": "1s", "quantities": [q]} for i, q in enumerate(QUANTITIES)
    ]
    with tempfile.TemporaryDirectory() as d:
        config = write_config(Path(d), url, sensors, "puback")
        agent = measure([sys.executable, "-m", "ruongso", "edge", "--config", str(config)], seconds)
    base = measure([sys.executable, "-c", "import edge.agent, edge.cli, ruongso.cli, time; time.sleep(3600)"], seconds)
    print(f"footprint over {seconds:.0f} s, 5 simulated sensors at 1 s:")
    print(f"  agent     CPU {agent[0]:5.2f} % of one core   RSS {agent[1]:5.1f} MB (peak {agent[2]:.1f})")
    print(f"  baseline  CPU {base[0]:5.2f} %                RSS {base[1]:5.1f} MB (imports only, sleeping)")
    print(f"  target    CPU ≤ 2 %: {'met' if agent[0] <= 2 else 'MISSED'};  RSS ≤ 40 MB: "
          f"{'met' if agent[1] <= 40 else 'MISSED'}  (agent − baseline: {agent[1] - base[1]:.1f} MB)")  # fmt: skip


def fill(path: Path, n: int) -> None:
    box = Outbox(path, 10**10)
    t0 = int(time.time() * 1000) - n * 1000
    body = body_of({q: 20.0 + i for i, q in enumerate(QUANTITIES)}, 3.9, None)
    for seq in range(n):
        box.add(Pending("replay1", seq, t0 + seq * 1000, "k", 0, body))
        if seq % 10_000 == 9_999:
            box.flush()
    box.flush()
    box.close()


class Acker:
    """Plays ingest's part: acks every batch it sees (the real ingest acks after the InfluxDB write)."""

    def __init__(self, url: str) -> None:
        target = parse_mqtt_url(url)
        self.client = make_client(target, client_id="bench-acker")
        self.client.on_message = self._on_message
        connect_and_wait(self.client, target)
        self.client.subscribe(str(topics.telemetry(SITE, NODE)), qos=1)
        self.ack_topic = str(topics.ack(SITE, NODE))

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        decoded = decode_telemetry(msg.payload, NODE, now_ms=int(time.time() * 1000))
        last = decoded.readings[-1]
        client.publish(self.ack_topic, Ack(last.boot, last.seq, int(time.time() * 1000)).encode(), qos=1, retain=True)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def replay(url: str, n: int, confirm: str) -> float:
    with tempfile.TemporaryDirectory() as d:
        config = write_config(Path(d), url, [{"name": "idle", "driver": "simulated", "interval": "1h"}], confirm)
        cfg = load_node_config(config)
        fill(cfg.spool.path, n)
        acker = Acker(url) if confirm == "ack" else None
        agent = Agent(cfg)
        prefilled = agent.outbox.depth
        t0 = time.monotonic()
        thread = threading.Thread(target=agent.run, daemon=True)
        thread.start()
        while agent.outbox.depth > prefilled - n + 1 and time.monotonic() - t0 < 300:
            time.sleep(0.05)
        seconds = time.monotonic() - t0
        agent.stop()
        thread.join(10)
        if acker:
            acker.close()
        return n / seconds


def bare_paho(url: str, n: int, batch: int = 250) -> float:
    """The same batches published by a bare paho client, WINDOW messages in flight, no outbox."""
    target = parse_mqtt_url(url)
    client = make_client(target, client_id="bench-bare")
    done = threading.Semaphore(WINDOW)
    client.on_publish = lambda *a: done.release()
    connect_and_wait(client, target)
    t0 = int(time.time() * 1000)
    m = {q: 20.0 + i for i, q in enumerate(QUANTITIES)}
    topic = str(topics.telemetry(SITE, "bare"))
    start = time.monotonic()
    for first in range(0, n, batch):
        payload = encode_batch(Reading("bare", "b", s, t0 + s, m, 3.9) for s in range(first, min(n, first + batch)))
        done.acquire()
        client.publish(topic, payload, qos=1)
    for _ in range(WINDOW):
        done.acquire()
    seconds = time.monotonic() - start
    client.disconnect()
    client.loop_stop()
    return n / seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--readings", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        broker = Mosquitto(Path(d))
        broker.start()
        try:
            footprint(broker.url, args.seconds)
            base = bare_paho(broker.url, args.readings)
            puback = replay(broker.url, args.readings, "puback")
            acked = replay(broker.url, args.readings, "ack")
        finally:
            broker.stop()
    print(f"replay of {args.readings} spooled readings to a local broker:")
    print(f"  bare paho (baseline)  {base:8.0f} readings/s")
    print(f"  agent, confirm=puback {puback:8.0f} readings/s  ({puback / base:.2f} × baseline)")
    print(f"  agent, confirm=ack    {acked:8.0f} readings/s  ({acked / base:.2f} × baseline)")
    print(f"  target ≥ 5000/s: {'met' if min(puback, acked) >= 5000 else 'MISSED'}")


if __name__ == "__main__":
    main()
