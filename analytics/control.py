"""The control topic of analytics: acknowledge and silence alerts over MQTT.

    farm/{site}/alerts/control   apps/API → analytics   QoS 1, not retained

Payloads (UTF-8 JSON object):
    {"action": "ack", "id": "a-9f2c41", "by": "user"}
    {"action": "silence", "until": 1764460000000, "node": "hk-pond-n02", "rule": "dissolved_oxygen.", "by": "…"}
    {"action": "unsilence", "node": "hk-pond-n02", "rule": "dissolved_oxygen."}
`node` and `rule` (a prefix of rule ids) are optional: without them a silence covers the whole site.
The topic is not a node topic (its last level is not a NodeTopicKind), so no `farm/+/+/<kind>` filter
matches it, and `farm/+/alerts` (alert events) does not match it either.
"""

from __future__ import annotations

from typing import Any, Final

from contract.topics import ROOT, TopicError, check_slug, is_slug
from contract.wire import WireError, parse_json

LEAF: Final = "control"
ALL_CONTROL: Final = f"{ROOT}/+/alerts/{LEAF}"
ACTIONS: Final = ("ack", "silence", "unsilence")


class ControlError(ValueError):
    pass


def control_topic(site: str) -> str:
    return f"{ROOT}/{check_slug(site, 'site')}/alerts/{LEAF}"


def parse_control_topic(topic: str) -> str | None:
    """The site of a control topic, or None for any other topic."""
    parts = topic.split("/")
    if len(parts) == 4 and parts[0] == ROOT and parts[2] == "alerts" and parts[3] == LEAF and is_slug(parts[1]):
        return parts[1]
    return None


def decode_control(payload: bytes | str) -> dict[str, Any]:
    try:
        doc = parse_json(payload)
    except WireError as exc:
        raise ControlError(str(exc)) from None
    if not isinstance(doc, dict):
        raise ControlError("control payload is not a JSON object")
    action = doc.get("action")
    if action not in ACTIONS:
        raise ControlError(f"action {action!r} is not one of {', '.join(ACTIONS)}")
    if action == "ack" and not (isinstance(doc.get("id"), str) and doc["id"]):
        raise ControlError("ack needs the alert id")
    if action == "silence":
        until = doc.get("until")
        if not isinstance(until, int) or isinstance(until, bool):
            raise ControlError("silence needs 'until' in integer milliseconds")
    node = doc.get("node")
    if node is not None and not is_slug(node):
        raise ControlError(f"node {node!r} is not a slug")
    rule = doc.get("rule")
    if rule is not None and not isinstance(rule, str):
        raise ControlError("rule must be a string (a prefix of rule ids)")
    return doc


__all__ = ["ALL_CONTROL", "ControlError", "TopicError", "control_topic", "decode_control", "parse_control_topic"]
