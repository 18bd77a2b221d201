"""A restarted analytics' replay of its stored readings (analytics/warmup.py): how fast, how faithful.

    .venv/bin/python bench/warmup.py [--hours 48] [--after-hours 24] [--sites 7] [--nodes-per-site 3]
                                     [--repeats 3] [--seed 5]

A simulated district with faults (simulators.farm.Farm, as bench/detect.py injects them) runs for
`--hours` + `--after-hours`. The first `--hours` of readings are written into a private InfluxDB, as
ingest would store them.
1. Speed: `analytics.warmup.replay` feeds them through a fresh engine, query included; printed next to
   the engine alone on the same readings decoded from the wire in the same run (its baseline: the
   replay cannot be faster than the engine).
2. Fidelity: the alert events of the `--after-hours` that follow, from three engines: one that ran
   without a break (the reference), one restarted at the break with the replay, one restarted without
   it. Both restarted engines get the reference's firing alerts at the break, as the state file would
   give them. Printed: how many of the reference's events each restarted engine also raised, and how
   many it raised that the reference did not.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.engine import Engine
from analytics.lifecycle import Lifecycle
from analytics.sites import SiteDirectory
from analytics.warmup import replay
from bench.detect import KINDS, site_directory
from contract.topics import NodeTopic
from contract.wire import Decoded, WireError, decode_telemetry, to_line
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd
from simulators.farm import Farm

Message = tuple[str, Decoded, int]
EventKey = tuple[str, str, str, str]  # node, rule, state, minute


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hours", type=float, default=48.0)
    p.add_argument("--after-hours", type=float, default=24.0)
    p.add_argument("--sites", type=int, default=7)
    p.add_argument("--nodes-per-site", type=int, default=3)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--seed", type=int, default=5)
    args = p.parse_args()
    now = int(time.time() * 1000)
    start = now - int(args.hours * 3_600_000)
    farm = Farm(sites=args.sites, nodes_per_site=args.nodes_per_site, start_ms=start,
                duration_s=(args.hours + args.after_hours) * 3600, interval_s=300.0, seed=args.seed,
                faults=KINDS, fault_rate=0.002)
    directory = site_directory(farm)
    before: list[Message] = []
    after: list[Message] = []
    for topic, payload, meta in farm.messages():
        try:
            t = NodeTopic.parse(topic)
            d = decode_telemetry(payload, t.node, now_ms=meta.at_ms)
        except (WireError, ValueError):
            continue
        (before if meta.at_ms <= now else after).append((t.site, d, meta.at_ms))
    lines = [to_line(site, r) for site, d, _ in before for r in d.readings]
    with tempfile.TemporaryDirectory() as tmp:
        influxd = Influxd(Path(tmp))
        influxd.start()
        try:
            client = InfluxClient(influxd.url, "warmup")
            client.create_database()
            for i in range(0, len(lines), 5000):
                client.write(lines[i:i + 5000])
            for _ in range(args.repeats):
                _speed(directory, client, before, args.hours, now)
            _fidelity(directory, client, before, after, args.hours, now)
        finally:
            influxd.stop()


def _speed(directory: SiteDirectory, client: InfluxClient, before: list[Message], hours: float, now: int) -> None:
    engine = Engine(directory)
    started = time.perf_counter()
    for site, d, at in before:
        engine.process(site, d, at)
    live = sum(len(d.readings) for _, d, _ in before) / (time.perf_counter() - started)
    engine = Engine(directory)
    started = time.perf_counter()
    _, n = replay(engine, client, hours, lambda _: True, now)
    secs = time.perf_counter() - started
    print(f"replay: {n:,} readings of {len(engine.nodes)} nodes in {secs:.2f} s, {n / secs:,.0f} readings/s; "
          f"the engine alone on the same readings {live:,.0f}/s (replay ×{n / secs / live:.2f})")


def _fidelity(directory: SiteDirectory, client: InfluxClient, before: list[Message], after: list[Message],
              hours: float, now: int) -> None:
    reference = Engine(directory)
    for site, d, at in before:
        reference.process(site, d, at)
    state = reference.lifecycle.snapshot()
    expected = _events(reference, after)
    for name, warm in (("replayed", True), ("cold", False)):
        engine = Engine(directory, Lifecycle())
        engine.lifecycle.restore(state)
        if warm:
            replay(engine, client, hours, lambda _: True, now)
        got = _events(engine, after)
        print(f"fidelity, {name} restart: {len(expected & got)} of the {len(expected)} alert events of the "
              f"uninterrupted engine in the next {len(after) and (after[-1][2] - now) / 3_600_000:.0f} h, "
              f"{len(got - expected)} it did not raise")


def _events(engine: Engine, messages: list[Message]) -> set[EventKey]:
    out: set[EventKey] = set()
    for site, d, at in messages:
        for e in engine.process(site, d, at).events:
            out.add((e.node or "-", e.rule, e.state, str(e.ts // 60_000)))
    return out


if __name__ == "__main__":
    main()
