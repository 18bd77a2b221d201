"""Ingest throughput against its two ceilings, measured in one run on this machine (issue 3).

    .venv/bin/python bench/ingest.py [--messages 100000] [--nodes 200] [--instances 1]

Every consumer is measured the same way: the messages are first queued at the broker for the
consumer's persistent session (so no load generator runs while we measure), then the consumer is
started and timed until it has everything:
1. broker ceiling: `mosquitto_sub -q 1` draining its queued session;
2. InfluxDB ceiling: pre-built line protocol, batches of 5000, one connection;
3. `ruongso ingest` (acks after write on) draining its session into InfluxDB: messages/s, CPU
   seconds per 10k messages, peak RSS, lost and duplicated points;
plus the per-message cost of the pieces: orjson vs json decode, contract decode, line encoding.
Figures are noisy on a shared 2-core machine; the ratios are what count.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import orjson

from contract import topics
from contract.wire import Reading, decode_telemetry, encode_reading, parse_json, to_line
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto, free_port
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url

SITE = "bench"


def messages(n: int, nodes: int) -> list[tuple[str, bytes]]:
    t0 = int(time.time() * 1000) - n * 10
    out = []
    for i in range(n):
        node = f"n{i % nodes:03d}"
        r = Reading(node, "bench1", i // nodes, t0 + i, {"air_temp": 20 + (i % 97) / 10,
                    "air_humidity": 60 + (i % 31), "soil_moisture": 30.5}, battery_v=3.9, rssi=-71.0)
        out.append((str(topics.telemetry(SITE, node)), encode_reading(r)))
    return out


def publish(url: str, msgs: list[tuple[str, bytes]], workers: int = 4) -> float:
    """QoS 1 publish from `workers` connections; returns seconds."""
    target = parse_mqtt_url(url)

    def run(part: list[tuple[str, bytes]], k: int) -> None:
        c = make_client(target, f"bench-pub-{k}-{os.getpid()}")
        c.max_inflight_messages_set(2000)
        c.max_queued_messages_set(0)
        connect_and_wait(c, target)
        infos = [c.publish(t, p, qos=1) for t, p in part]
        for i in infos:
            i.wait_for_publish(120)
        c.disconnect()
        c.loop_stop()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=run, args=(msgs[k::workers], k)) for k in range(workers)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.perf_counter() - t0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def broker_ceiling(broker: Mosquitto, msgs: list[tuple[str, bytes]]) -> float:
    sub = shutil.which("mosquitto_sub") or "mosquitto_sub"
    base = [sub, "-h", "127.0.0.1", "-p", str(broker.port), "-V", "mqttv311", "-c", "-i", "bench-sub",
            "-q", "1", "-t", topics.ALL_TELEMETRY]
    subprocess.run([*base, "-E"], check=True, timeout=30)  # creates the persistent session
    publish(broker.url, msgs)
    t0 = time.perf_counter()
    subprocess.run([*base, "-C", str(len(msgs))], check=True, stdout=subprocess.DEVNULL, timeout=600)
    return len(msgs) / (time.perf_counter() - t0)


def influx_ceiling(influxd: Influxd, msgs: list[tuple[str, bytes]]) -> float:
    lines = []
    for t, p in msgs:
        d = decode_telemetry(p, topics.NodeTopic.parse(t).node)
        lines.extend(to_line(SITE, r) for r in d.readings)
    with InfluxClient(influxd.url, "ceiling") as c:
        c.create_database()
        bodies = ["\n".join(lines[i:i + 5000]).encode() for i in range(0, len(lines), 5000)]
        t0 = time.perf_counter()
        for b in bodies:
            c.write(b)
        return len(lines) / (time.perf_counter() - t0)


def ingest_cmd(broker: Mosquitto, influxd: Influxd, db: str, state: Path, k: int, group: str,
               port: int) -> list[str]:
    cmd = [sys.executable, "-m", "ruongso", "ingest", "--mqtt-url", broker.url, "--influx-url", influxd.url,
           "--influx-db", db, "--client-id", f"bench-{db}-{k}", "--state-dir", str(state / f"{db}-{k}"),
           "--metrics-port", str(port), "--log-level", "WARNING"]
    return [*cmd, "--share-group", group] if group else cmd


def start(cmd: list[str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, stdout=open(log, "ab"), stderr=subprocess.STDOUT)


def scrape(port: int) -> dict[str, float]:
    """Ingest's own counters from /metrics (cheap; polling InfluxDB would steal its CPU)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return {}
    out = {}
    for line in text.splitlines():
        for name in ("messages_total", "points_written_total", "spool_bytes"):
            if line.startswith(f"ruongso_ingest_{name}{{"):
                out[name] = float(line.rsplit(" ", 1)[1])
    return out


def ingest_run(broker: Mosquitto, influxd: Influxd, msgs: list[tuple[str, bytes]], state: Path,
               instances: int) -> dict[str, float]:
    db = f"ingest{instances}"
    group = "bench" if instances > 1 else ""
    influx = InfluxClient(influxd.url, db)
    influx.create_database()
    ports = [free_port() for _ in range(instances)]
    # First run: creates each persistent session (and its subscription), then stops.
    procs = [start(ingest_cmd(broker, influxd, db, state, k, group, ports[k]), state / f"ingest{k}.log")
             for k in range(instances)]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not all(scrape(p) for p in ports):
        time.sleep(0.2)
    time.sleep(1)  # /metrics is up before the SUBACK; give the subscription a moment
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait(30)
    publish(broker.url, msgs)
    t_spawn = time.perf_counter()
    procs = [start(ingest_cmd(broker, influxd, db, state, k, group, ports[k]), state / f"ingest{k}.log")
             for k in range(instances)]
    n = len(msgs)
    peak = {p.pid: 0.0 for p in procs}
    cpu_first: dict[int, float] = {}
    t_first = None
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        stats = [scrape(p) for p in ports]
        for p in procs:
            peak[p.pid] = max(peak[p.pid], peak_rss_mb(p.pid))
        if t_first is None and any(s.get("messages_total", 0) > 0 for s in stats):
            t_first = time.perf_counter()
            cpu_first = {p.pid: cpu_seconds(p.pid) for p in procs}
        if sum(s.get("points_written_total", 0) for s in stats) >= n:
            break
        time.sleep(0.05)
    t_end = time.perf_counter()
    cpu_end = {p.pid: cpu_seconds(p.pid) for p in procs}
    for p in procs:
        p.send_signal(signal.SIGTERM)
        p.wait(60)
    got = influx.count_points("reading")
    for k in range(instances):  # anything ingest had to warn about during the run
        log = (state / f"ingest{k}.log").read_text().splitlines()
        warnings = [ln for ln in log if " WARNING " in ln or " ERROR " in ln]
        if warnings:
            print(f"  ingest {k}: {len(warnings)} warnings, e.g. {warnings[0][:160]}")
    dups = 0
    for s in influx.query("SELECT sum(duplicates) FROM node_health"):
        dups = int(s.values[0][1] or 0)
    influx.close()
    t_first = t_first or t_spawn
    return {"msgs_per_s": n / (t_end - t_first), "wall_msgs_per_s": n / (t_end - t_spawn),
            "cpu_per_10k": sum(cpu_end.values()) / n * 10_000,
            "steady_cpu_per_10k": sum(cpu_end[k] - cpu_first.get(k, 0) for k in cpu_end) / n * 10_000,
            "peak_rss_mb": max(peak.values()), "lost": n - got, "dup_points": max(0, got - n),
            "redelivered": dups}


def outage_run(broker: Mosquitto, influxd: Influxd, state: Path, seconds: float, rate: int,
               nodes: int) -> dict[str, float]:
    """Live load at `rate` msgs/s; InfluxDB stopped for `seconds` in the middle; everything must arrive."""
    db, port = "outage", free_port()
    lead = 10.0
    msgs = messages(int(rate * (seconds + 2 * lead)), nodes)
    proc = start(ingest_cmd(broker, influxd, db, state, 0, "", port), state / "outage.log")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not scrape(port):
        time.sleep(0.2)
    time.sleep(1)
    target = parse_mqtt_url(broker.url)
    pub = make_client(target, f"bench-outage-{os.getpid()}")
    pub.max_inflight_messages_set(1000)
    pub.max_queued_messages_set(0)
    connect_and_wait(pub, target)
    t0 = time.perf_counter()
    peak_rss = peak_spool = 0.0
    stopped = restarted = False
    infos = []
    for i, (t, p) in enumerate(msgs):
        infos.append(pub.publish(t, p, qos=1))
        if i % 200 == 0:
            elapsed = time.perf_counter() - t0
            if not stopped and elapsed >= lead:
                influxd.stop()
                stopped = True
            if stopped and not restarted and elapsed >= lead + seconds:
                influxd.start()
                restarted = True
            peak_rss = max(peak_rss, peak_rss_mb(proc.pid))
            peak_spool = max(peak_spool, scrape(port).get("spool_bytes", 0))
            ahead = i / rate - elapsed
            if ahead > 0:
                time.sleep(ahead)
    if not restarted:
        influxd.start()
    for info in infos:
        info.wait_for_publish(60)
    pub.disconnect()
    pub.loop_stop()
    t_published = time.perf_counter()
    n = len(msgs)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and scrape(port).get("points_written_total", 0) < n:
        peak_rss = max(peak_rss, peak_rss_mb(proc.pid))
        time.sleep(0.2)
    caught_up = time.perf_counter() - t_published
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    with InfluxClient(influxd.url, db) as c:
        got = c.count_points("reading")
    return {"sent": n, "lost": n - got, "peak_rss_mb": peak_rss, "peak_spool_mb": peak_spool / 2**20,
            "caught_up_s": caught_up}


def micro(msgs: list[tuple[str, bytes]]) -> dict[str, float]:
    sample = [p for _t, p in msgs[:20000]]
    node = [topics.NodeTopic.parse(t).node for t, _p in msgs[:20000]]

    def per_msg(fn: object) -> float:
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        return (time.perf_counter() - t0) / len(sample) * 1e6

    out = {
        "json_loads_us": per_msg(lambda: [json.loads(p) for p in sample]),
        "orjson_loads_us": per_msg(lambda: [orjson.loads(p) for p in sample]),
        "contract_parse_json_us": per_msg(lambda: [parse_json(p) for p in sample]),
    }
    docs = [orjson.loads(p) for p in sample]
    out["decode_telemetry_us"] = per_msg(lambda: [decode_telemetry(d, n) for d, n in zip(docs, node, strict=True)])
    readings = [decode_telemetry(d, n).readings[0] for d, n in zip(docs, node, strict=True)]
    out["to_line_us"] = per_msg(lambda: [to_line(SITE, r) for r in readings])
    out["general_line_encoder_us"] = per_msg(lambda: [general_line(SITE, r) for r in readings])
    return out


def _esc(s: str) -> str:
    return s.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def general_line(site: str, r: Reading) -> str:
    """How a general-purpose client builds a point: every key escaped, every value type-checked."""
    tags = {"site": site, "node": r.node}
    fields: dict[str, object] = dict(r.m)
    if r.battery_v is not None:
        fields["battery_v"] = r.battery_v
    if r.rssi is not None:
        fields["rssi"] = r.rssi
    fields["seq"] = r.seq
    parts = []
    for k, v in sorted(fields.items()):
        if isinstance(v, bool):
            val = "true" if v else "false"
        elif isinstance(v, int):
            val = f"{v}i"
        elif isinstance(v, float):
            val = repr(v)
        else:
            val = '"' + str(v).replace('"', '\\"') + '"'
        parts.append(f"{_esc(k)}={val}")
    tag_s = ",".join(f"{_esc(k)}={_esc(v)}" for k, v in sorted(tags.items()))
    return f"reading,{tag_s} {','.join(parts)} {r.ts}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=100_000)
    ap.add_argument("--nodes", type=int, default=200)
    ap.add_argument("--instances", type=int, nargs="*", default=[1, 2])
    ap.add_argument("--outage", type=float, default=0, help="also: InfluxDB down this many seconds under load")
    ap.add_argument("--outage-rate", type=int, default=2000, help="messages/s during the outage run")
    args = ap.parse_args()
    msgs = messages(args.messages, args.nodes)
    tmp = Path(tempfile.mkdtemp(prefix="ruongso-bench-ingest-"))
    broker = Mosquitto(tmp / "mosquitto", persistence=False)
    influxd = Influxd(tmp / "influxd")
    broker.start()
    influxd.start()
    try:
        m = micro(msgs)
        print(f"per message: json.loads {m['json_loads_us']:.1f} µs, orjson.loads {m['orjson_loads_us']:.1f} µs "
              f"(x{m['json_loads_us'] / m['orjson_loads_us']:.1f}); contract parse_json "
              f"{m['contract_parse_json_us']:.1f} µs; decode_telemetry {m['decode_telemetry_us']:.1f} µs; "
              f"to_line {m['to_line_us']:.1f} µs vs "
              f"general encoder {m['general_line_encoder_us']:.1f} µs")
        ceiling = broker_ceiling(broker, msgs)
        print(f"broker ceiling (mosquitto_sub -q 1, queued session): {ceiling:,.0f} msgs/s")
        influx_max = influx_ceiling(influxd, msgs)
        print(f"InfluxDB ceiling (pre-built lines, batches of 5000, one connection): {influx_max:,.0f} points/s")
        for k in args.instances:
            r = ingest_run(broker, influxd, msgs, tmp, k)
            print(f"ruongso ingest x{k} ({args.messages:,} msgs, {args.nodes} nodes, ack after write): "
                  f"{r['msgs_per_s']:,.0f} msgs/s = {r['msgs_per_s'] / ceiling:.2f} of broker ceiling, "
                  f"{r['msgs_per_s'] / influx_max:.2f} of InfluxDB ceiling ({r['wall_msgs_per_s']:,.0f} msgs/s "
                  f"counting process start); {r['steady_cpu_per_10k']:.2f} CPU-s per 10k while ingesting, "
                  f"{r['cpu_per_10k']:.2f} with start-up (target ≤ 0.5); "
                  f"peak RSS {r['peak_rss_mb']:.0f} MB/process; lost {r['lost']:.0f}, "
                  f"duplicated points {r['dup_points']:.0f} (redeliveries absorbed: {r['redelivered']:.0f})")
        if args.outage:
            o = outage_run(broker, influxd, tmp, args.outage, args.outage_rate, args.nodes)
            print(f"InfluxDB down {args.outage:.0f} s under {args.outage_rate} msgs/s: {o['sent']:,.0f} sent, "
                  f"lost {o['lost']:.0f}; peak spool {o['peak_spool_mb']:.1f} MB, peak RSS {o['peak_rss_mb']:.0f} MB; "
                  f"all written {o['caught_up_s']:.1f} s after the last publish; the load ran on 10 s past the outage")
    finally:
        broker.stop()
        influxd.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
