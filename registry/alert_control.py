"""The alert-control message: a site's current acknowledgements and silences, for analytics.

Topic `farm/{site}/alerts/control`, QoS 1, retained, published by the API after every ack, silence or
cancel. The payload is the site's whole current set (not a delta), so the retained message alone is the
truth for a subscriber that just (re)started:

    {"v": 1, "site": "hk-rice-1", "ts": 1764455000000,
     "acks": [{"id": "a-9f2c41", "by": "officer-tuan", "ts": 1764454000000, "note": ""}],
     "silences": [{"id": 3, "node": "n01" | null, "start": …, "end": …, "reason": "…", "by": "…"}]}

Node topics are four levels deep with a kind from contract.topics.NodeTopicKind ("control" is not
one), and the node slug "alerts" is reserved, so this topic never matches a node's filter.
"""

from __future__ import annotations

import json
from typing import Any

from contract.topics import ROOT, check_slug
from contract.wire import VERSION
from registry.alert_actions import acks, silences
from registry.db import Connection, now_ms

CONTROL_FILTER = f"{ROOT}/+/alerts/control"


def control_topic(site: str) -> str:
    return f"{ROOT}/{check_slug(site, 'site')}/alerts/control"


def control_payload(conn: Connection, site: str) -> bytes:
    doc: dict[str, Any] = {
        "v": VERSION,
        "site": site,
        "ts": now_ms(),
        "acks": [{"id": a.alert_id, "by": a.acked_by, "ts": a.acked_ms, "note": a.note} for a in acks(conn, site)],
        "silences": [
            {"id": s.id, "node": s.node, "start": s.start_ms, "end": s.end_ms, "reason": s.reason, "by": s.created_by}
            for s in silences(conn, site)
        ],
    }
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
