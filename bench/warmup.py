"""How long a restarted analytics takes to replay its stored readings (analytics/warmup.py).

    .venv/bin/python bench/warmup.py [--hours 48] [--sites 7] [--nodes-per-site 3] [--repeats 3]

A simulated district's last `--hours` of readings (simulators.farm.Farm, as ingest would store them)
are written into a private InfluxDB; then `analytics.warmup.replay` feeds them through a fresh engine,
query included. Printed: readings replayed per second, next to the live engine's rate on the same
readings decoded from the wire in the same run (the replay's baseline: it cannot be faster than the
engine itself).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.engine import Engine
from analytics.warmup import replay
from bench.detect import site_directory
from contract.topics import NodeTopic
from contract.wire import Decoded, WireError, decode_telemetry, to_line
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd
from simulators.farm import Farm


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=48.0)
    p.add_argument("--sites", type=int, default=7)
    p.add_argument("--nodes-per-site", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    now = int(time.time() * 1000)
    farm = Farm(sites=args.sites, nodes_per_site=args.nodes_per_site, start_ms=now - int(args.hours * 3_600_000),
                duration_s=args.hours * 3600, interval_s=300.0, seed=5)
    directory = site_directory(farm)
    decoded: list[tuple[str, Decoded, int]] = []
    for topic, payload, meta in farm.messages():
        try:
            t = NodeTopic.parse(topic)
            decoded.append((t.site, decode_telemetry(payload, t.node, now_ms=meta.at_ms), meta.at_ms))
        except (WireError, ValueError):
            continue
    lines = [to_line(site, r) for site, d, _ in decoded for r in d.readings]
    with tempfile.TemporaryDirectory() as tmp:
        influxd = Influxd(Path(tmp))
        influxd.start()
        try:
            client = InfluxClient(influxd.url, "warmup")
            client.create_database()
            for i in range(0, len(lines), 5000):
                client.write(lines[i:i + 5000])
            for _ in range(args.repeats):
                engine = Engine(directory)
                started = time.perf_counter()
                for site, d, at in decoded:
                    engine.process(site, d, at)
                live = len(lines) / (time.perf_counter() - started)
                engine = Engine(directory)
                started = time.perf_counter()
                last, n = replay(engine, client, args.hours, lambda _: True, now)
                secs = time.perf_counter() - started
                print(f"replay: {n:,} readings of {len(last)} nodes in {secs:.2f} s, {n / secs:,.0f} readings/s; "
                      f"the engine alone on the same readings {live:,.0f}/s (replay ×{n / secs / live:.2f})")
        finally:
            influxd.stop()


if __name__ == "__main__":
    main()
