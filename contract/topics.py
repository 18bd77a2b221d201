"""MQTT topic names of wire format v1, as value objects that validate themselves.

    farm/{site}/{node}/telemetry   node → ingest, analytics      QoS 1
    farm/{site}/{node}/status      node (retained), broker LWT   QoS 1
    farm/{site}/{node}/config      server → node (retained)      QoS 1
    farm/{site}/{node}/ack         ingest → node (retained)      QoS 1
    farm/{site}/alerts             analytics → notify, apps      QoS 1
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

ROOT: Final = "farm"
QOS: Final = 1
SLUG_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class TopicError(ValueError):
    """A topic or identifier that is not part of wire format v1."""


class NodeTopicKind(StrEnum):
    TELEMETRY = "telemetry"
    STATUS = "status"
    CONFIG = "config"
    ACK = "ack"


def is_slug(value: object) -> bool:
    return isinstance(value, str) and SLUG_RE.match(value) is not None


def check_slug(value: object, what: str) -> str:
    if not is_slug(value):
        raise TopicError(f"{what} {value!r} is not a slug (a-z, 0-9, '-', 1-63 chars, not starting with '-')")
    return value  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class NodeTopic:
    site: str
    node: str
    kind: NodeTopicKind

    def __post_init__(self) -> None:
        check_slug(self.site, "site")
        check_slug(self.node, "node")

    def __str__(self) -> str:
        return f"{ROOT}/{self.site}/{self.node}/{self.kind.value}"

    @classmethod
    def parse(cls, topic: str) -> NodeTopic:
        parts = topic.split("/")
        if len(parts) != 4 or parts[0] != ROOT:
            raise TopicError(f"topic {topic!r} is not farm/<site>/<node>/<kind>")
        try:
            kind = NodeTopicKind(parts[3])
        except ValueError:
            raise TopicError(f"topic {topic!r} has unknown kind {parts[3]!r}") from None
        return cls(parts[1], parts[2], kind)


@dataclass(frozen=True, slots=True)
class AlertsTopic:
    site: str

    def __post_init__(self) -> None:
        check_slug(self.site, "site")

    def __str__(self) -> str:
        return f"{ROOT}/{self.site}/alerts"

    @classmethod
    def parse(cls, topic: str) -> AlertsTopic:
        parts = topic.split("/")
        if len(parts) != 3 or parts[0] != ROOT or parts[2] != "alerts":
            raise TopicError(f"topic {topic!r} is not farm/<site>/alerts")
        return cls(parts[1])


def telemetry(site: str, node: str) -> NodeTopic:
    return NodeTopic(site, node, NodeTopicKind.TELEMETRY)


def status(site: str, node: str) -> NodeTopic:
    return NodeTopic(site, node, NodeTopicKind.STATUS)


def config(site: str, node: str) -> NodeTopic:
    return NodeTopic(site, node, NodeTopicKind.CONFIG)


def ack(site: str, node: str) -> NodeTopic:
    return NodeTopic(site, node, NodeTopicKind.ACK)


def alerts(site: str) -> AlertsTopic:
    return AlertsTopic(site)


def node_filter(kind: NodeTopicKind, site: str = "+") -> str:
    """Subscription filter for one kind of node topic, for one site or (default) all."""
    return f"{ROOT}/{site}/+/{kind.value}"


ALL_TELEMETRY: Final = node_filter(NodeTopicKind.TELEMETRY)
ALL_STATUS: Final = node_filter(NodeTopicKind.STATUS)
ALL_ALERTS: Final = f"{ROOT}/+/alerts"


# Internal coordination topics of the server-side services (not node topics): ingest members of one
# shared-subscription group exchange settled seqs here, so the broker ACL grants service accounts it.
SERVICE_ROOT: Final = "ruongso"


def ingest_progress(group: str) -> str:
    return f"{SERVICE_ROOT}/ingest/{group}/progress"


def shared(group: str, topic_filter: str) -> str:
    """A shared subscription (MQTT 5 `$share/<group>/<filter>`), so several consumers split one stream."""
    if not re.match(r"^[A-Za-z0-9_-]{1,64}$", group):
        raise TopicError(f"shared-subscription group {group!r} must be 1-64 of A-Z a-z 0-9 _ -")
    return f"$share/{group}/{topic_filter}"
