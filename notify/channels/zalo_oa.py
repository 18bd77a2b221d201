"""Zalo Official Account message to a follower (by Zalo user id), the OA's own conversation.

`POST https://openapi.zalo.me/v3.0/oa/message/cs`, header `access_token`, JSON body
`{"recipient": {"user_id": "..."}, "message": {"text": "..."}}`; answer `{"error": 0, "data":
{"message_id": ...}}`. Zalo lets an OA send these free-form messages only inside its interaction
window with that follower, so ZNS (channel `zalo`) stays the channel alerts rely on; this one is a
complement for followers who chat with the OA. Same OA token as ZNS (zalo_token.py).
"""

from __future__ import annotations

import httpx

from notify.channels.base import SendResult
from notify.channels.zalo_token import Store, ZaloToken, post_json
from notify.message import Message


class ZaloOaChannel:
    name = "zalo_oa"

    def __init__(
        self, store: Store, app_id: str, secret_key: str, refresh_token: str | None, access_token: str | None = None,
        api_url: str = "https://openapi.zalo.me/v3.0/oa/message/cs",
        oauth_url: str = "https://oauth.zaloapp.com/v4/oa/access_token", timeout: float = 10.0,
    ) -> None:  # fmt: skip
        self.api_url = api_url
        self._http = httpx.Client(timeout=timeout)
        self.token = ZaloToken(store, app_id, secret_key, refresh_token, access_token, oauth_url, self._http)

    def send(self, message: Message) -> SendResult:
        if not message.address.isdigit():
            return SendResult.fail(f"Zalo user id {message.address!r} is not numeric")
        body = {"recipient": {"user_id": message.address}, "message": {"text": message.text}}
        return post_json(self._http, self.token, self.api_url, body, "message_id")

    def close(self) -> None:
        self._http.close()
