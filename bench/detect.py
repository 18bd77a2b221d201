"""Analytics against the simulators' fault ground truth, and its speed (issue 5).

    .venv/bin/python bench/detect.py [--days 30] [--interval 300] [--sites 7] [--nodes-per-site 3]

1. Detection: a simulated district (every production type, `--nodes-per-site` nodes each) with value
   faults and dropouts injected (simulators.farm.Farm, ground truth in farm.truth) runs through the
   analytics engine exactly as the live service runs it (contract decode → Engine.process, node
   silence ticked on stream time). A fault counts as found when the technician alert of its kind
   (`<quantity>.spike|stuck|drift|implausible`, `node.offline`) fires for its node between its start
   and `GRACE` after its end. Printed per kind: recall, detection delay median and p95. A stuck fault
   whose true signal did not move (light 0 at night, no rain), or whose flat run (with the equal clean
   readings next to it) is shorter than §11's six readings or no longer than the longest flat run the
   same node's clean series of that quantity has by itself over the run, or a spike no larger than
   the clean signal's own steps, is not observable: recall is printed over all faults and over the
   observable.
2. False alerts: the same district without faults; every technician alert is false. Printed per
   node-week (target ≤ 1); farmer alerts are farm conditions, printed for information.
3. Speed: `analytics score` rows/s (target ≥ 50 000) next to a CSV copy without a detector measured
   in the same run; live engine messages/s over the farm's messages (decode + every check and rule),
   and the same for 5-quantity messages (target ≥ 5 000/s on one core).
4. Latency (`--only latency`): a private Mosquitto and InfluxDB, `ruongso analytics run` as a child
   process, telemetry published at `--rate` messages/s; every 50th message is an out-of-range value
   of a node, whose technician alert fires at once: publish → alert event received, p50/p99
   (target p99 ≤ 1 s at 1 000 messages/s).
Figures are noisy on a shared 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import statistics
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics.engine import Engine
from analytics.faults import NORMAL_FLAT, STUCK_MIN
from analytics.score import score_stream
from analytics.sites import SiteConfig, SiteDirectory
from contract.quantities import QUANTITIES
from contract.topics import NodeTopic
from contract.wire import Reading, WireError, decode_telemetry, encode_reading
from simulators.farm import Farm
from simulators.faults import SCALE as FAULT_SCALE

START = 1_764_460_800_000  # 2025-11-30 07:00 ICT
KINDS = ("spike", "stuck", "drift", "ds18b20_85", "nan", "out_of_range", "dropout")
RULE_OF = {"spike": "spike", "stuck": "stuck", "drift": "drift", "ds18b20_85": "implausible", "nan": "implausible",
           "out_of_range": "implausible"}
GRACE_MS = {"spike": 3_600_000, "stuck": 3_600_000, "drift": 6 * 3_600_000, "dropout": 3_600_000}
WEEK_MS = 7 * 86_400_000


def _farm(args: argparse.Namespace, faults: tuple[str, ...]) -> Farm:
    return Farm(sites=args.sites, nodes_per_site=args.nodes_per_site, start_ms=args.start,
                duration_s=args.days * 86400, interval_s=args.interval, seed=args.seed, faults=faults,
                fault_rate=args.fault_rate if faults else 0.0)


def site_directory(farm: Farm) -> SiteDirectory:
    d = SiteDirectory()
    for s in farm.manifest()["sites"]:
        d.configured[s["site"]] = SiteConfig(s["site"], s["profile"], None, s["lat"], s["lon"])
    return d


def run_engine(farm: Farm) -> tuple[dict[tuple[str, str, str], list[list[int]]], list, int, float]:
    """Firing intervals per (site, node, rule), all events, messages, seconds."""
    engine = Engine(site_directory(farm))
    intervals: dict[tuple[str, str, str], list[list[int]]] = defaultdict(list)
    events = []
    n = 0
    next_tick = farm.config.start_ms
    t = time.perf_counter()
    for topic, payload, meta in farm.messages():
        now = meta.at_ms
        if now >= next_tick:
            out = engine.tick(now)
            next_tick = now + 60_000
        else:
            out = None
        try:
            nt = NodeTopic.parse(topic)
            decoded = decode_telemetry(payload, nt.node, now_ms=now)
        except (WireError, ValueError):
            continue
        n += 1
        outs = [engine.process(nt.site, decoded, now)] + ([out] if out else [])
        for o in outs:
            for e in o.events:
                events.append(e)
                key = (e.site, e.node or "-", e.rule)
                if e.state == "firing":
                    if not intervals[key] or intervals[key][-1][1] >= 0:
                        intervals[key].append([e.ts, -1])
                elif e.state == "resolved" and intervals[key] and intervals[key][-1][1] < 0:
                    intervals[key][-1][1] = e.ts
    return intervals, events, n, time.perf_counter() - t


def _values(farm: Farm) -> dict[tuple[str, int], dict[str, float]]:
    """Every decodable reading of the farm's stream: (node, ts) → values."""
    out = {}
    for _topic, payload, meta in farm.messages():
        try:
            d = decode_telemetry(payload, meta.node, now_ms=meta.at_ms)
        except WireError:
            continue
        for r in d.readings:
            out[(meta.node, r.ts)] = r.m
    return out


def _natural_runs(clean: dict[tuple[str, int], dict[str, float]]) -> dict[tuple[str, str], int]:
    """Longest flat run of each (node, quantity) of the clean run, away from the normal flats."""
    series: dict[str, list[tuple[int, dict[str, float]]]] = defaultdict(list)
    for (node, ts), m in clean.items():
        series[node].append((ts, m))
    longest: dict[tuple[str, str], int] = defaultdict(int)
    for node, readings in series.items():
        readings.sort(key=lambda r: r[0])
        prev: dict[str, float] = {}
        run: dict[str, int] = {}
        for _ts, m in readings:
            for q, v in m.items():
                run[q] = run.get(q, 0) + 1 if prev.get(q) == v else 1
                prev[q] = v
                if v not in NORMAL_FLAT.get(q, ()):
                    longest[(node, q)] = max(longest[(node, q)], run[q])
    return longest


def _observable(rec, clean: dict[tuple[str, int], dict[str, float]], interval_ms: int,
                natural: dict[tuple[str, str], int], sent: dict[tuple[str, int], dict[str, float]]) -> bool:
    if rec.kind == "spike":
        # A spike no larger than the clean signal's own step to and from its neighbours cannot be told
        # from the signal (light under passing clouds): observable when 3× larger than those steps.
        def at(ts: int) -> float | None:
            m = clean.get((rec.node, ts))
            return None if m is None else m.get(rec.quantity)

        c, before, after = at(rec.start), at(rec.start - interval_ms), at(rec.start + interval_ms)
        if c is None or before is None or after is None or rec.value is None:
            return True
        return abs(rec.value - c) >= 3 * max(abs(c - before), abs(after - c))
    if rec.kind == "drift":
        # The simulator keeps a drifting value inside the plausible range, so a drift towards a bound the
        # signal already sits near (wind drifting below a calm 1 m/s, CO2 below 100 ppm) is pinned there:
        # observable as a drift when the sent value left the true one by a quarter of a typical excursion
        # and was not pinned flat for half the fault (a flat line is what a stuck probe looks like).
        worst, flat, longest, last, n, ts = 0.0, 0, 0, math.nan, 0, rec.start
        while ts <= rec.end:
            c, v = clean.get((rec.node, ts), {}).get(rec.quantity), sent.get((rec.node, ts), {}).get(rec.quantity)
            if c is not None and v is not None and math.isfinite(v):
                n += 1
                worst = max(worst, abs(v - c))
                flat = flat + 1 if v == last else 1
                longest = max(longest, flat)
                last = v
            ts += interval_ms
        return worst >= 0.25 * FAULT_SCALE[rec.quantity] and longest < max(STUCK_MIN, n / 2)
    if rec.kind != "stuck":
        return True
    seen = set()
    ts = rec.start
    while ts <= rec.end:
        m = clean.get((rec.node, ts))
        if m is not None and rec.quantity in m:
            seen.add(m[rec.quantity])
        ts += interval_ms
    if rec.value in NORMAL_FLAT.get(rec.quantity, ()):
        # Stuck at a value the quantity rests at (light 0 at night): observable only if the true signal
        # moved materially meanwhile, not by a lux of moonlight.
        q = QUANTITIES[rec.quantity]
        return bool(seen) and max(seen) - min(seen) > 0.01 * (q.plausible_max - q.plausible_min)
    # The flat run the detector sees: the fault's readings and the clean readings next to them that
    # happen to equal the frozen value. Shorter than §11's six, or no longer than a run the node's clean
    # signal makes by itself ("flatline longer than the quantity's normal variability allows"): not stuck.
    run = (rec.end - rec.start) // interval_ms + 1
    for step in (-interval_ms, interval_ms):
        ts = (rec.start if step < 0 else rec.end) + step
        while (m := clean.get((rec.node, ts))) is not None and m.get(rec.quantity) == rec.value:
            run += 1
            ts += step
    return len(seen) > 1 and run >= STUCK_MIN and run > natural.get((rec.node, rec.quantity), 0)


def detection(args: argparse.Namespace) -> None:
    farm = _farm(args, KINDS)
    intervals, events, n, secs = run_engine(farm)
    clean = _values(_farm(args, ()))
    sent = _values(_farm(args, KINDS))
    natural = _natural_runs(clean)
    interval_ms = round(args.interval * 1000)
    found: dict[str, list[int | None]] = defaultdict(list)
    observable: dict[str, list[int | None]] = defaultdict(list)
    alerted_as_other: dict[str, int] = defaultdict(int)
    for rec in farm.truth:
        if rec.kind not in KINDS:
            continue
        rule = "node.offline" if rec.kind == "dropout" else f"{rec.quantity}.{RULE_OF[rec.kind]}"
        grace = GRACE_MS.get(rec.kind, 600_000)
        delay = None
        for start, end in intervals.get((rec.site, rec.node, rule), []):
            if start <= rec.end + grace and (end < 0 or end >= rec.start):
                delay = max(0, start - rec.start)
                break
        found[rec.kind].append(delay)
        seen = _observable(rec, clean, interval_ms, natural, sent)
        # Missed under its own kind, but did the technician hear of this probe at all (a drift flattened
        # against a bound is a flat line, and is alerted as stuck)?
        other = None
        if delay is None and rec.quantity is not None:
            other = next((r.rsplit(".", 1)[1] for (site, node, r), spans in intervals.items()
                          if site == rec.site and node == rec.node and r.startswith(rec.quantity + ".")
                          and r.rsplit(".", 1)[1] in ("stuck", "spike", "drift", "implausible")
                          and any(a <= rec.end + grace and (b < 0 or b >= rec.start) for a, b in spans)), None)
        if other is not None:
            alerted_as_other[rec.kind] += 1
        if delay is None and args.verbose:
            print(f"  missed {rec.kind} {rec.node} {rec.quantity} value={rec.value} "
                  f"n={(rec.end - rec.start) // interval_ms + 1}{'' if seen else ' (not observable)'}"
                  f"{f' (alerted as {other})' if other else ''}")
        if seen:
            observable[rec.kind].append(delay)
    print(f"detection: {args.sites} sites × {args.nodes_per_site} nodes, {args.days} days at {args.interval:g} s, "
          f"{n} messages through the engine in {secs:.1f} s ({n / secs:,.0f} msg/s)")
    print(f"{'kind':<14}{'faults':>7}{'recall':>8}{'observable':>11}{'recall obs':>11}{'delay p50':>11}{'p95':>9}")
    for kind in KINDS:
        d = found.get(kind, [])
        o = observable.get(kind, [])
        if not d:
            print(f"{kind:<14}{0:>7}")
            continue
        hits = sorted(x for x in d if x is not None)
        rec_all = len(hits) / len(d)
        rec_obs = sum(x is not None for x in o) / len(o) if o else math.nan
        p50 = statistics.median(hits) / 60000 if hits else math.nan
        p95 = hits[min(len(hits) - 1, int(0.95 * len(hits)))] / 60000 if hits else math.nan
        print(f"{kind:<14}{len(d):>7}{rec_all:>8.3f}{len(o):>11}{rec_obs:>11.3f}{p50:>9.1f}mn{p95:>7.1f}mn")
    if alerted_as_other:
        print("missed under their own kind but alerted as another fault of the same probe: "
              + ", ".join(f"{k} {v}" for k, v in alerted_as_other.items()))
    nodes = args.sites * args.nodes_per_site
    tech = [e for e in events if e.state == "firing" and e.audience == "technician"]
    print(f"technician alerts on the faulty run: {len({e.id for e in tech})} for {nodes} nodes")
    do_crashes(farm, events)


def do_crashes(farm: Farm, events: list) -> None:
    """Pond oxygen-crash nights of the simulation (farm events, not faults): warned, and how early?"""
    crashes = [e for e in farm.events if e[0] == "do_crash"]
    if not crashes:
        print("pond DO crashes: none in this period (they need water > 26 °C: try --start in summer)")
        return
    warned, leads = 0, []
    for _kind, site, node, start, end in crashes:
        mine = [e for e in events if e.site == site and e.node == node and e.state == "firing"
                and start <= e.ts <= end]
        fc = [e.ts for e in mine if e.rule.startswith("pond_do_forecast")]
        low = [e.ts for e in mine if e.rule.startswith("dissolved_oxygen.") and e.audience == "farmer"]
        if fc or low:
            warned += 1
        if fc and low:
            leads.append((min(low) - min(fc)) / 3_600_000)
    lead = f", forecast {statistics.median(leads):.1f} h (median) before the low-oxygen alert" if leads else ""
    print(f"pond DO crashes: {warned}/{len(crashes)} nights with a farmer alert{lead}")


def false_alerts(args: argparse.Namespace) -> None:
    farm = _farm(args, ())
    _intervals, events, n, secs = run_engine(farm)
    nodes = args.sites * args.nodes_per_site
    weeks = args.days / 7
    firing = {e.id: e for e in events if e.state in ("firing", "silenced")}
    # Sensor faults and node silence/link loss are false on clean data; battery and signal thresholds
    # (kind node, from the profile) are conditions the simulated node really has.
    tech = [e for e in firing.values() if e.kind == "sensor" or e.rule in ("node.offline", "node.link_loss")]
    health = [e for e in firing.values() if e.kind == "node" and e not in tech]
    farmer = [e for e in firing.values() if e.audience == "farmer"]
    by_rule: dict[str, int] = defaultdict(int)
    for e in tech:
        by_rule[e.rule if args.verbose else e.rule.split(".")[-1]] += 1
    print(f"clean run: {n} messages in {secs:.1f} s; false technician alerts {len(tech)} = "
          f"{len(tech) / nodes / weeks:.3f} per node-week (target ≤ 1) {dict(by_rule)}")
    rules: dict[str, int] = defaultdict(int)
    for e in farmer:
        rules[e.rule] += 1
    print(f"battery/signal threshold alerts (simulated node conditions): {len(health)}")
    print(f"farmer alerts (farm conditions of the simulated weather, not faults): {len(farmer)} {dict(rules)}")


def score_speed(rows: int) -> None:
    rnd = random.Random(1)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(("timestamp", "value"))
    t0 = 1_700_000_000
    for i in range(rows):
        w.writerow((t0 + 300 * i, f"{20 + 5 * math.sin(i / 288 * 2 * math.pi) + rnd.gauss(0, 0.3):.3f}"))
    text = buf.getvalue()
    t = time.perf_counter()
    out = io.StringIO()
    for _row in csv.reader(io.StringIO(text)):
        csv.writer(out).writerow(_row)
    base = time.perf_counter() - t
    t = time.perf_counter()
    score_stream(io.StringIO(text), io.StringIO())
    secs = time.perf_counter() - t
    print(f"score: {rows / secs:,.0f} rows/s (target 50 000: ×{rows / secs / 50000:.1f}); "
          f"CSV copy alone {rows / base:,.0f} rows/s, so the detector costs {1e6 * (secs - base) / rows:.1f} µs/row")


def live_speed(messages: int) -> None:
    engine = Engine()
    rnd = random.Random(2)
    msgs = []
    t0 = START
    for i in range(messages):
        node = f"n{i % 200:03d}"
        m = {"air_temp": round(25 + rnd.gauss(0, 0.3), 2), "air_humidity": round(80 + rnd.gauss(0, 1), 1),
             "water_temp": round(28 + rnd.gauss(0, 0.2), 2), "dissolved_oxygen": round(6 + rnd.gauss(0, 0.1), 2),
             "water_ph": round(7.5 + rnd.gauss(0, 0.05), 2)}
        ts = t0 + (i // 200) * 60_000
        msgs.append((node, encode_reading(Reading(node, "b", i // 200, ts, m)), ts))
    t = time.perf_counter()
    for node, payload, ts in msgs:
        engine.process("bench-pond-1", decode_telemetry(payload, node, now_ms=ts), ts)
    secs = time.perf_counter() - t
    print(f"live: {messages / secs:,.0f} messages/s of 5 quantities on one core, fish_pond rules "
          f"(target 5 000: ×{messages / secs / 5000:.1f})")
    farm = Farm(sites=7, nodes_per_site=3, start_ms=START, duration_s=2 * 86400, interval_s=60, seed=3)
    msgs2 = [(NodeTopic.parse(t), p, m.at_ms) for t, p, m in farm.messages()]
    qs = sum(len(s["nodes"][0]["quantities"]) for s in farm.manifest()["sites"]) / len(farm.manifest()["sites"])
    engine = Engine(site_directory(farm))
    t = time.perf_counter()
    for nt, payload, now in msgs2:
        engine.process(nt.site, decode_telemetry(payload, nt.node, now_ms=now), now)
    secs = time.perf_counter() - t
    print(f"live: {len(msgs2) / secs:,.0f} messages/s of the simulated district (every profile, {qs:.1f} quantities "
          f"a message, battery and RSSI, 2 days at 60 s: warm state) on one core")


def latency(rate: float, seconds: float) -> None:
    import os
    import subprocess
    import tempfile
    import threading

    from contract import topics
    from contract.alerts import decode_alert
    from ruongso.local_services import Influxd, Mosquitto
    from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url

    site = "lat-pond-1"
    with tempfile.TemporaryDirectory() as tmp, Mosquitto(Path(tmp) / "mq") as mq, Influxd(Path(tmp) / "db") as db:
        env = {**os.environ, "RUONGSO_MQTT_URL": mq.url, "RUONGSO_INFLUX_URL": db.url, "RUONGSO_INFLUX_DB": "lat"}
        svc = subprocess.Popen([sys.executable, "-m", "ruongso", "analytics", "run", "--state-file",
                                str(Path(tmp) / "s.json")], env=env, stderr=subprocess.PIPE, text=True)
        try:
            lines: list[str] = []
            threading.Thread(target=lambda: lines.extend(iter(svc.stderr.readline, "")), daemon=True).start()  # type: ignore[union-attr]
            deadline = time.monotonic() + 30
            while not any(" subscribed " in x for x in lines) and time.monotonic() < deadline:
                time.sleep(0.05)
            target = parse_mqtt_url(mq.url)
            got: dict[str, float] = {}
            sub = make_client(target, "lat-watch")
            sub.on_message = lambda c, u, m: got.setdefault(decode_alert(m.payload).node or "", time.time())
            sub.on_connect = lambda c, *a: c.subscribe(str(topics.alerts(site)), qos=1)
            connect_and_wait(sub, target)
            pub = make_client(target, "lat-pub")
            pub.max_inflight_messages_set(1000)
            connect_and_wait(pub, target)
            time.sleep(1.0)
            sent: dict[str, float] = {}
            n = int(rate * seconds)
            t0 = time.time()
            for i in range(n):
                node = f"n{i % 500:03d}"
                bad = i % 50 == 49
                if bad:
                    node = f"bad{i:05d}"
                k = i // 500  # each node's own values move from one message to the next
                m = {"dissolved_oxygen": 45.0 if bad else 6.0 + (k % 7) / 100, "water_temp": 28.0 + (k % 5) / 10}
                payload = encode_reading(Reading(node, "b", i, int(time.time() * 1000), m))
                if bad:
                    sent[node] = time.time()
                info = pub.publish(str(topics.telemetry(site, node)), payload, qos=1)
                ahead = t0 + (i + 1) / rate - time.time()
                if ahead > 0:
                    time.sleep(ahead)
            info.wait_for_publish(10)
            deadline = time.monotonic() + 30
            while not set(sent) <= set(got) and time.monotonic() < deadline:
                time.sleep(0.05)
            got = dict(got)
            lat = sorted(got[k] - sent[k] for k in sent if k in got)
            worst = sorted(((got[k] - sent[k], sent[k] - t0) for k in sent if k in got), reverse=True)[:5]
            print("latency: worst (latency s, sent at s): " + ", ".join(f"({a:.2f}, {b:.1f})" for a, b in worst))
            missing = sorted(set(sent) - set(got))
            if missing:
                print(f"latency: no alert for {', '.join(missing[:5])}; service log: "
                      + " | ".join(x.strip() for x in lines if any(m in x for m in missing[:5]))[:600])
            if not lat:
                print("latency: no alert event received")
                return
            p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
            print(f"latency at {n / (time.time() - t0):,.0f} msg/s over {seconds:g} s: {len(lat)}/{len(sent)} alerts "
                  f"within 30 s, p50 {1000 * statistics.median(lat):.0f} ms, p99 {1000 * p99:.0f} ms, "
                  f"max {1000 * lat[-1]:.0f} ms (target p99 ≤ 1000 ms)")
            pub.disconnect()
            sub.disconnect()
        finally:
            svc.terminate()
            svc.wait(20)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--start", type=lambda s: int(datetime.fromisoformat(s + "T00:00:00+07:00").timestamp() * 1000),
                   default=START, help="first day, YYYY-MM-DD (default 2025-11-30, from 07:00 ICT)")
    p.add_argument("--interval", type=float, default=300.0)
    p.add_argument("--sites", type=int, default=7)
    p.add_argument("--nodes-per-site", type=int, default=3)
    p.add_argument("--fault-rate", type=float, default=0.002)
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--score-rows", type=int, default=200_000)
    p.add_argument("--live-messages", type=int, default=40_000)
    p.add_argument("--only", choices=("detection", "false", "speed", "latency"), default=None)
    p.add_argument("--rate", type=float, default=1000.0, help="messages/s for the latency run")
    p.add_argument("--latency-seconds", type=float, default=20.0)
    p.add_argument("--verbose", action="store_true", help="list the faults that were not found")
    args = p.parse_args()
    if args.only in (None, "speed"):
        score_speed(args.score_rows)
        live_speed(args.live_messages)
    if args.only in (None, "detection"):
        detection(args)
    if args.only in (None, "false"):
        false_alerts(args)
    if args.only in (None, "latency"):
        latency(args.rate, args.latency_seconds)


if __name__ == "__main__":
    main()
