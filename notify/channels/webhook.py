"""Generic webhook: the message as JSON, signed with HMAC-SHA256 so the receiver knows it is ours.

Headers: `X-Ruongso-Timestamp` (Unix seconds), `X-Ruongso-Signature: sha256=<hex>` where hex =
HMAC-SHA256(secret, timestamp + "." + body), and `Idempotency-Key` (the outbox key): a receiver
that stores keys it has seen turns our at-least-once into exactly-once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import httpx

from notify.channels.base import SendResult, http_result
from notify.message import Message

SIGNATURE_HEADER = "X-Ruongso-Signature"
TIMESTAMP_HEADER = "X-Ruongso-Timestamp"
IDEMPOTENCY_HEADER = "Idempotency-Key"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


class WebhookChannel:
    name = "webhook"

    def __init__(self, url: str, secret: str, timeout: float = 10.0) -> None:
        self.url = url
        self.secret = secret
        self._http = httpx.Client(timeout=timeout)

    def send(self, message: Message) -> SendResult:
        url = message.address if message.address.startswith(("http://", "https://")) else self.url
        body = json.dumps(message.public(), ensure_ascii=False, separators=(",", ":")).encode()
        ts = str(int(time.time()))
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            TIMESTAMP_HEADER: ts,
            SIGNATURE_HEADER: signature(self.secret, ts, body),
            IDEMPOTENCY_HEADER: message.key,
        }
        try:
            r = self._http.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return SendResult.retry(f"{type(exc).__name__}: {exc}")
        return http_result(r.status_code, r.text)

    def close(self) -> None:
        self._http.close()
