"""Acknowledgements and silences for analytics, as the API publishes them (registry/alert_control.py).

    farm/{site}/alerts/control   API → analytics   QoS 1, retained

The payload is the site's whole current set, not a delta, so the retained message alone is the truth
for an analytics instance that just (re)started:

    {"v": 1, "site": "hk-rice-1", "ts": 1764455000000,
     "acks": [{"id": "a-9f2c41", "by": "officer-tuan", "ts": 1764454000000, "note": ""}],
     "silences": [{"id": 3, "node": "n01" | null, "start": …, "end": …, "reason": "…", "by": "…"}]}

The topic is not a node topic (its last level is not a NodeTopicKind) and `farm/+/alerts` (alert
events) does not match it. This module validates the payload; the lifecycle applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from contract.topics import ROOT, check_slug, is_slug
from contract.wire import VERSION, WireError, parse_json

ALL_CONTROL: Final = f"{ROOT}/+/alerts/control"


class ControlError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class ControlSilence:
    node: str | None
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Control:
    site: str
    acks: tuple[str, ...]
    silences: tuple[ControlSilence, ...]


def control_topic(site: str) -> str:
    return f"{ROOT}/{check_slug(site, 'site')}/alerts/control"


def parse_control_topic(topic: str) -> str | None:
    """The site of a control topic, or None for any other topic."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == ROOT and parts[2] == "alerts" and parts[3] == "control" and is_slug(parts[1]):
        return parts[1]
    return None


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def decode_control(payload: bytes | str, site: str) -> Control:
    try:
        doc = parse_json(payload)
    except WireError as exc:
        raise ControlError(str(exc)) from None
    if not isinstance(doc, dict):
        raise ControlError("control payload is not a JSON object")
    if doc.get("v") != VERSION:
        raise ControlError(f"control v is {doc.get('v')!r}, expected {VERSION}")
    if doc.get("site") != site:
        raise ControlError(f"control for site {doc.get('site')!r} published on site {site!r}'s topic")
    acks, silences = doc.get("acks", []), doc.get("silences", [])
    if not isinstance(acks, list) or not all(isinstance(a, dict) and isinstance(a.get("id"), str) for a in acks):
        raise ControlError("acks must be a list of {id, …}")
    if not isinstance(silences, list):
        raise ControlError("silences must be a list")
    out = []
    for s in silences:
        if not isinstance(s, dict) or not _int(s.get("start")) or not _int(s.get("end")):
            raise ControlError("each silence needs integer ms 'start' and 'end'")
        node = s.get("node")
        if node is not None and not is_slug(node):
            raise ControlError(f"silence node {node!r} is not a slug")
        out.append(ControlSilence(node, s["start"], s["end"]))
    return Control(site, tuple(a["id"] for a in acks), tuple(out))
