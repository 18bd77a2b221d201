"""SMS through a configurable HTTP gateway (Vietnamese gateways differ; the request is a template).

`sms_body` is a JSON object whose string values may hold `{phone}` (as stored), `{phone84}`
(84xxxxxxxxx), `{text}` and `{key}` (the idempotency key: map it to the gateway's client request id,
e.g. eSMS `RequestId`, and the gateway refuses a duplicate after a crash). With `sms_ascii` the
text loses its diacritics and fits one 160-character GSM-7 segment.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from notify import gsm7
from notify.channels.base import SendResult, http_result
from notify.message import Message
from notify.phones import PhoneError, to_84


def _fill(node: Any, values: dict[str, str]) -> Any:
    if isinstance(node, str):
        for k, v in values.items():
            node = node.replace("{" + k + "}", v)
        return node
    if isinstance(node, dict):
        return {k: _fill(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, values) for v in node]
    return node


def sms_text(message: Message, ascii_only: bool) -> str:
    """The message for one SMS: GSM-7 and ≤ 160 when `ascii_only`; the ack link goes if it will not fit."""
    if not ascii_only:
        return message.text
    text = gsm7.to_gsm7(message.text)
    if gsm7.septets(text) > gsm7.SEGMENT and message.ack_url and message.ack_url in text:
        head = text[: text.rfind(". ", 0, text.index(message.ack_url)) + 1]
        text = head if head else text
    return gsm7.fit(text)


class SmsChannel:
    name = "sms"

    def __init__(
        self, url: str, body: dict[str, Any], headers: dict[str, str], method: str = "POST",
        ascii_only: bool = True, timeout: float = 10.0,
    ) -> None:  # fmt: skip
        self.url = url
        self.body = body
        self.headers = headers
        self.method = method.upper()
        self.ascii_only = ascii_only
        self._http = httpx.Client(timeout=timeout)

    def request_body(self, message: Message) -> dict[str, Any]:
        phone84 = to_84(message.address)
        values = {"phone": message.address, "phone84": phone84, "text": sms_text(message, self.ascii_only),
                  "key": message.key}  # fmt: skip
        filled: dict[str, Any] = _fill(self.body, values)
        return filled

    def send(self, message: Message) -> SendResult:
        try:
            body = self.request_body(message)
        except PhoneError as exc:
            return SendResult.fail(str(exc))
        try:
            r = self._http.request(
                self.method, self.url, content=json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json; charset=utf-8", **self.headers},
            )  # fmt: skip
        except httpx.HTTPError as exc:
            return SendResult.retry(f"{type(exc).__name__}: {exc}")
        return http_result(r.status_code, r.text)

    def close(self) -> None:
        self._http.close()
