"""The one shape of a channel: `send(message) -> SendResult`, and how results are sorted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from notify.message import Message


@dataclass(frozen=True, slots=True)
class SendResult:
    ok: bool
    retryable: bool = False
    detail: str = ""
    ref: str | None = None  # the provider's message id, when it gives one

    @classmethod
    def sent(cls, ref: str | None = None, detail: str = "") -> SendResult:
        return cls(True, False, detail, ref)

    @classmethod
    def retry(cls, detail: str) -> SendResult:
        """A failure a later attempt may fix: network, 5xx, 429, expired token."""
        return cls(False, True, detail)

    @classmethod
    def fail(cls, detail: str) -> SendResult:
        """A failure no retry fixes: bad address, rejected template, 4xx."""
        return cls(False, False, detail)


class Channel(Protocol):
    name: str

    def send(self, message: Message) -> SendResult: ...

    def close(self) -> None: ...


def http_result(status: int, body: str, ref: str | None = None) -> SendResult:
    """2xx sent; 408, 425, 429 and 5xx retried; any other answer will not get better by retrying."""
    if 200 <= status < 300:
        return SendResult.sent(ref)
    detail = f"HTTP {status}: {body[:200]}"
    if status in (408, 425, 429) or status >= 500:
        return SendResult.retry(detail)
    return SendResult.fail(detail)
