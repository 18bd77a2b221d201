"""kill -9 of the agent process while it spools: the outbox stays consistent and nothing committed is lost."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from edge.config import load_node_config
from ruongso.local_services import Mosquitto
from tests.edge.conftest import write_config
from tests.waiting import wait_until

FAST = [
    {"name": f"s{i}", "driver": "simulated", "interval": "0.1s", "quantities": [q]}
    for i, q in enumerate(["air_temp", "air_humidity", "water_temp"])
]


def spooled(path: Path) -> dict[str, set[int]]:
    """boot → seqs in the outbox, read as another process would (WAL allows a reader beside the writer)."""
    if not path.exists():
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        out: dict[str, set[int]] = {}
        for boot, seq in db.execute("SELECT boot, seq FROM readings"):
            out.setdefault(boot, set()).add(seq)
        return out
    except sqlite3.OperationalError:
        return {}  # schema not created yet
    finally:
        db.close()


def integrity(path: Path) -> str:
    db = sqlite3.connect(str(path))
    try:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        db.close()


def start(cmd: list[str], config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([*cmd, "edge", "--config", str(config)], stdout=out, stderr=out)


def test_kill_9_while_spooling_leaves_the_spool_intact_and_loses_nothing(
    tmp_path: Path, own_broker: Mosquitto, ingest_for: Any, ruongso_cmd: list[str]
) -> None:
    own_broker.stop()  # no broker: every reading goes to the spool
    config = write_config(tmp_path, own_broker.url, FAST, spool={"commit_every": "0.1s"})
    spool = tmp_path / "spool.sqlite"
    log = tmp_path / "agent.log"
    killed: dict[str, set[int]] = {}

    def count() -> int:
        return sum(len(s) for s in spooled(spool).values())

    for _round in range(3):
        before = count()
        proc = start(ruongso_cmd, config, log)
        wait_until(lambda: count() >= before + 15, 30, what="spooling")  # noqa: B023 - waited on at once
        proc.kill()  # SIGKILL, mid-write as likely as not: commits run every 0.1 s
        proc.wait(10)
        assert integrity(spool) == "ok"
        killed = spooled(spool)
        for boot, seqs in killed.items():
            assert seqs == set(range(len(seqs))), f"boot {boot}: a hole in the committed readings"
    assert len(killed) == 3, "one boot per run"

    own_broker.start()
    cfg = load_node_config(config)
    ingest = ingest_for(own_broker.url, cfg)
    proc = start(ruongso_cmd, config, log)
    try:
        got = lambda: {b: {s for bb, s in ingest.unique() if bb == b} for b in killed}  # noqa: E731
        wait_until(lambda: got() == killed, 30, what="every reading of the killed runs delivered")
        wait_until(lambda: not set(spooled(spool)) & set(killed), 15, what="acked readings removed from the spool")
    finally:
        proc.terminate()
        proc.wait(10)
    assert proc.returncode == 0, log.read_text()[-2000:]
    assert "stopped" in log.read_text()


def test_the_broker_publishes_offline_for_a_killed_agent_and_online_again_after_restart(
    tmp_path: Path, broker: Mosquitto, ingest_for: Any, ruongso_cmd: list[str]
) -> None:
    from tests.edge.conftest import status_where

    config = write_config(tmp_path, broker.url, FAST)
    ingest = ingest_for(broker.url, load_node_config(config))
    log = tmp_path / "agent.log"
    proc = start(ruongso_cmd, config, log)
    try:
        first = status_where(ingest, lambda s: s["state"] == "online", 20, what="online")
        proc.kill()
        proc.wait(10)
        will = status_where(ingest, lambda s: s["state"] == "offline", 10, what="the last will")
        assert will["boot"] == first["boot"]
        proc = start(ruongso_cmd, config, log)
        again = status_where(ingest, lambda s: s["state"] == "online" and s["boot"] != first["boot"], 20)
        assert again["spool"]["evicted"] == 0
    finally:
        proc.kill()
        proc.wait(10)
