"""Alert events of wire format v1 (`farm/{site}/alerts`): analytics publishes, notify and apps consume."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from contract.topics import is_slug
from contract.wire import VERSION, Reason, WireError, parse_json

KINDS: Final = ("agronomic", "forecast", "sensor", "node")
AUDIENCES: Final = ("farmer", "technician", "officer")
SEVERITIES: Final = ("warning", "critical")
STATES: Final = ("firing", "resolved", "acknowledged", "silenced")


@dataclass(frozen=True, slots=True)
class AlertEvent:
    id: str
    site: str
    node: str | None
    rule: str
    kind: str
    audience: str
    severity: str
    state: str
    started: int
    ts: int
    text: dict[str, str] = field(default_factory=dict)
    quantity: str | None = None
    value: float | None = None
    threshold: float | None = None
    unit: str | None = None
    ts_expected: int | None = None

    def encode(self) -> bytes:
        doc: dict[str, Any] = {"v": VERSION}
        doc.update({k: v for k, v in asdict(self).items() if v is not None})
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _need(cond: bool, what: str) -> None:
    if not cond:
        raise WireError(Reason.BAD_VALUES, f"alert event: {what}")


def decode_alert(payload: bytes | str) -> AlertEvent:
    doc = parse_json(payload)
    if not isinstance(doc, dict):
        raise WireError(Reason.NOT_AN_OBJECT, "alert event is not a JSON object")
    if doc.get("v") != VERSION:
        raise WireError(Reason.BAD_VERSION, f"alert event v is {doc.get('v')!r}")
    _need(isinstance(doc.get("id"), str) and 0 < len(doc["id"]) <= 64, "id must be a short string")
    _need(is_slug(doc.get("site")), "site must be a slug")
    _need(doc.get("node") is None or is_slug(doc.get("node")), "node must be a slug")
    _need(isinstance(doc.get("rule"), str) and doc["rule"] != "", "rule must be a string")
    _need(doc.get("kind") in KINDS, f"kind must be one of {KINDS}")
    _need(doc.get("audience") in AUDIENCES, f"audience must be one of {AUDIENCES}")
    _need(doc.get("severity") in SEVERITIES, f"severity must be one of {SEVERITIES}")
    _need(doc.get("state") in STATES, f"state must be one of {STATES}")
    for k in ("started", "ts"):
        _need(isinstance(doc.get(k), int) and not isinstance(doc.get(k), bool), f"{k} must be integer ms")
    text = doc.get("text", {})
    _need(isinstance(text, dict) and all(isinstance(v, str) for v in text.values()), "text must map lang→str")
    known = {f for f in AlertEvent.__dataclass_fields__}
    return AlertEvent(**{k: v for k, v in doc.items() if k in known})
