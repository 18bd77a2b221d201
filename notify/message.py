"""One message to one recipient on one channel: what the outbox stores and a channel sends."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True, slots=True)
class Message:
    key: str  # idempotency key: alert|recipient|channel|state — also sent to receivers that dedupe
    alert_id: str
    site: str
    severity: str
    state: str  # firing, resolved, escalated-<n>
    recipient: str
    channel: str
    address: str  # phone, e-mail address, URL or topic suffix, per channel
    lang: str
    template: str  # fixed template name (ZNS-registrable), e.g. alert_firing_vi
    params: dict[str, str] = field(default_factory=dict)
    subject: str = ""
    text: str = ""
    ack_url: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Message:
        return cls(**json.loads(text))

    def public(self) -> dict[str, object]:
        """What webhook and app receivers get: no internal address."""
        d = asdict(self)
        d.pop("address")
        return d
