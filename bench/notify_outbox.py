"""What the notify outbox costs, measured in one run on this machine (issue 6).

    .venv/bin/python bench/notify_outbox.py [--events 300] [--recipients 3]

1. baseline: the same rows inserted into a bare SQLite table in one transaction, synchronous=FULL;
2. `Dispatcher.accept`: decode, route (YAML), render vi templates, sign ack tokens, one transaction
   per event (what makes an event durable before the broker hears our PUBACK);
3. `deliver_once` to a local webhook receiver: per message two committed status changes around one
   signed HTTP POST (record-before-send / ack-after-send), against
4. baseline: the same signed POSTs without the outbox.
Figures are noisy on a shared 2-core machine; the ratios are what count. Alert volume in a pilot is
tens of events a day per site, so the question is only whether the outbox is ever the bottleneck.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import sqlite3
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from contract.alerts import AlertEvent
from notify.channels import CHANNELS
from notify.channels.webhook import WebhookChannel
from notify.dispatcher import Dispatcher, Policy
from notify.outbox import Outbox
from notify.routing_yaml import YamlDirectory

SECRET = "bench-secret-0123456789abcdef"


class _Quiet(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _event(i: int) -> AlertEvent:
    return AlertEvent(
        id=f"b-{i}", site="bench-site", node="n1", rule="dissolved_oxygen.crit_low", kind="agronomic",
        audience="farmer", severity="critical", state="firing", started=1764451200000 + i, ts=1764451200000 + i,
        quantity="dissolved_oxygen", value=1.8, threshold=2.0, unit="mg/L",
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=300)
    ap.add_argument("--recipients", type=int, default=3)
    args = ap.parse_args()
    n_msgs = args.events * args.recipients

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    events = [_event(i).encode() for i in range(args.events)]

    with tempfile.TemporaryDirectory() as tmp:
        base = sqlite3.connect(Path(tmp) / "base.db", isolation_level=None)
        base.execute("PRAGMA journal_mode = WAL")
        base.execute("PRAGMA synchronous = FULL")
        base.execute("CREATE TABLE t (k TEXT UNIQUE, v TEXT)")
        t0 = time.perf_counter()
        for i, e in enumerate(events):
            base.execute("BEGIN")
            for r in range(args.recipients):
                base.execute("INSERT INTO t VALUES (?, ?)", (f"{i}|{r}", e.decode()))
            base.execute("COMMIT")
        t_base = time.perf_counter() - t0

        contacts = [{"id": f"p{r}", "name": f"p{r}", "role": "farmer", "sites": ["*"], "channels": {"webhook": ""}}
                    for r in range(args.recipients)]  # fmt: skip
        directory = YamlDirectory({"contacts": contacts}, tuple(CHANNELS))
        outbox = Outbox(Path(tmp) / "outbox.db")
        d = Dispatcher(directory, outbox, {"webhook": WebhookChannel(url, SECRET)},
                       Policy(ack_secret=SECRET, quiet_hours=None, rate_limit=0))  # fmt: skip
        t0 = time.perf_counter()
        for e in events:
            d.accept(e)
        t_accept = time.perf_counter() - t0

        t0 = time.perf_counter()
        sent = d.deliver_once("webhook")
        t_deliver = time.perf_counter() - t0
        assert sent == n_msgs, sent

        http = httpx.Client()
        body = b'{"x": 1}'
        t0 = time.perf_counter()
        for _ in range(n_msgs):
            ts = str(int(time.time()))
            sig = hmac.new(SECRET.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
            http.post(url, content=body, headers={"X-Ruongso-Signature": sig, "X-Ruongso-Timestamp": ts})
        t_post = time.perf_counter() - t0
        outbox.close()
    server.shutdown()

    print(f"events {args.events} x recipients {args.recipients} = {n_msgs} messages")
    print(f"baseline SQLite insert (1 tx/event, FULL): {args.events / t_base:8.0f} events/s")
    print(f"accept (decode+route+render+sign+1 tx):    {args.events / t_accept:8.0f} events/s"
          f"   ratio {t_accept / t_base:5.1f}x baseline")  # fmt: skip
    print(f"baseline signed POSTs, no outbox:          {n_msgs / t_post:8.0f} messages/s")
    print(f"deliver_once (2 commits + signed POST):    {n_msgs / t_deliver:8.0f} messages/s"
          f"   ratio {t_deliver / t_post:5.1f}x baseline")  # fmt: skip


if __name__ == "__main__":
    main()
