"""Zalo ZNS: a pre-approved template message to a phone number, as Zalo documents it.

Send: `POST https://business.openapi.zalo.me/message/template`, header `access_token: <OA token>`,
JSON body `{"phone": "84xxxxxxxxx", "template_id": "...", "template_data": {name: value},
"tracking_id": "..."}`; answer `{"error": 0, "message": "Success", "data": {"msg_id": ...}}`, a
negative `error` otherwise. The OA access token and its refresh: notify/channels/zalo_token.py.
Sources in docs/notify.md ("Zalo").
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from notify.channels.base import SendResult
from notify.channels.zalo_token import Store, ZaloToken, post_json
from notify.message import Message
from notify.phones import PhoneError, to_84
from notify.templates import TEMPLATES


def ack_token(message: Message) -> str:
    return (message.ack_url or "").rsplit("/a/", 1)[-1] if "/a/" in (message.ack_url or "") else ""


def tracking_id(key: str) -> str:
    # Zalo advises ≤ 48 characters without special characters; the key has '|' and may be long.
    return hashlib.sha256(key.encode()).hexdigest()[:40]


class ZaloZnsChannel:
    name = "zalo"

    def __init__(
        self, store: Store, app_id: str, secret_key: str, refresh_token: str | None, templates: dict[str, str],
        access_token: str | None = None, api_url: str = "https://business.openapi.zalo.me/message/template",
        oauth_url: str = "https://oauth.zaloapp.com/v4/oa/access_token", timeout: float = 10.0,
    ) -> None:  # fmt: skip
        self.templates = templates
        self.api_url = api_url
        self._http = httpx.Client(timeout=timeout)
        self.token = ZaloToken(store, app_id, secret_key, refresh_token, access_token, oauth_url, self._http)

    def request_body(self, message: Message) -> dict[str, Any]:
        params = TEMPLATES[message.template].params
        return {
            "phone": to_84(message.address),
            "template_id": self.templates[message.template],
            # + ack_token: ZNS puts links in buttons whose URL may hold a parameter in its path, so a
            # template registered with a button `<public_url>/a/<ack_token>` gets one (docs/notify.md).
            "template_data": {p: message.params[p] for p in params} | {"ack_token": ack_token(message)},
            "tracking_id": tracking_id(message.key),
        }

    def send(self, message: Message) -> SendResult:
        if message.template not in self.templates:
            return SendResult.fail(f"no ZNS template_id configured for {message.template} (RUONGSO_ZALO_TEMPLATES)")
        try:
            body = self.request_body(message)
        except PhoneError as exc:
            return SendResult.fail(str(exc))
        return post_json(self._http, self.token, self.api_url, body, "msg_id")

    def close(self) -> None:
        self._http.close()
