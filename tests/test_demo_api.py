"""`ruongso demo` also serves the API: a user asks the running farm with the printed token."""

from __future__ import annotations

import contextlib
import json
import re
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from contract import topics
from contract.alerts import AlertEvent, decode_alert
from contract.wire import WireError, decode_telemetry
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from tests.test_demo import _children_of_run
from tests.waiting import wait_until


class Output:
    """The demo's stdout, read line by line in the background so the pipe never fills."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert proc.stdout is not None
        self._thread = threading.Thread(target=self._read, args=(proc.stdout,), daemon=True)
        self._thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)

    def find(self, pattern: str) -> re.Match[str] | None:
        return re.search(pattern, self.text(), re.MULTILINE)


class Published:
    """Every reading set on the demo's broker, by (site, node, ts): what the API must answer with."""

    def __init__(self, mqtt_url: str) -> None:
        self.values: dict[tuple[str, str, int], dict[str, float]] = {}
        self.control: dict[str, dict[str, Any]] = {}
        self.alerts: list[AlertEvent] = []
        self.lock = threading.Lock()
        target = parse_mqtt_url(mqtt_url)
        self.client = make_client(target, client_id="test-demo-api")
        self.client.on_message = lambda c, u, msg: self._on(msg.topic, bytes(msg.payload))
        self.client.on_connect = lambda c, u, f, rc, p=None: c.subscribe(
            [(topics.ALL_TELEMETRY, 0), (topics.ALL_ALERTS, 1), (f"{topics.ROOT}/+/alerts/control", 1)])
        connect_and_wait(self.client, target)

    def _on(self, topic: str, payload: bytes) -> None:
        if topic.endswith("/alerts/control"):
            with self.lock:
                self.control[topic] = json.loads(payload)
            return
        if topic.endswith("/alerts"):
            with contextlib.suppress(WireError, ValueError):
                event = decode_alert(payload)
                with self.lock:
                    self.alerts.append(event)
            return
        try:
            t = topics.NodeTopic.parse(topic)
            decoded = decode_telemetry(payload, t.node)
        except (WireError, topics.TopicError):
            return
        with self.lock:
            for r in decoded.readings:
                health = {k: v for k, v in (("battery_v", r.battery_v), ("rssi", r.rssi)) if v is not None}
                self.values[(t.site, t.node, r.ts)] = {**r.m, **health}

    def firing(self) -> list[AlertEvent]:
        with self.lock:
            return [a for a in self.alerts if a.state == "firing"]

    def nodes(self) -> set[tuple[str, str]]:
        with self.lock:
            return {(s, n) for s, n, _ in self.values}

    def at(self, site: str, node: str, ts: int) -> dict[str, float] | None:
        with self.lock:
            return self.values.get((site, node, ts))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.mark.slow
def test_the_demo_api_answers_with_what_the_farm_published_and_only_to_the_printed_token(
    ruongso_cmd: list[str], tmp_path: Path
) -> None:
    data = tmp_path / "demo-data"
    demo = subprocess.Popen(
        # Five simulated hours in a minute, faults injected: analytics raises alerts within seconds.
        [*ruongso_cmd, "demo", "--plain", "--minutes", "1", "--speed", "300", "--faults", "all", "--sites", "2",
         "--nodes-per-site", "2", "--data-dir", str(data)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    out = Output(demo)
    published: Published | None = None
    try:
        wait_until(lambda: out.find(r"^API: ") or demo.poll() is not None, 45, interval=0.2,
                   what="the demo to print its API line")
        assert demo.poll() is None, out.text()
        broker = out.find(r"Broker (mqtt://\S+),")
        url = out.find(r"^API: (http://127\.0\.0\.1:\d+)")
        token = out.find(r"^  (rs_\S+)$")
        curl = out.find(r"curl -s -H 'Authorization: Bearer (rs_\S+)' (http://\S+)/sites/([a-z0-9-]+)/readings/latest")
        assert broker and url and token and curl, out.text()
        assert curl.group(1) == token.group(1) and curl.group(2) == url.group(1)
        api, site = url.group(1), curl.group(3)
        published = Published(broker.group(1))
        auth = {"Authorization": f"Bearer {token.group(1)}"}

        with httpx.Client(base_url=api, timeout=10) as http:
            refused = http.get(f"/sites/{site}/readings/latest")
            assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
            assert http.get("/fleet", headers={"Authorization": "Bearer rs_not-this-runs-token"}).status_code == 401

            def latest_matches_published() -> list[tuple[str, str, float]]:
                body = http.get(f"/sites/{site}/readings/latest", headers=auth).json()
                checked = []
                for n in body["nodes"]:
                    for v in n["values"]:
                        sent = published.at(site, n["node"], v["t"]) if published else None
                        if sent is None:
                            return []  # stored before we subscribed: wait for a newer answer
                        assert v["value"] == sent[v["quantity"]], (n["node"], v, sent)
                        checked.append((n["node"], v["quantity"], v["value"]))
                return checked if len({node for node, _, _ in checked}) == 2 else []

            # The answer may be cached for a few seconds: poll until it holds readings published since we listened.
            checked = wait_until(latest_matches_published, 30, interval=0.5, what="latest readings seen published")
            assert {"battery_v", "rssi"} <= {q for _, q, _ in checked} and len(checked) > 4

            wait_until(lambda: len(published.nodes()) == 4 if published else False, 10, what="all 4 nodes publishing")
            fleet = http.get("/fleet", headers=auth)
            assert fleet.status_code == 200
            rows = {(r["site"], r["node"]): r for r in fleet.json()}
            assert set(rows) == published.nodes()
            now_ms = time.time() * 1000
            for r in rows.values():
                # Registered by the demo (not only known from InfluxDB), heard within the run's simulated hours.
                assert r["registry_state"] == "active" and r["sensors"] and r["interval_s"], r
                assert r["last_seen"] is not None and now_ms - 5 * 3600_000 <= r["last_seen"] <= now_ms, r
            sites = http.get("/sites", headers=auth).json()
            assert {s["slug"] for s in sites} == {s for s, _ in published.nodes()}
            # An alert raised from an injected fault, as analytics published it, is in the API's list.
            fired = wait_until(lambda: published.firing() if published else [], 30, what="an alert from a fault")[0]

            def listed() -> dict[str, Any] | None:
                answer = http.get("/alerts", headers=auth, params={"status": "all", "site": fired.site}).json()
                return next((a for a in answer if a["id"] == fired.id), None)

            row = wait_until(listed, 15, interval=0.5, what=f"alert {fired.id} in GET /alerts")
            assert row is not None
            assert (row["site"], row["node"], row["rule"], row["severity"]) == (
                fired.site, fired.node, fired.rule, fired.severity)
            assert row["ts"] >= fired.ts and row["state"] in ("firing", "resolved"), row

            # A maintenance window set through the API reaches analytics' topic on the demo's broker.
            silence = http.post(f"/sites/{site}/silences", headers=auth,
                                json={"node": None, "duration": "1h", "reason": "demo test"})
            assert silence.status_code in (200, 201), silence.text
            control = wait_until(lambda: published.control.get(f"farm/{site}/alerts/control") if published else None,
                                 10, what="the site's alert-control message")
            assert control is not None
            assert control["site"] == site and control["silences"], control
    finally:
        if published is not None:
            published.close()
        demo.send_signal(signal.SIGTERM)  # as a service manager stops it
        demo.wait(60)
    assert demo.returncode == 0, out.text()
    assert "Stopped." in out.text()
    assert _children_of_run(data) == []
    assert list(data.iterdir()) == []
