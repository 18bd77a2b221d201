"""`ruongso notify` as a real process on a real Mosquitto: killed with -9 while messages are in
its outbox, restarted, and every recipient still gets every message exactly once, in order."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.topics import QOS, alerts
from notify.outbox import read_status
from ruongso.local_services import Mosquitto
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from tests.waiting import wait_until

from .conftest import ACK_SECRET, HttpServer, alert
from .fakes import WebhookReceiver

PEOPLE = ("lan", "hung", "thu")


@pytest.fixture
def farm(tmp_path: Path, broker: Mosquitto, http_server: HttpServer) -> Iterator[dict[str, Any]]:
    site = f"kill-{uuid.uuid4().hex[:6]}"
    routing = {
        "sites": {site: {"name": "Ao thử"}},
        "contacts": [{"id": p, "name": p, "role": "farmer", "sites": [site], "channels": {"webhook": ""}}
                     for p in PEOPLE],
    }  # fmt: skip
    (tmp_path / "routing.yaml").write_text(yaml.safe_dump(routing, allow_unicode=True))
    rx = WebhookReceiver()
    http_server.respond = rx.respond
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUONGSO_")}
    env.update({
        "RUONGSO_MQTT_URL": broker.url, "RUONGSO_ACK_SECRET": ACK_SECRET,
        "RUONGSO_NOTIFY_OUTBOX": str(tmp_path / "outbox.db"), "RUONGSO_NOTIFY_ROUTING": str(tmp_path / "routing.yaml"),
        "RUONGSO_NOTIFY_CLIENT_ID": f"notify-{site}", "RUONGSO_WEBHOOK_URL": http_server.url,
        "RUONGSO_WEBHOOK_SECRET": rx.secret, "RUONGSO_NOTIFY_QUIET_HOURS": "", "RUONGSO_NOTIFY_RATE_LIMIT": "0",
        "RUONGSO_NOTIFY_TICK": "0.05s", "RUONGSO_NOTIFY_RETRY_BASE": "0.05s", "RUONGSO_NOTIFY_RETRY_MAX": "0.5s",
    })  # fmt: skip
    target = parse_mqtt_url(broker.url)
    pub = make_client(target, "")
    connect_and_wait(pub, target)
    procs: list[subprocess.Popen[bytes]] = []
    yield {"site": site, "env": env, "rx": rx, "pub": pub, "procs": procs, "log": tmp_path / "notify.log",
           "outbox": str(tmp_path / "outbox.db"), "http": http_server}  # fmt: skip
    for p in procs:
        if p.poll() is None:
            p.kill()
            p.wait(10)
    pub.disconnect()
    pub.loop_stop()


def start(farm: dict[str, Any], cmd: list[str]) -> subprocess.Popen[bytes]:
    log = farm["log"]
    before = log.read_text().count("notify_started") if log.exists() else 0
    with open(log, "ab") as out:
        p = subprocess.Popen([*cmd, "notify"], env=farm["env"], stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    farm["procs"].append(p)
    wait_until(lambda: log.read_text().count("notify_started") > before or p.poll() is not None, timeout=30,
               what="notify to start")  # fmt: skip
    assert p.poll() is None, log.read_text()
    return p


def publish(farm: dict[str, Any], ids: list[str]) -> None:
    for i in ids:
        info = farm["pub"].publish(str(alerts(farm["site"])), alert(id=i, site=farm["site"]).encode(), qos=QOS)
        info.wait_for_publish(10)


def test_kill_9_with_messages_in_the_outbox_then_restart_delivers_each_exactly_once_in_order(
    farm: dict[str, Any], ruongso_cmd: list[str]
) -> None:
    rx: WebhookReceiver = farm["rx"]
    farm["http"].delay_s = 0.1  # a slow far end: the kill lands with messages queued and one in flight
    first = start(farm, ruongso_cmd)
    before = [f"k{i}" for i in range(8)]
    publish(farm, before)
    wait_until(lambda: len(rx.received) >= 5, timeout=20, what="some deliveries before the kill")
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    at_kill = len(rx.keys)
    assert at_kill < 3 * len(before), "the kill must land with messages still in the outbox"
    after = [f"k{i}" for i in range(8, 12)]
    publish(farm, after)  # while notify is dead: the broker keeps them in its persistent session

    second = start(farm, ruongso_cmd)
    wait_until(lambda: len(rx.keys) == 3 * 12, timeout=40, what="every message after the restart")
    order = before + after
    for who in PEOPLE:
        firsts = [k.split("|")[0] for k in rx.keys if k.split("|")[1] == who]
        assert firsts == order, f"{who} got them out of order"
    # At-least-once on the wire: only the one message in flight at the kill may arrive twice, and the
    # receiver folds it by its Idempotency-Key, so each person sees each message exactly once.
    duplicates = len(rx.received) - len(rx.keys)
    in_doubt = farm["log"].read_text().count("resend_in_doubt")
    assert duplicates <= in_doubt <= 1, f"{duplicates} duplicates, {in_doubt} sent again after the restart"
    # The receiver records a request before it answers: the last one may still be `sending` for a moment.
    wait_until(lambda: {r["status"] for r in read_status(farm["outbox"])} == {"sent"}, timeout=10, what="all sent")
    assert len(read_status(farm["outbox"])) == 36

    second.send_signal(signal.SIGTERM)
    assert second.wait(20) == 0
    assert "notify_stopped" in farm["log"].read_text()


def test_a_channel_answering_503_for_a_while_delivers_everything_after_it_recovers_in_order(
    farm: dict[str, Any], ruongso_cmd: list[str]
) -> None:
    rx: WebhookReceiver = farm["rx"]
    rx.fail_status = 503  # the outage; retry times scaled down by the env of the fixture (50 ms … 0.5 s)
    start(farm, ruongso_cmd)
    ids = [f"o{i}" for i in range(6)]
    publish(farm, ids)
    wait_until(lambda: len(farm["http"].requests) >= 12, timeout=20, what="a dozen refused attempts")
    assert rx.received == []
    rx.fail_status = None
    wait_until(lambda: len(rx.keys) == 3 * len(ids), timeout=30, what="everything after the recovery")
    for who in PEOPLE:
        assert [k.split("|")[0] for k in rx.keys if k.split("|")[1] == who] == ids
    assert len(rx.received) == len(rx.keys)  # no process died: not even the in-doubt duplicate


def test_quiet_hours_hold_a_warning_while_a_critical_goes_out(farm: dict[str, Any], ruongso_cmd: list[str]) -> None:
    from datetime import datetime, timedelta

    from notify.templates import LOCAL_TZ

    now = datetime.now(LOCAL_TZ)
    farm["env"]["RUONGSO_NOTIFY_QUIET_HOURS"] = (
        f"{(now - timedelta(hours=1)):%H:%M}-{(now + timedelta(hours=1)):%H:%M}"  # now is quiet, wherever the clock is
    )
    start(farm, ruongso_cmd)
    for payload in (alert(id="w1", site=farm["site"], severity="warning").encode(),
                    alert(id="c1", site=farm["site"]).encode()):  # fmt: skip
        farm["pub"].publish(str(alerts(farm["site"])), payload, qos=QOS).wait_for_publish(10)
    wait_until(lambda: len(farm["rx"].keys) == 3, timeout=20, what="the critical, to all three")
    assert {k.split("|")[0] for k in farm["rx"].keys} == {"c1"}
    held = [r for r in read_status(farm["outbox"]) if r["alert_id"] == "w1"]
    assert [(r["status"], r["hold_reason"]) for r in held] == [("pending", "quiet_hours")] * 3
