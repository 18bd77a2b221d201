"""API latency under load (issue 7): latest readings and a 24 h range for a 50-node site, with InfluxDB
holding 30 simulated days, under 50 concurrent clients.

    .venv/bin/python bench/api.py [--nodes 50] [--days 30] [--interval 60] [--clients 50] [--seconds 15]
                                  [--workers 1]

Starts a private InfluxDB, writes the days as line protocol (measurement `reading`, one point per node
per interval: air_temp, air_humidity, soil_moisture, battery_v, rssi), a registry with the site, its
nodes and a token, and `ruongso api serve --workers N` as a child process (uvicorn; each worker has its
own cache). Load comes from a minimal asyncio HTTP/1.1 client (RawHttp). Then, per endpoint:
1. baseline: the same InfluxQL sent straight to InfluxDB by 50 concurrent clients (what the database
   alone costs), and `/healthz` through the API (what the framework alone costs);
2. the endpoint through the API by 50 closed-loop clients (each sends its next request when the last
   answer arrives: the harshest load), and by 50 "dashboard" clients that each refresh about every
   second (0.5-1.5 s, not in step).
Prints p50/p95/p99 and requests/s for each, and the API's p95 as a ratio of the baseline's.
Figures are noisy on a shared 2-core machine; the ratios are what count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from api.queries import readings as rq
from contract.wire import Reading, to_line
from registry import credentials, nodes, sites, tokens
from registry.db import open_registry
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, free_port

SITE = "bench-site"
QUANTITIES = ("air_temp", "air_humidity", "soil_moisture")


def fill_influx(influx: InfluxClient, n_nodes: int, days: float, interval_s: int) -> int:
    """Write `days` of readings for every node, newest ending now; returns points written."""
    end = int(time.time() * 1000)
    steps = int(days * 86_400 / interval_s)
    start = end - steps * interval_s * 1000
    batch: list[str] = []
    written = 0
    for i in range(steps):
        ts = start + i * interval_s * 1000
        for n in range(n_nodes):
            # A slow daily wave plus a node offset: cheap, plausible, never constant.
            wave = ((i % 1440) - 720) / 720
            m = {"air_temp": round(27 + 5 * wave + n * 0.01, 2), "air_humidity": round(80 - 10 * wave, 1),
                 "soil_moisture": round(30 + (i % 97) / 10, 1)}
            batch.append(to_line(SITE, Reading(f"n{n:02d}", "b", i, ts, m, 3.9, -70.0)))
        if len(batch) >= 20_000:
            influx.write(batch)
            written += len(batch)
            batch = []
    if batch:
        influx.write(batch)
        written += len(batch)
    return written


def make_registry(path: Path, n_nodes: int) -> tuple[str, str]:
    url = f"sqlite:///{path}"
    conn = open_registry(url)
    sites.add_site(conn, SITE, "Bench farm", "vegetable_open")
    hashed = credentials.hash_password("unused")
    for n in range(n_nodes):
        nodes.add_node(conn, SITE, f"n{n:02d}", hashed, list(QUANTITIES))
    secret = tokens.create_token(conn, "bench", "officer")[1]
    conn.close()
    return url, secret


def summary(latencies: list[float], seconds: float) -> dict[str, float]:
    ms = sorted(x * 1000 for x in latencies)
    q = statistics.quantiles(ms, n=100) if len(ms) > 1 else [ms[0]] * 99
    return {"n": len(ms), "p50": q[49], "p95": q[94], "p99": q[98], "rps": len(ms) / seconds}


class RawHttp:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams: one connection per simulated client.

    The load generator shares this machine's two cores with the API and InfluxDB; httpx's pool costs
    several times more CPU per request than the API's own cached answer, so it would measure itself.
    """

    def __init__(self, url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def request_bytes(self, target: str, form: dict[str, str] | None) -> bytes:
        if form is None:
            return f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}\r\n".encode()
        body = urlencode(form).encode()
        return (f"POST {target} HTTP/1.1\r\nHost: {self.host}\r\n{self.head}"
                f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n"
                ).encode() + body

    async def send(self, request: bytes) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        self.writer.write(request)
        await self.writer.drain()
        head = (await self.reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
        status = int(head.split(" ", 2)[1])
        if "transfer-encoding: chunked" in head:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        else:
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


async def load(url: str, headers: dict[str, str], clients: int, seconds: float, think_s: float = 0.0,
               params: dict[str, str] | None = None, data: dict[str, str] | None = None) -> dict[str, float]:
    """`clients` concurrent loops for `seconds`; GET (or POST form `data`); latencies of 2xx answers."""
    latencies: list[float] = []
    errors = 0
    last_error = [""]
    parts = urlsplit(url)
    target = parts.path + ("?" + urlencode(params, doseq=True) if params else "")
    deadline = time.perf_counter() + seconds

    async def one() -> None:
        nonlocal errors
        http = RawHttp(url, headers)
        request = http.request_bytes(target, data)
        if think_s:
            # People do not press refresh in step: spread the first request over one think time.
            await asyncio.sleep(random.uniform(0, think_s))
        try:
            while time.perf_counter() < deadline:
                t = time.perf_counter()
                try:
                    status = await asyncio.wait_for(http.send(request), 300)
                except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    errors += 1
                    last_error[0] = repr(exc)
                    http.close()
                    http = RawHttp(url, headers)
                    continue
                if status < 300:
                    latencies.append(time.perf_counter() - t)
                else:
                    errors += 1
                if think_s:
                    await asyncio.sleep(random.uniform(0.5 * think_s, 1.5 * think_s))
        finally:
            http.close()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    if errors:
        print(f"   ({errors} failed requests; last: {last_error[0] or 'non-2xx answer'})")
    return summary(latencies, elapsed) if latencies else {"n": 0, "p50": 0, "p95": 0, "p99": 0, "rps": 0}


def line(name: str, s: dict[str, float]) -> None:
    print(f"  {name:<46} n={s['n']:>6.0f}  p50={s['p50']:7.1f} ms  p95={s['p95']:7.1f} ms  "
          f"p99={s['p99']:7.1f} ms  {s['rps']:7.1f} req/s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nodes", type=int, default=50)
    ap.add_argument("--days", type=float, default=30)
    ap.add_argument("--interval", type=int, default=60, help="seconds between simulated reading sets")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--workers", type=int, default=1, help="API worker processes")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-api-") as tmp:
        work = Path(tmp)
        influxd = Influxd(work / "influxd")
        influxd.start()
        api_proc: subprocess.Popen[bytes] | None = None
        try:
            influx = InfluxClient(influxd.url, "farm", timeout=120)
            influx.create_database()
            t = time.perf_counter()
            points = fill_influx(influx, args.nodes, args.days, args.interval)
            print(f"InfluxDB: {points} points ({args.nodes} nodes × {args.days:g} d every {args.interval} s) "
                  f"written in {time.perf_counter() - t:.1f} s")
            registry_url, secret = make_registry(work / "registry.db", args.nodes)
            env = {**os.environ, "RUONGSO_REGISTRY_URL": registry_url, "RUONGSO_INFLUX_URL": influxd.url,
                   "RUONGSO_INFLUX_DB": "farm", "RUONGSO_LOG_LEVEL": "WARNING"}
            api_proc, base = start_api(work, env, "api.log", args.workers)
            auth = {"Authorization": f"Bearer {secret}"}
            day_ago = int(time.time() * 1000) - 86_400_000
            run = asyncio.run
            c, s = args.clients, args.seconds

            print("\nOne client, one request at a time (the cost of a request on an idle server):")
            latest_url = f"{base}/sites/{SITE}/readings/latest"
            range_url = f"{base}/sites/{SITE}/readings"
            range_params = {"quantity": "air_temp"}
            line("GET latest (answer cached)", run(load(latest_url, auth, 1, 3)))
            line("GET 24 h range (answer cached)", run(load(range_url, auth, 1, 3, params=range_params)))
            cold_proc, cold_base = start_api(work, {**env, "RUONGSO_QUERY_CACHE_S": "0"}, "api-nocache.log")
            try:
                line("GET latest (cache off: InfluxDB every time)", run(load(
                    cold_base + latest_url[len(base):], auth, 1, 3)))
                line("GET 24 h range (cache off: InfluxDB every time)", run(load(
                    cold_base + range_url[len(base):], auth, 1, 3, params=range_params)))
            finally:
                cold_proc.terminate()
                cold_proc.wait(10)

            print(f"\nBaselines ({c} closed-loop clients, {s:g} s each):")
            latest_q = _latest_influxql(args.nodes)
            direct_latest = run(load(f"{influxd.url}/query", {}, c, s, data={"db": "farm", "q": latest_q}))
            line("InfluxDB direct: latest (same InfluxQL)", direct_latest)
            range_q = _range_influxql(day_ago)
            direct_range = run(load(f"{influxd.url}/query", {}, c, s, data={"db": "farm", "q": range_q}))
            line("InfluxDB direct: 24 h range (same InfluxQL)", direct_range)
            line("API /healthz (framework + InfluxDB ping)", run(load(f"{base}/healthz", {}, c, s)))

            print(f"\nAPI, {c} closed-loop clients (no pause between requests):")
            api_latest = run(load(latest_url, auth, c, s))
            line("GET /sites/{site}/readings/latest", api_latest)
            api_range = run(load(range_url, auth, c, s, params=range_params))
            line("GET /sites/{site}/readings?quantity=air_temp (24 h)", api_range)

            print(f"\nAPI, {c} dashboard clients (each refreshes every 0.5-1.5 s):")
            dash_latest = run(load(latest_url, auth, c, s, think_s=1.0))
            line("GET /sites/{site}/readings/latest", dash_latest)
            dash_range = run(load(range_url, auth, c, s, think_s=1.0, params=range_params))
            line("GET /sites/{site}/readings?quantity=air_temp (24 h)", dash_range)

            print("\nRatios (API p95 / InfluxDB-direct p95, closed loop):")
            print(f"  latest: {api_latest['p95'] / max(direct_latest['p95'], 1e-9):.2f}   "
                  f"24 h range: {api_range['p95'] / max(direct_range['p95'], 1e-9):.2f}")
            print(f"Target p95 ≤ 100 ms: closed-loop latest {_verdict(api_latest)}, range {_verdict(api_range)}; "
                  f"dashboard latest {_verdict(dash_latest)}, range {_verdict(dash_range)}")
        finally:
            if api_proc is not None:
                if api_proc.poll() is not None:
                    print("the API exited early: " + (work / "api.log").read_text()[-2000:])
                api_proc.terminate()
                api_proc.wait(10)
            influxd.stop()


def start_api(work: Path, env: dict[str, str], log_name: str, workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """`ruongso api serve` as a child on a free port, once /healthz answers."""
    port = free_port()
    log = open(work / log_name, "wb")  # noqa: SIM115 - the child writes it until the end
    proc = subprocess.Popen([sys.executable, "-m", "ruongso", "api", "serve", "--port", str(port),
                             "--workers", str(workers)],
                            env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz").status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.terminate()
    raise SystemExit("the API did not start: " + (work / log_name).read_text()[-2000:])


def _verdict(s: dict[str, float]) -> str:
    return f"{'met' if s['p95'] <= 100 else 'MISSED'} ({s['p95']:.0f} ms)"


def _latest_influxql(n_nodes: int) -> str:
    """The statements the latest endpoint sends when every node reported in the last hour (air_temp,
    air_humidity, soil_moisture, battery_v, rssi)."""
    from api.queries import influxql as q

    names = [*QUANTITIES, "battery_v", "rssi"]
    where = f"{q.tag_equals('site', SITE)} AND {q.since(rq.RECENT_S)}"
    return ";".join(f'SELECT {q.aggregate("last", n, n)} FROM "reading" WHERE {where} GROUP BY "node"'
                    for n in names)


def _range_influxql(start_ms: int) -> str:
    from api.queries import influxql as q

    end = start_ms + 86_400_000
    sel = ", ".join(q.aggregate(a, "air_temp", f"air_temp__{a}") for a in ("mean", "min", "max"))
    return (f'SELECT {sel} FROM "reading" WHERE {q.tag_in("site", [SITE])} AND {q.time_between(start_ms, end)} '
            f'GROUP BY time(300s), "node" fill(none)')


if __name__ == "__main__":
    main()
