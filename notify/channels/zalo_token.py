"""The Zalo Official Account access token, shared by the ZNS and OA channels, and its refresh.

Renewal as Zalo documents it: `POST https://oauth.zaloapp.com/v4/oa/access_token`, header
`secret_key: <app secret>`, form body `refresh_token`, `app_id`, `grant_type=refresh_token`; the
answer holds `access_token`, `refresh_token` and `expires_in` (seconds, as a string). Each refresh
token works once, so the new pair is stored (outbox `kv`) before it is used; settings only seed it.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Protocol

import httpx

from notify.channels.base import SendResult

REFRESH_MARGIN_MS = 5 * 60_000
# Answers: -124 (ZNS) and -216 (OA API) access token invalid → refresh, try once more;
# -100 unknown error → later. Any other negative code is about the message: retrying will not help.
TOKEN_ERRORS = frozenset({-124, -216})
RETRY_ERRORS = frozenset({-100})


class Store(Protocol):
    def get(self, key: str) -> str | None: ...

    def put(self, key: str, value: str, now_ms: int) -> None: ...


class ZaloAuthError(RuntimeError):
    pass


class ZaloToken:
    # One lock per process, not per channel: ZNS and OA share the token, and a refresh token works
    # once, so two refreshes racing would leave one of them with a spent token.
    _lock = threading.Lock()

    def __init__(
        self, store: Store, app_id: str, secret_key: str, refresh_token: str | None, access_token: str | None,
        oauth_url: str, http: httpx.Client,
    ) -> None:  # fmt: skip
        self.store = store
        self.app_id = app_id
        self.secret_key = secret_key
        self.oauth_url = oauth_url
        self._http = http
        now = int(time.time() * 1000)
        if refresh_token and store.get("zalo.refresh_token") is None:
            store.put("zalo.refresh_token", refresh_token, now)
        if access_token and store.get("zalo.access_token") is None:
            store.put("zalo.access_token", access_token, now)

    def get(self, force_refresh: bool = False) -> str:
        with self._lock:
            token = self.store.get("zalo.access_token")
            expires = self.store.get("zalo.access_expires_ms")
            fresh = expires is None or int(time.time() * 1000) < int(expires) - REFRESH_MARGIN_MS
            if token and fresh and not force_refresh:
                return token
            return self._refresh()

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


def post_json(http: httpx.Client, token: ZaloToken, url: str, body: dict[str, Any], ref_field: str) -> SendResult:
    """POST `body` with the `access_token` header; on an invalid token refresh once and repeat."""
    for attempt in (1, 2):
        try:
            r = http.post(url, headers={"access_token": token.get(force_refresh=attempt == 2)}, json=body)
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
            return SendResult.sent(str((doc.get("data") or {}).get(ref_field, "")) or None)
        detail = f"Zalo error {error}: {doc.get('message', '')}"
        if error in TOKEN_ERRORS and attempt == 1:
            continue
        return SendResult.retry(detail) if error in RETRY_ERRORS | TOKEN_ERRORS else SendResult.fail(detail)
    return SendResult.retry("token refused twice")
