"""Zalo ZNS: a pre-approved template message to a phone number, as Zalo documents it.

Send: `POST https://business.openapi.zalo.me/message/template`, header `access_token: <OA token>`,
JSON body `{"phone": "84xxxxxxxxx", "template_id": "...", "template_data": {name: value},
"tracking_id": "..."}`; answer `{"error": 0, "message": "Success", "data": {"msg_id": ...}}`, a
negative `error` otherwise. Token: the OA access token lives about 25 h; it is renewed with
`POST https://oauth.zaloapp.com/v4/oa/access_token`, header `secret_key`, form body
`refresh_token`, `app_id`, `grant_type=refresh_token`, which returns a new access token AND a new
refresh token (each refresh token works once), so both are stored in the outbox before use.
Sources in docs/notify.md ("Zalo ZNS").
"""

from __future__ import annotations

import hashlib
import threading
import time
from typing import Any, Protocol

import httpx

from notify.channels.base import SendResult
from notify.message import Message
from notify.phones import PhoneError, to_84
from notify.templates import TEMPLATES

# ZNS answers: -124 access token invalid (refresh and try once more); -100 unknown error (try later).
TOKEN_ERRORS = frozenset({-124, -216})
RETRY_ERRORS = frozenset({-100})
REFRESH_MARGIN_MS = 5 * 60_000


class Store(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, now_ms: int) -> None: ...


class ZaloAuthError(RuntimeError):
    pass


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
        self.store = store
        self.app_id = app_id
        self.secret_key = secret_key
        self.templates = templates
        self.api_url = api_url
        self.oauth_url = oauth_url
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=timeout)
        # Settings only seed the store: after the first refresh the stored (newer) tokens win.
        now = int(time.time() * 1000)
        if refresh_token and store.get("zalo.refresh_token") is None:
            store.put("zalo.refresh_token", refresh_token, now)
        if access_token and store.get("zalo.access_token") is None:
            store.put("zalo.access_token", access_token, now)

    def _refresh(self) -> str:
        refresh = self.store.get("zalo.refresh_token")
        if not refresh:
            raise ZaloAuthError("no Zalo refresh token: set RUONGSO_ZALO_REFRESH_TOKEN")
        r = self._http.post(
            self.oauth_url,
            headers={"secret_key": self.secret_key},
            data={"refresh_token": refresh, "app_id": self.app_id, "grant_type": "refresh_token"},
        )
        try:
            doc: dict[str, Any] = r.json()
        except ValueError:
            doc = {}
        if r.status_code != 200 or not doc.get("access_token") or not doc.get("refresh_token"):
            raise ZaloAuthError(f"token refresh refused (HTTP {r.status_code}): {str(doc or r.text)[:200]}")
        now = int(time.time() * 1000)
        # The old refresh token is spent now: store the new one before anything else can fail.
        self.store.put("zalo.refresh_token", str(doc["refresh_token"]), now)
        self.store.put("zalo.access_token", str(doc["access_token"]), now)
        self.store.put("zalo.access_expires_ms", str(now + int(doc.get("expires_in", 3600)) * 1000), now)
        return str(doc["access_token"])

    def _token(self, force: bool) -> str:
        with self._lock:
            token = self.store.get("zalo.access_token")
            expires = self.store.get("zalo.access_expires_ms")
            fresh = expires is None or int(time.time() * 1000) < int(expires) - REFRESH_MARGIN_MS
            if token and fresh and not force:
                return token
            return self._refresh()

    def request_body(self, message: Message) -> dict[str, Any]:
        params = TEMPLATES[message.template].params
        return {
            "phone": to_84(message.address),
            "template_id": self.templates[message.template],
            "template_data": {p: message.params[p] for p in params},
            "tracking_id": tracking_id(message.key),
        }

    def send(self, message: Message) -> SendResult:
        if message.template not in self.templates:
            return SendResult.fail(f"no ZNS template_id configured for {message.template} (RUONGSO_ZALO_TEMPLATES)")
        try:
            body = self.request_body(message)
        except PhoneError as exc:
            return SendResult.fail(str(exc))
        for attempt in (1, 2):
            try:
                token = self._token(force=attempt == 2)
                r = self._http.post(self.api_url, headers={"access_token": token}, json=body)
            except (httpx.HTTPError, ZaloAuthError) as exc:
                return SendResult.retry(f"{type(exc).__name__}: {exc}")
            if r.status_code >= 500 or r.status_code == 429:
                return SendResult.retry(f"HTTP {r.status_code}")
            try:
                doc = r.json()
                error = int(doc.get("error", -100))
            except (ValueError, TypeError, AttributeError):
                return SendResult.retry(f"HTTP {r.status_code}: answer is not Zalo JSON: {r.text[:100]!r}")
            if error == 0:
                return SendResult.sent(str((doc.get("data") or {}).get("msg_id", "")) or None)
            detail = f"ZNS error {error}: {doc.get('message', '')}"
            if error in TOKEN_ERRORS and attempt == 1:
                continue
            return SendResult.retry(detail) if error in RETRY_ERRORS | TOKEN_ERRORS else SendResult.fail(detail)
        return SendResult.retry("unreachable")

    def close(self) -> None:
        self._http.close()
