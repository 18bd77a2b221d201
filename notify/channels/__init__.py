"""Every channel, by name: each is one module with a class whose `send(message) -> SendResult`.

A factory returns the channel when its settings are present, None when the channel is off.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from notify.channels.base import Channel, SendResult
from notify.channels.email import EmailChannel
from notify.channels.mqtt_app import MqttAppChannel
from notify.channels.sms import SmsChannel
from notify.channels.webhook import WebhookChannel
from notify.channels.zalo import ZaloZnsChannel
from notify.channels.zalo_oa import ZaloOaChannel

__all__ = ["CHANNELS", "Channel", "SendResult", "build"]


def _email(s: Any, ctx: dict[str, Any]) -> Channel | None:
    if not s.smtp_url:
        return None
    return EmailChannel(s.smtp_url, s.smtp_from, s.smtp_starttls, s.smtp_ca_file)


def _webhook(s: Any, ctx: dict[str, Any]) -> Channel | None:
    if not s.webhook_url:
        return None
    if not s.webhook_secret:
        raise ValueError("RUONGSO_WEBHOOK_URL needs RUONGSO_WEBHOOK_SECRET (the HMAC-SHA256 key receivers check)")
    return WebhookChannel(s.webhook_url, s.webhook_secret)


def _sms(s: Any, ctx: dict[str, Any]) -> Channel | None:
    if not s.sms_url:
        return None
    return SmsChannel(s.sms_url, s.json_setting("sms_body"), s.json_setting("sms_headers"), s.sms_method, s.sms_ascii)


def _zalo(s: Any, ctx: dict[str, Any]) -> Channel | None:
    if not (s.zalo_app_id and s.zalo_secret_key):
        return None
    return ZaloZnsChannel(
        ctx["store"], s.zalo_app_id, s.zalo_secret_key, s.zalo_refresh_token, s.json_setting("zalo_templates"),
        s.zalo_access_token, s.zalo_api_url, s.zalo_oauth_url,
    )  # fmt: skip


def _zalo_oa(s: Any, ctx: dict[str, Any]) -> Channel | None:
    if not (s.zalo_app_id and s.zalo_secret_key and s.zalo_oa_api_url):
        return None
    return ZaloOaChannel(
        ctx["store"], s.zalo_app_id, s.zalo_secret_key, s.zalo_refresh_token, s.zalo_access_token,
        s.zalo_oa_api_url, s.zalo_oauth_url,
    )  # fmt: skip


def _mqtt(s: Any, ctx: dict[str, Any]) -> Channel | None:
    if not s.notify_mqtt_topic:
        return None
    return MqttAppChannel(ctx["mqtt"], s.notify_mqtt_topic)


CHANNELS: dict[str, Callable[[Any, dict[str, Any]], Channel | None]] = {
    "zalo": _zalo,
    "zalo_oa": _zalo_oa,
    "sms": _sms,
    "email": _email,
    "webhook": _webhook,
    "mqtt": _mqtt,
}


def build(settings: Any, store: Any, mqtt_client: Any = None) -> dict[str, Channel]:
    """The channels these settings turn on."""
    ctx = {"store": store, "mqtt": mqtt_client}
    out: dict[str, Channel] = {}
    for name, factory in CHANNELS.items():
        ch = factory(settings, ctx)
        if ch is not None:
            out[name] = ch
    return out
