"""Delivery policy, in process, against a real local webhook receiver: order, retries, quiet hours,
rate limit, escalation, idempotency. Time is a settable clock where the policy reads the clock."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contract.wire import WireError
from notify.channels import CHANNELS
from notify.channels.webhook import WebhookChannel
from notify.dispatcher import Dispatcher, Policy
from notify.outbox import Outbox
from notify.routing_yaml import RoutingError, YamlDirectory
from tests.waiting import wait_until

from .conftest import ACK_SECRET, HttpServer, alert
from .fakes import WebhookReceiver

# 23:00 on 30/11 in Vietnam (16:00 UTC): inside the default quiet hours 21:00-06:00.
NIGHT = datetime(2025, 11, 30, 16, 0, tzinfo=UTC).timestamp()
MORNING = datetime(2025, 11, 30, 23, 30, tzinfo=UTC).timestamp()  # 06:30 on 1/12 local
NOON = datetime(2025, 12, 1, 5, 0, tzinfo=UTC).timestamp()


def routing(*contacts: dict[str, Any]) -> dict[str, Any]:
    return {"sites": {"hk-pond-1": {"name": "Ao 2"}}, "contacts": list(contacts)}


LAN = {"id": "lan", "name": "Lan", "role": "farmer", "sites": ["hk-pond-1"], "channels": {"webhook": ""}}
HUNG = {"id": "hung", "name": "Hùng", "role": "farmer", "sites": ["hk-pond-1"], "channels": {"webhook": ""}}
TUAN = {"id": "tuan", "name": "Tuấn", "role": "technician", "sites": ["hk-pond-1"], "channels": {"webhook": ""}}
MAI = {"id": "mai", "name": "Mai", "role": "officer", "language": "en", "sites": ["*"], "min_severity": "critical",
       "channels": {"webhook": ""}}  # fmt: skip


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def rx(http_server: HttpServer) -> WebhookReceiver:
    receiver = WebhookReceiver()
    http_server.respond = receiver.respond
    return receiver


@pytest.fixture
def make(tmp_path: Path, http_server: HttpServer, rx: WebhookReceiver) -> Iterator[Any]:
    made: list[Outbox] = []

    def _make(doc: dict[str, Any], clock: Any = None, **policy: Any) -> Dispatcher:
        outbox = Outbox(tmp_path / f"outbox{len(made)}.db")
        made.append(outbox)
        directory = YamlDirectory(doc, tuple(CHANNELS))
        channels = {"webhook": WebhookChannel(http_server.url, rx.secret, timeout=5)}
        pol = Policy(ack_secret=ACK_SECRET, public_url="https://rs.example.vn", **policy)
        return Dispatcher(directory, outbox, channels, pol, clock=clock or Clock(NOON))

    yield _make
    for o in made:
        o.close()


def statuses(d: Dispatcher) -> dict[str, tuple[str, str | None]]:
    return {r["alert_id"] + "/" + r["recipient"]: (r["status"], r["hold_reason"]) for r in d.outbox.status()}


def test_the_same_event_twice_is_one_message_each(make: Any, rx: WebhookReceiver) -> None:
    d = make(routing(LAN, HUNG))
    assert d.accept(alert().encode()) == 2
    assert d.accept(alert().encode()) == 0  # redelivered by the broker after a crash: nothing new
    d.deliver_once("webhook")
    assert sorted(m["recipient"] for m in rx.received) == ["hung", "lan"]
    assert all(m["text"].startswith("NGUY HIỂM Ao 2: Oxy hòa tan thấp 1,8 mg/L") for m in rx.received)
    assert all(m["ack_url"].startswith("https://rs.example.vn/a/") for m in rx.received)


def test_routing_follows_site_audience_severity_and_language(make: Any, rx: WebhookReceiver) -> None:
    d = make(routing(LAN, TUAN, {**MAI, "audiences": ["farmer", "officer"]}))
    d.accept(alert(id="w1", severity="warning").encode())
    d.accept(alert(id="c1").encode())
    d.accept(alert(id="t1", audience="technician", kind="node", rule="node.offline").encode())
    d.accept(alert(id="x1", site="other-site").encode())
    d.deliver_once("webhook")
    got = {(m["alert_id"], m["recipient"]): m for m in rx.received}
    # Mai hears criticals of every site ("*"), the one of a site nobody else watches too.
    assert set(got) == {("w1", "lan"), ("c1", "lan"), ("c1", "mai"), ("t1", "tuan"), ("x1", "mai")}
    assert got[("c1", "mai")]["text"].startswith("CRITICAL Ao 2: Dissolved oxygen low")


def test_quiet_hours_hold_warnings_but_never_criticals(make: Any, rx: WebhookReceiver) -> None:
    clock = Clock(NIGHT)
    d = make(routing(LAN), clock)
    d.accept(alert(id="w1", severity="warning", rule="dissolved_oxygen.warn_low", threshold=3.0).encode())
    d.accept(alert(id="c1").encode())
    d.accept(alert(id="w2", severity="warning", rule="water_temp.warn_high", quantity="water_temp", value=34.0,
                   threshold=33.0, unit="°C").encode())  # fmt: skip
    d.deliver_once("webhook")
    assert [m["alert_id"] for m in rx.received] == ["c1"]
    assert statuses(d)["w1/lan"] == ("pending", "quiet_hours")
    clock.t = MORNING
    d.deliver_once("webhook")
    assert [m["alert_id"] for m in rx.received] == ["c1", "w1", "w2"]  # warnings keep their order


def test_a_recipient_gets_at_most_the_rate_limit_of_warnings(make: Any, rx: WebhookReceiver) -> None:
    clock = Clock(NOON)
    d = make(routing(LAN), clock, rate_limit=2, rate_window_s=3600)
    for i in range(4):
        d.accept(alert(id=f"w{i}", severity="warning").encode())
    d.accept(alert(id="c9").encode())
    d.deliver_once("webhook")
    assert [m["alert_id"] for m in rx.received] == ["w0", "w1", "c9"]
    assert statuses(d)["w2/lan"] == ("pending", "rate_limit")
    clock.t += 3601
    d.deliver_once("webhook")
    assert [m["alert_id"] for m in rx.received][3:] == ["w2", "w3"]


def test_a_channel_down_for_a_while_delivers_everything_after_recovery_in_order(
    make: Any, rx: WebhookReceiver, http_server: HttpServer
) -> None:
    # Time scaled down: the policy's retry base and cap are 20 ms and 200 ms instead of 5 s and 10 min.
    d = make(routing(LAN, HUNG), time.time, retry_base_s=0.02, retry_max_s=0.2, quiet_hours=None, tick_s=0.02,
             rate_limit=0)
    rx.fail_status = 503
    order = []
    for i in range(6):
        sev = "critical" if i % 2 else "warning"
        d.accept(alert(id=f"a{i}", severity=sev).encode())
        order.append(f"a{i}")
    d.accept(alert(id="a0", severity="warning", state="resolved", ts=alert().ts + 60_000).encode())
    order.append("a0")
    stop = threading.Event()
    runner = threading.Thread(target=d.run, args=(stop,))
    runner.start()
    try:
        wait_until(lambda: len(http_server.requests) >= 10, timeout=10, what="several refused attempts")
        assert rx.received == []
        rx.fail_status = None
        wait_until(lambda: len(rx.keys) == 14, timeout=15, what="all 14 messages after recovery")
    finally:
        stop.set()
        runner.join(10)
    for who in ("lan", "hung"):
        mine = [m for m in rx.received if m["recipient"] == who]
        assert [m["alert_id"] for m in mine] == order  # firing before resolved, arrival order kept
        assert [m["state"] for m in mine][-1] == "resolved"
    assert len(rx.received) == 14  # each once
    retried = [r for r in d.outbox.status() if r["attempts"] > 1]
    assert retried, "the outage must have caused retries"


def test_an_unacknowledged_critical_climbs_to_the_technician_then_the_officer(make: Any, rx: WebhookReceiver) -> None:
    clock = Clock(NOON)
    d = make(routing(LAN, TUAN, MAI), clock, escalate_after_s=900)
    d.accept(alert(id="c1").encode())
    d.accept(alert(id="c2").encode())
    d.accept(alert(id="c2", state="acknowledged").encode())  # someone acted on c2
    d.accept(alert(id="w1", severity="warning").encode())  # warnings never escalate
    clock.t += 899
    assert d.escalate_once() == 0
    clock.t += 2
    assert d.escalate_once() == 1
    clock.t += 901
    assert d.escalate_once() == 1
    clock.t += 10_000
    assert d.escalate_once() == 0  # nobody above the officer
    d.deliver_once("webhook")
    esc = sorted((m["alert_id"], m["recipient"], m["state"]) for m in rx.received if "escalated" in m["state"])
    assert esc == [("c1", "mai", "escalated-2"), ("c1", "tuan", "escalated-1")]
    tuan = next(m for m in rx.received if m["recipient"] == "tuan")
    assert tuan["text"].startswith("CHƯA XỬ LÝ Ao 2: NGUY HIỂM Oxy hòa tan thấp từ 04:20 30/11,")
    assert "chưa ai xác nhận sau 15 phút" in tuan["text"]


def test_a_resolved_alert_stops_escalation(make: Any, rx: WebhookReceiver) -> None:
    clock = Clock(NOON)
    d = make(routing(LAN, TUAN), clock, escalate_after_s=60)
    d.accept(alert(id="c1").encode())
    d.accept(alert(id="c1", state="resolved").encode())
    clock.t += 120
    assert d.escalate_once() == 0


def test_bad_events_are_refused_with_a_reason(make: Any) -> None:
    d = make(routing(LAN))
    with pytest.raises(WireError):
        d.accept(b"{not json")
    with pytest.raises(WireError):
        d.accept(alert().encode(), topic="farm/another-site/alerts")
    assert d.outbox.status() == []


@pytest.mark.parametrize(
    ("contact", "words"),
    [
        ({**LAN, "channels": {"pigeon": "x"}}, "unknown channel(s) pigeon"),
        ({**LAN, "role": "boss"}, "role 'boss'"),
        ({**LAN, "sites": []}, "sites must be a non-empty list"),
        ({**LAN, "id": "has space"}, "id 'has space'"),
    ],
)
def test_a_wrong_routing_file_says_what_is_wrong(contact: dict[str, Any], words: str) -> None:
    with pytest.raises(RoutingError, match=None) as err:
        YamlDirectory(routing(contact), tuple(CHANNELS))
    assert words in str(err.value)
