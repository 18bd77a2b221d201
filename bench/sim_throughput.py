"""Simulator throughput against its ceiling, measured in one run on this machine.

    .venv/bin/python bench/sim_throughput.py [--nodes 100] [--hours 6]

1. generation alone: `Farm.messages()` (models + faults + JSON encoding), messages/s;
2. baseline: the same pre-built payloads published at QoS 1 through the publisher's MQTT link to a
   private Mosquitto, waiting for every PUBACK (the publishing ceiling of Python + paho here);
3. `simulators.publisher.publish_farm` flat out (what `ruongso sim --speed max` does), messages/s,
   and its ratio to the baseline.
Figures are noisy on a shared 2-core machine; the ratios are what count.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ruongso.local_services import Mosquitto
from ruongso.mqtt import parse_mqtt_url
from simulators.farm import Farm, FarmConfig
from simulators.publisher import _Link, publish_farm

START = 1_751_302_800_000


def _config(nodes: int, hours: float) -> FarmConfig:
    return FarmConfig(
        start_ms=START, duration_s=hours * 3600, sites=max(1, nodes // 10), nodes_per_site=min(nodes, 10),
        seed=1, faults=("spike", "stuck", "drift", "nan", "duplicate"), fault_rate=0.01,
    )  # fmt: skip


def _bare_publish(url: str, messages: list[tuple[str, bytes]]) -> float:
    """Pre-built payloads through the publisher's own MQTT link: publishing without generating."""
    link = _Link(parse_mqtt_url(url))
    link.connect()
    t0 = time.perf_counter()
    for i, (topic, payload) in enumerate(messages):
        link.publish(topic, payload)
        if i % 64 == 0:
            link.pump()
    assert link.wait_acked(len(messages), 60)
    dt = time.perf_counter() - t0
    link.close()
    return dt


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--nodes", type=int, default=100)
    ap.add_argument("--hours", type=float, default=6.0)
    args = ap.parse_args()
    cfg = _config(args.nodes, args.hours)

    t0 = time.perf_counter()
    messages = [(m.topic, m.payload) for m in Farm(cfg).messages()]
    gen = len(messages) / (time.perf_counter() - t0)
    print(f"generation: {len(messages)} messages, {gen:,.0f} msg/s")

    with tempfile.TemporaryDirectory() as tmp, Mosquitto(Path(tmp)) as broker:
        bare = len(messages) / _bare_publish(broker.url, messages)
        print(f"baseline, pre-built payloads through the same MQTT link (QoS 1, all PUBACKs): {bare:,.0f} msg/s")
        result = publish_farm(Farm(cfg), parse_mqtt_url(broker.url), speed=math.inf)
        assert result.acked == result.messages == len(messages)
        sim = result.messages / result.seconds
        print(f"publish_farm flat out (generate + publish + PUBACKs): {sim:,.0f} msg/s")
        print(f"ratio sim/baseline: {sim / bare:.2f}; generation/baseline: {gen / bare:.2f}")


if __name__ == "__main__":
    main()
