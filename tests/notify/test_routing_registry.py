"""Routing from the real fleet registry, and the one-tap acknowledge path the API will implement:
verify the token, record the ack in the registry, and escalation stops."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from notify.channels.sms import SmsChannel
from notify.dispatcher import Dispatcher, Policy
from notify.outbox import Outbox
from notify.routing_registry import RegistryDirectory
from registry.alert_actions import acknowledge
from registry.contacts import add_contact, link
from registry.db import open_registry
from registry.sites import add_site
from ruongso.ack_tokens import verify

from .conftest import ACK_SECRET, HttpServer, alert


def _registry(tmp_path: Path) -> tuple[str, Any]:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    conn = open_registry(url)
    add_site(conn, "hk-pond-1", "Ao 2 Hưng Kỳ", "fish_pond")
    lan = add_contact(conn, "Nguyễn Thị Lan", "farmer", phone="0912345678", zalo_id="2468458835296117922",
                      channels=["zalo", "sms"])  # fmt: skip
    tuan = add_contact(conn, "Trần Văn Tuấn", "technician", phone="0987654321", email="tuan@example.vn",
                       channels=["sms", "email"], language="en")  # fmt: skip
    hoa = add_contact(conn, "Lê Thị Hoa", "farmer", zalo_id="2468458835296117922", channels=["zalo"])
    link(conn, "hk-pond-1", lan.id, is_owner=True)
    link(conn, "hk-pond-1", tuan.id)
    link(conn, "hk-pond-1", hoa.id)
    return url, conn


def test_the_registry_says_who_hears_what_on_which_channel(tmp_path: Path) -> None:
    url, _conn = _registry(tmp_path)
    d = RegistryDirectory(url)
    farmers = d.recipients("hk-pond-1", "farmer", "warning")
    assert [(r.id, r.language, r.addresses) for r in farmers] == [
        ("contact-1", "vi", {"zalo": "0912345678", "sms": "0912345678"}),  # ZNS by phone, not also the OA chat
        ("contact-3", "vi", {"zalo_oa": "2468458835296117922"}),  # no phone: the OA chat
    ]
    techs = d.recipients("hk-pond-1", "technician", "critical")
    assert [(r.id, r.language, r.addresses) for r in techs] == [
        ("contact-2", "en", {"sms": "0987654321", "email": "tuan@example.vn"})
    ]
    assert d.recipients("no-such-site", "farmer", "critical") == []
    assert d.site_name("hk-pond-1") == "Ao 2 Hưng Kỳ"
    d.close()


def test_a_tapped_ack_link_recorded_in_the_registry_stops_escalation(tmp_path: Path, http_server: HttpServer) -> None:
    url, conn = _registry(tmp_path)
    sms = SmsChannel(http_server.url, json.loads('{"to": "{phone84}", "text": "{text}"}'), {})
    clock = [time.time()]  # the API verifies the token against the real clock
    policy = Policy(ack_secret=ACK_SECRET, quiet_hours=None, escalate_after_s=600)
    d = Dispatcher(RegistryDirectory(url), Outbox(tmp_path / "o.db"), {"sms": sms}, policy, clock=lambda: clock[0])
    d.accept(alert(id="c1").encode())
    d.accept(alert(id="c2").encode())
    d.deliver_once("sms")
    texts = [r.json()["text"] for r in http_server.requests]
    assert len(texts) == 2 and all(t.startswith("NGUY HIEM Ao 2 Hung Ky: Oxy hoa tan thap") for t in texts)

    # What the API's GET /a/{token} does: verify, then acknowledge as the recipient the token names.
    link = next(r["ack_url"] for r in _messages(d) if r["alert_id"] == "c1")
    claim = verify(ACK_SECRET, link.rsplit("/a/", 1)[1])
    assert (claim.alert_id, claim.site, claim.recipient) == ("c1", "hk-pond-1", "contact-1")
    acknowledge(conn, claim.site, claim.alert_id, by=f"ack-link:{claim.recipient}")

    clock[0] += 601
    d.escalate_once()
    d.deliver_once("sms")
    escalated = [r.json() for r in http_server.requests[2:]]
    assert [e["to"] for e in escalated] == ["84987654321"]  # only c2 climbs to the technician
    assert escalated[0]["text"].startswith("NOT HANDLED Ao 2 Hung Ky: CRITICAL Dissolved oxygen low")
    assert d.outbox.alert("c1")["acked_ms"] is not None  # type: ignore[index]


def test_acks_published_by_the_api_on_the_control_topic_stop_escalation(tmp_path: Path) -> None:
    url, _conn = _registry(tmp_path)
    clock = [1_764_460_000.0]
    d = Dispatcher(RegistryDirectory(url), Outbox(tmp_path / "o.db"), {},
                   Policy(ack_secret=ACK_SECRET, escalate_after_s=60), clock=lambda: clock[0])  # fmt: skip
    d.accept(alert(id="c1").encode())
    control = {"v": 1, "site": "hk-pond-1", "ts": 1, "acks": [{"id": "c1", "by": "x", "ts": 1, "note": ""}],
               "silences": []}  # fmt: skip
    assert d.accept_control(json.dumps(control)) == 1
    clock[0] += 120
    assert d.outbox.due_escalations(int(clock[0] * 1000)) == []


def _messages(d: Dispatcher) -> list[dict[str, Any]]:
    import sqlite3

    conn = sqlite3.connect(d.outbox.path)
    try:
        return [json.loads(m) for (m,) in conn.execute("SELECT message FROM deliveries ORDER BY id")]
    finally:
        conn.close()
