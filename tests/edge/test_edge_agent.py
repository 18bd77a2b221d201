"""The agent end to end against a real Mosquitto, with a stand-in for ingest's acks (see conftest)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from edge.config import load_node_config
from ruongso.local_services import Mosquitto
from tests.edge.conftest import running, status_where, write_config
from tests.waiting import wait_until


def test_readings_flow_in_order_and_acked_ones_leave_the_outbox(
    tmp_path: Path, broker: Mosquitto, ingest_for: Any
) -> None:
    cfg = load_node_config(write_config(tmp_path, broker.url))
    ingest = ingest_for(broker.url, cfg)
    with running(cfg) as agent:
        wait_until(lambda: len(ingest.unique()) >= 15, 15, what="15 readings")
        wait_until(lambda: agent.outbox.depth <= 5, 10, what="acked readings deleted from the outbox")
        status = status_where(ingest, lambda s: s["state"] == "online", what="online status")
    seqs = sorted(seq for boot, seq in ingest.unique() if boot == agent.boot)
    assert seqs == list(range(len(seqs)))
    assert status["fw"].startswith("edge-") and status["spool"]["evicted"] == 0 and status["faults"] == {}
    assert ingest.last_status()["state"] == "offline"
