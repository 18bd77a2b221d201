"""Every channel against a real local counterpart: one contract for all, then each one's specifics."""

from __future__ import annotations

import dataclasses
import email
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import policy
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from notify import gsm7, templates
from notify.channels import CHANNELS, Channel
from notify.channels.email import EmailChannel
from notify.channels.mqtt_app import MqttAppChannel
from notify.channels.sms import SmsChannel
from notify.channels.webhook import WebhookChannel
from notify.channels.zalo import ZaloZnsChannel, tracking_id
from notify.channels.zalo_oa import ZaloOaChannel
from notify.message import Message
from notify.outbox import Outbox
from ruongso.local_services import Mosquitto, free_port
from ruongso.mqtt import connect_and_wait, make_client, parse_mqtt_url
from tests.waiting import wait_until

from .conftest import T0_MS, HttpServer, SmtpServer, alert
from .fakes import WebhookReceiver, ZaloFake

ADDRESS = {"email": "lan@example.vn", "webhook": "", "sms": "0912 345 678", "zalo": "0912345678", "mqtt": "lan",
           "zalo_oa": "2468458835296117922"}  # fmt: skip


def message(channel: str, key: str = "a-9f2c41|lan|x|firing-critical", event: Any = None) -> Message:
    event = event or alert()
    params = templates.params_for(event, "vi", "Ao 2", "https://rs.example.vn/a/tok", T0_MS)
    name = templates.choose(event, "vi")
    return Message(
        key=key.replace("|x|", f"|{channel}|"), alert_id=event.id, site=event.site, severity=event.severity,
        state="firing-critical", recipient="lan", channel=channel, address=ADDRESS[channel], lang="vi",
        template=name, params=params, subject=templates.subject_for(params), text=templates.render(name, params),
        ack_url="https://rs.example.vn/a/tok",
    )  # fmt: skip


@dataclass
class Rig:
    channel: Channel
    delivered: Callable[[], list[str]]  # the keys the far end has received
    broken: Channel  # the same channel pointed at a far end that is down


@pytest.fixture
def rig(request: pytest.FixtureRequest, tmp_path: Path, http_server: HttpServer, smtp_server: SmtpServer,
        broker: Mosquitto) -> Iterator[Rig]:  # fmt: skip
    name = request.param
    dead = f"http://127.0.0.1:{free_port()}"
    if name == "email":
        url = f"smtp://notify:s3cret@127.0.0.1:{smtp_server.port}"
        ch: Any = EmailChannel(url, "Ruong So <canhbao@example.vn>", ca_file=smtp_server.ca_file)
        broken: Any = EmailChannel(f"smtp://notify:s3cret@127.0.0.1:{free_port()}", "x <x@x>", timeout=2)
        yield Rig(ch, lambda: [_email_key(e) for e in smtp_server.messages], broken)
    elif name == "webhook":
        rx = WebhookReceiver()
        http_server.respond = rx.respond
        yield Rig(WebhookChannel(http_server.url, rx.secret), lambda: rx.keys, WebhookChannel(dead, rx.secret, 2))
    elif name == "sms":
        seen: list[str] = []
        http_server.respond = lambda req: (seen.append(req.json()["ref"]), (200, {"status": "queued"}))[1]
        body = json.loads('{"to": "{phone84}", "text": "{text}", "ref": "{key}"}')
        yield Rig(SmsChannel(http_server.url + "/sms", body, {}), lambda: seen, SmsChannel(dead, body, {}, timeout=2))
    elif name == "zalo":
        fake = ZaloFake()
        http_server.respond = fake.respond
        store = Outbox(tmp_path / "o.db")
        ch = ZaloZnsChannel(store, fake.app_id, fake.secret_key, fake.refresh_token, fake.templates,
                            api_url=http_server.url + "/message/template",
                            oauth_url=http_server.url + "/v4/oa/access_token")  # fmt: skip
        broken = ZaloZnsChannel(Outbox(tmp_path / "b.db"), "1", "s", "r", fake.templates, api_url=dead,
                                oauth_url=dead, timeout=2)  # fmt: skip
        yield Rig(ch, lambda: [b["tracking_id"] for b in fake.sent], broken)
        assert fake.problems == []
    elif name == "zalo_oa":
        fake = ZaloFake()
        http_server.respond = fake.respond
        ch = ZaloOaChannel(Outbox(tmp_path / "o.db"), fake.app_id, fake.secret_key, fake.refresh_token,
                           api_url=http_server.url + "/v3.0/oa/message/cs",
                           oauth_url=http_server.url + "/v4/oa/access_token")  # fmt: skip
        broken = ZaloOaChannel(Outbox(tmp_path / "b.db"), "1", "s", "r", api_url=dead, oauth_url=dead, timeout=2)
        yield Rig(ch, lambda: [b["message"]["text"] for b in fake.oa_sent], broken)
        assert fake.problems == []
    elif name == "mqtt":
        target = parse_mqtt_url(broker.url)
        got: list[str] = []
        sub = make_client(target, "")
        sub.on_message = lambda c, u, m: got.append(json.loads(m.payload)["key"])
        connect_and_wait(sub, target)
        wait_until(lambda: sub.subscribe("test-notify/#", qos=1)[0] == 0, what="subscribe")
        pub = make_client(target, "")
        connect_and_wait(pub, target)
        never = mqtt.Client(CallbackAPIVersion.VERSION2)
        yield Rig(MqttAppChannel(pub, "test-notify/{recipient}"), lambda: got,
                  MqttAppChannel(never, "test-notify/{recipient}", timeout=1))  # fmt: skip
        for c in (sub, pub):
            c.disconnect()
            c.loop_stop()
    else:
        raise AssertionError(f"no rig for channel {name}: add one when adding a channel")


def _email_key(envelope: Any) -> str:
    return str(email.message_from_bytes(envelope.content, policy=policy.default)["Message-ID"])


def _expected_key(name: str, msg: Message) -> str:
    if name == "zalo":
        return tracking_id(msg.key)
    if name == "zalo_oa":
        return msg.text  # the OA API carries no id of ours
    if name == "email":
        import hashlib

        return f"<{hashlib.sha256(msg.key.encode()).hexdigest()[:32]}@ruongso>"
    return msg.key


@pytest.mark.parametrize("rig", sorted(CHANNELS), indirect=True)
def test_every_channel_delivers_once_and_says_retry_when_its_far_end_is_down(rig: Rig) -> None:
    msg = message(rig.channel.name)
    result = rig.channel.send(msg)
    assert result.ok, result.detail
    wait_until(lambda: rig.delivered(), timeout=10, what="delivery")
    assert rig.delivered() == [_expected_key(rig.channel.name, msg)]
    down = rig.broken.send(msg)
    assert not down.ok and down.retryable, down


def test_email_goes_over_starttls_with_auth_in_vietnamese(smtp_server: SmtpServer) -> None:
    ch = EmailChannel(f"smtp://notify:s3cret@127.0.0.1:{smtp_server.port}", "Ruong So <canhbao@example.vn>",
                      ca_file=smtp_server.ca_file)  # fmt: skip
    assert ch.send(message("email")).ok
    assert smtp_server.tls_seen == [True] and smtp_server.logins == ["notify"]
    mail = email.message_from_bytes(smtp_server.messages[0].content, policy=policy.default)
    assert mail["Subject"] == "NGUY HIỂM Ao 2: Oxy hòa tan thấp"
    assert "bật quạt nước" in mail.get_content()
    assert mail["Message-ID"] == _expected_key("email", message("email"))


def test_a_webhook_with_a_wrong_secret_is_refused_by_the_receiver(http_server: HttpServer) -> None:
    rx = WebhookReceiver()
    http_server.respond = rx.respond
    r = WebhookChannel(http_server.url, "not-the-shared-secret").send(message("webhook"))
    assert not r.ok and not r.retryable and rx.refused == 1 and rx.received == []


def test_sms_request_follows_the_gateway_template_in_one_gsm7_segment(http_server: HttpServer) -> None:
    body = {"msisdn": "{phone84}", "content": "{text}", "client_ref": "{key}", "brand": "RUONGSO"}
    ch = SmsChannel(http_server.url + "/api/send", body, {"Authorization": "Bearer gw-key"})
    assert ch.send(message("sms")).ok
    req = http_server.requests[0]
    assert req.path == "/api/send" and req.headers["authorization"] == "Bearer gw-key"
    doc = req.json()
    assert doc["msisdn"] == "84912345678" and doc["brand"] == "RUONGSO" and doc["client_ref"].startswith("a-9f2c41|")
    assert gsm7.is_gsm7(doc["content"]) and gsm7.septets(doc["content"]) <= 160
    assert "Oxy hoa tan thap" in doc["content"]
    http_server.respond = lambda req: (503, {"error": "maintenance"})
    r = ch.send(message("sms"))
    assert r.retryable
    http_server.respond = lambda req: (400, {"error": "bad number"})
    assert not ch.send(message("sms")).retryable


def test_zalo_refreshes_the_oa_token_and_keeps_the_new_refresh_token(http_server: HttpServer, tmp_path: Path) -> None:
    fake = ZaloFake()
    http_server.respond = fake.respond
    store = Outbox(tmp_path / "o.db")
    kw = {"api_url": http_server.url + "/message/template", "oauth_url": http_server.url + "/v4/oa/access_token"}
    ch = ZaloZnsChannel(store, fake.app_id, fake.secret_key, "refresh-0", fake.templates, "access-expired", **kw)
    first = ch.send(message("zalo"))
    assert first.ok and first.ref == "zmsg1", first.detail
    assert store.get("zalo.refresh_token") == "refresh-1" == fake.refresh_token  # the spent one is replaced
    body = fake.sent[0]
    assert body["phone"] == "84912345678" and body["template_id"] == fake.templates["alert_value_vi"]
    assert body["template_data"]["condition"] == "Oxy hòa tan thấp" and body["template_data"]["value"] == "1,8 mg/L"
    assert body["template_data"]["ack_token"] == "tok"  # for a button https://…/a/<ack_token>
    # A restart reads the stored tokens, not the (spent) one in the settings.
    again = ZaloZnsChannel(store, fake.app_id, fake.secret_key, "refresh-0", fake.templates, None, **kw)
    assert again.send(message("zalo", key="a-2|lan|x|firing-critical")).ok
    assert fake.problems == [] and len(fake.sent) == 2
    # An unknown template or a foreign number will not get better by retrying.
    assert not ZaloZnsChannel(store, fake.app_id, fake.secret_key, None, {}, **kw).send(message("zalo")).retryable
    foreign = dataclasses.replace(message("zalo", key="a-3|lan|x|firing-critical"), address="+1 415 555 0100")
    r = ch.send(foreign)
    assert not r.ok and not r.retryable and "84" in r.detail
