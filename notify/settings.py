"""Settings of `ruongso notify`: env `RUONGSO_*` (sample in docs/notify.md), CLI flags override."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import field_validator

from ruongso.durations import parse_duration
from ruongso.settings import Duration, ServiceSettings

_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


class NotifySettings(ServiceSettings):
    # Where things are.
    notify_outbox: str = "ruongso-notify.db"
    notify_routing: str | None = None  # YAML routing file; else the registry
    registry_url: str | None = None
    notify_client_id: str = "ruongso-notify"  # persistent MQTT session: events wait while we are down

    # Acknowledge links: the same secret as the API; no default on purpose. Checked at start by
    # ruongso.ack_tokens.secret_bytes (not here: a validation error would print the value).
    ack_secret: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    ack_ttl: Duration = "3d"

    # Delivery policy. Durations as `45`, `30s`, `90m`, `2h`.
    notify_quiet_hours: str = "21:00-06:00"  # local time; warnings wait, critical never; "" = none
    notify_retry_base: Duration = "5s"
    notify_retry_max: Duration = "10m"
    notify_rate_limit: int = 6  # warnings per recipient and channel per window; critical never waits
    notify_rate_window: Duration = "1h"
    notify_escalate_after: Duration = "15m"  # critical not acknowledged → next role up
    notify_max_age: Duration = "24h"  # an unsent message older than this is stale: marked expired
    notify_tick: Duration = "0.5s"

    # Channels: a channel is on when its settings are present.
    smtp_url: str | None = None  # smtp://user:pass@host:587
    smtp_from: str = "Ruong So <canhbao@localhost>"
    smtp_starttls: bool = True
    smtp_ca_file: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    sms_url: str | None = None
    sms_method: str = "POST"
    sms_body: str = '{"to": "{phone}", "text": "{text}", "ref": "{key}"}'  # JSON template
    sms_headers: str = "{}"  # JSON object, e.g. {"Authorization": "Bearer …"}
    sms_ascii: bool = True  # strip diacritics → one GSM-7 segment of 160
    zalo_app_id: str | None = None
    zalo_secret_key: str | None = None
    zalo_refresh_token: str | None = None
    zalo_access_token: str | None = None
    zalo_templates: str = "{}"  # JSON: template name → ZNS template_id
    zalo_api_url: str = "https://business.openapi.zalo.me/message/template"
    zalo_oauth_url: str = "https://oauth.zaloapp.com/v4/oa/access_token"
    zalo_oa_api_url: str = "https://openapi.zalo.me/v3.0/oa/message/cs"  # "" turns OA messages off
    notify_mqtt_topic: str | None = None  # e.g. "ruongso/notify/{recipient}": the app channel

    @field_validator("notify_quiet_hours")
    @classmethod
    def _quiet(cls, v: str) -> str:
        if v and not _HHMM.match(v):
            raise ValueError("must look like 21:00-06:00 (local time) or be empty")
        return v

    @field_validator("sms_body", "sms_headers", "zalo_templates")
    @classmethod
    def _json(cls, v: str) -> str:
        try:
            doc = json.loads(v)
        except ValueError as exc:
            raise ValueError(f"must be a JSON object: {exc}") from None
        if not isinstance(doc, dict):
            raise ValueError("must be a JSON object")
        return v

    @field_validator("public_url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    def seconds(self, name: str) -> float:
        return parse_duration(getattr(self, name))

    def quiet_hours(self) -> tuple[int, int] | None:
        """(start, end) in minutes after local midnight, or None."""
        m = _HHMM.match(self.notify_quiet_hours)
        if not m:
            return None
        a, b, c, d = (int(x) for x in m.groups())
        return a * 60 + b, c * 60 + d

    def json_setting(self, name: str) -> Any:
        return json.loads(getattr(self, name))
