"""Alerts: current state per alert from analytics' `alert` events, history, acknowledgements and silences
(stored in the registry and published, retained, on farm/{site}/alerts/control)."""

from __future__ import annotations

import json
import queue
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from fastapi.testclient import TestClient

from registry.alert_actions import is_silenced
from registry.db import open_registry
from ruongso.influx import InfluxClient
from ruongso.local_services import Mosquitto
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from tests.api.conftest import MINUTE_MS, NOW_MS, Seeded
from tests.waiting import wait_until


def alert_line(site: str, node: str, alert_id: str, state: str, ts: int, severity: str = "critical",
               kind: str = "agronomic", audience: str = "farmer") -> str:
    return (
        f"alert,site={site},node={node},rule=dissolved_oxygen.crit_low,kind={kind},audience={audience},"
        f'severity={severity},state={state} id="{alert_id}",quantity="dissolved_oxygen",unit="mg/L",'
        f'text_vi="Oxy hòa tan thấp",text_en="Dissolved oxygen low",value=1.8,threshold=2.0,started={ts}i {ts}'
    )


def seed_alerts(influx: InfluxClient) -> None:
    t0 = NOW_MS - 30 * MINUTE_MS
    influx.write([
        alert_line("farm-b", "n01", "a-open", "firing", t0),
        alert_line("farm-b", "n01", "a-done", "firing", t0 + MINUTE_MS),
        alert_line("farm-b", "n01", "a-done", "resolved", t0 + 5 * MINUTE_MS),
        alert_line("farm-a", "-", "a-site", "firing", t0 + 2 * MINUTE_MS, severity="warning", kind="node",
                   audience="technician"),
    ])


def test_alerts_list_the_latest_state_of_each_open_alert(client: TestClient, seeded: Seeded,
                                                         influx: InfluxClient) -> None:
    seed_alerts(influx)

    r = client.get("/alerts", headers=seeded.auth("officer"))

    assert r.status_code == 200, r.text
    by_id = {a["id"]: a for a in r.json()}
    assert set(by_id) == {"a-open", "a-site"}
    a = by_id["a-open"]
    assert (a["site"], a["node"], a["severity"], a["state"], a["value"], a["unit"]) == (
        "farm-b", "n01", "critical", "firing", 1.8, "mg/L")
    assert a["text"] == {"vi": "Oxy hòa tan thấp", "en": "Dissolved oxygen low"}
    assert by_id["a-site"]["node"] is None
    resolved = client.get("/alerts", headers=seeded.auth("officer"), params={"status": "resolved"}).json()
    assert [x["id"] for x in resolved] == ["a-done"]


def test_alert_filters_and_farmer_scope(client: TestClient, seeded: Seeded, influx: InfluxClient) -> None:
    seed_alerts(influx)
    warn = client.get("/alerts", headers=seeded.auth("admin"), params={"severity": "warning"}).json()
    assert [x["id"] for x in warn] == ["a-site"]
    mine = client.get("/alerts", headers=seeded.auth("farmer_b"), params={"status": "all"}).json()
    assert {x["id"] for x in mine} == {"a-open", "a-done"}
    history = client.get("/alerts/history", headers=seeded.auth("farmer_b")).json()
    assert [(x["id"], x["state"]) for x in history] == [("a-done", "resolved"), ("a-done", "firing"),
                                                        ("a-open", "firing")]
    bad = client.get("/alerts", headers=seeded.auth("admin"), params={"severity": "apocalyptic"})
    assert bad.status_code == 422


@pytest.fixture
def control_messages(broker: Mosquitto) -> Iterator[Callable[[str], queue.Queue[dict[str, Any]]]]:
    """Subscribe to a site's alert-control topic; every subscriber is closed after the test."""
    clients: list[mqtt.Client] = []

    def subscribe(site: str) -> queue.Queue[dict[str, Any]]:
        got: queue.Queue[dict[str, Any]] = queue.Queue()
        target = parse_mqtt_url(broker.url)
        sub = make_client(target)
        sub.on_message = lambda c, u, m: got.put(json.loads(m.payload))
        connect_and_wait(sub, target)
        sub.subscribe(f"farm/{site}/alerts/control", qos=1)
        clients.append(sub)
        return got

    yield subscribe
    for sub in clients:
        sub.disconnect()
        sub.loop_stop()


def test_ack_is_stored_overlaid_and_published_retained(
    client: TestClient, seeded: Seeded, influx: InfluxClient,
    control_messages: Callable[[str], queue.Queue[dict[str, Any]]],
) -> None:
    seed_alerts(influx)

    r = client.post("/sites/farm-b/alerts/a-open/ack", headers=seeded.auth("farmer_b"), json={"note": "đã bật quạt"})

    assert r.status_code == 200, r.text
    assert r.json()["published"] is True and r.json()["by"] == "ba-tu"
    a = next(x for x in client.get("/alerts", headers=seeded.auth("officer")).json() if x["id"] == "a-open")
    assert a["acknowledged"]["by"] == "ba-tu" and a["acknowledged"]["note"] == "đã bật quạt"
    # Retained: a subscriber arriving after the ack still gets the site's current set.
    got = control_messages("farm-b")
    msg = wait_until(lambda: got.get(timeout=5), 10, what="retained alert-control message")
    assert msg["v"] == 1 and msg["site"] == "farm-b"
    assert [(k["id"], k["by"]) for k in msg["acks"]] == [("a-open", "ba-tu")]


def test_ack_of_an_unknown_alert_is_404_and_of_another_farmers_site_403(client: TestClient, seeded: Seeded,
                                                                       influx: InfluxClient) -> None:
    seed_alerts(influx)
    assert client.post("/sites/farm-b/alerts/a-nope/ack", headers=seeded.auth("admin"), json={}).status_code == 404
    assert client.post("/sites/farm-b/alerts/a-open/ack", headers=seeded.auth("farmer_a"), json={}).status_code == 403


def test_silence_a_node_for_a_maintenance_window(
    client: TestClient, seeded: Seeded, influx: InfluxClient,
    control_messages: Callable[[str], queue.Queue[dict[str, Any]]],
) -> None:
    seed_alerts(influx)
    got = control_messages("farm-b")

    r = client.post("/sites/farm-b/silences", headers=seeded.auth("technician"),
                    json={"node": "n01", "duration": "2h", "reason": "thay cảm biến DO"})

    assert r.status_code == 201, r.text
    silence = r.json()
    assert silence["end"] - silence["start"] == 2 * 3600 * 1000 and silence["published"] is True
    msg = wait_until(lambda: _next_with_silence(got), 10, what="control message with the silence")
    assert msg is not None
    assert msg["silences"][0]["node"] == "n01" and msg["silences"][0]["reason"] == "thay cảm biến DO"
    a = next(x for x in client.get("/alerts", headers=seeded.auth("officer")).json() if x["id"] == "a-open")
    assert a["silenced"] is True
    conn = open_registry(seeded.registry_url)
    assert is_silenced(conn, "farm-b", "n01") and not is_silenced(conn, "farm-b", "n02")
    # Cancelling ends it now.
    d = client.delete(f"/sites/farm-b/silences/{silence['id']}", headers=seeded.auth("technician"))
    assert d.status_code == 200 and d.json()["cancelled"] is not None
    assert not is_silenced(conn, "farm-b", "n01")
    assert client.get("/sites/farm-b/silences", headers=seeded.auth("farmer_b")).json() == []


def _next_with_silence(got: queue.Queue[dict[str, Any]]) -> dict[str, Any] | None:
    try:
        msg = got.get(timeout=0.2)
    except queue.Empty:
        return None
    return msg if msg["silences"] else None


def test_silences_are_for_staff_and_need_end_or_duration(client: TestClient, seeded: Seeded) -> None:
    assert client.post("/sites/farm-b/silences", headers=seeded.auth("farmer_b"),
                       json={"duration": "1h"}).status_code == 403
    assert client.post("/sites/farm-b/silences", headers=seeded.auth("admin"), json={}).status_code == 422
    assert client.post("/sites/farm-b/silences", headers=seeded.auth("admin"),
                       json={"duration": "90d"}).status_code == 422
    assert client.post("/sites/farm-b/silences", headers=seeded.auth("admin"),
                       json={"node": "n77", "duration": "1h"}).status_code == 404
