"""The agent end to end against a real Mosquitto, with a stand-in for ingest's acks (see conftest)."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from edge.clock import Clock
from edge.config import load_node_config
from ruongso.local_services import Mosquitto, free_port
from tests.edge.conftest import publish_retained, running, status_where, write_config
from tests.waiting import wait_until


def test_readings_flow_in_order_and_acked_ones_leave_the_outbox(
    tmp_path: Path, broker: Mosquitto, ingest_for: Any
) -> None:
    cfg = load_node_config(write_config(tmp_path, broker.url))
    ingest = ingest_for(broker.url, cfg)
    with running(cfg) as agent:
        wait_until(lambda: len(ingest.unique()) >= 8, 15, what="8 readings")
        wait_until(lambda: agent.outbox.depth <= 5, 10, what="acked readings deleted from the outbox")
        status = status_where(ingest, lambda s: s["state"] == "online", what="online status")
    seqs = sorted(seq for boot, seq in ingest.unique() if boot == agent.boot)
    assert seqs == list(range(len(seqs)))
    stamps = [ingest.timestamps[(agent.boot, seq)] for seq in seqs]
    assert all(ts % 200 == 0 for ts in stamps), "timestamps are aligned to the 0.2 s interval"
    assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)
    assert status["fw"].startswith("edge-") and status["spool"]["evicted"] == 0 and status["faults"] == {}
    status_where(ingest, lambda s: s["state"] == "offline", what="offline status after a clean stop")


def contiguous(seqs: set[int]) -> bool:
    return seqs == set(range(len(seqs)))


def test_broker_outage_loses_nothing_every_reading_arrives_after_restart(
    tmp_path: Path, own_broker: Mosquitto, ingest_for: Any
) -> None:
    cfg = load_node_config(write_config(tmp_path, own_broker.url))
    ingest = ingest_for(own_broker.url, cfg)
    with running(cfg) as agent:
        wait_until(lambda: len(ingest.unique()) >= 5, 10, what="readings before the outage")
        own_broker.stop()
        wait_until(lambda: not agent.forwarder.connected, 10, what="agent notices the outage")
        during = agent.seq
        wait_until(lambda: agent.seq >= during + 12, 15, what="12 readings sampled while the broker is down")
        assert agent.outbox.depth >= 12, "readings taken during the outage wait in the outbox"
        own_broker.start()
        last = agent.seq
        mine = lambda: {seq for boot, seq in ingest.unique() if boot == agent.boot}  # noqa: E731
        wait_until(lambda: set(range(last)) <= mine(), 30, what=f"every seq below {last} after the restart")
        wait_until(lambda: agent.outbox.depth <= 5, 10, what="the outbox drains once acked")
    assert contiguous(mine())


def test_bad_config_is_refused_and_reported_and_sampling_goes_on(
    tmp_path: Path, broker: Mosquitto, ingest_for: Any
) -> None:
    cfg = load_node_config(write_config(tmp_path, broker.url))
    ingest = ingest_for(broker.url, cfg)
    config_topic = f"farm/{cfg.site}/{cfg.node}/config"
    with running(cfg) as agent:
        wait_until(lambda: agent.seq >= 3, 10)
        publish_retained(broker.url, config_topic, b'{"sensors": [{"name": "x", "driver": "dht99"}]}')
        refused = status_where(ingest, lambda s: (s.get("config") or {}).get("error"), what="config error on status")
        assert "unknown driver 'dht99'" in refused["config"]["error"]
        assert refused["config"]["source"] == "file" and refused["config"]["sensors"] == ["air", "water"]
        before = agent.seq
        wait_until(lambda: agent.seq >= before + 5, 10, what="sampling continues with the old config")

        good = b'{"sensors": [{"name": "pond", "driver": "simulated", "interval": "0.2s", "quantities": ["water_ph"]}]}'
        publish_retained(broker.url, config_topic, good)
        applied = status_where(ingest, lambda s: (s.get("config") or {}).get("sensors") == ["pond"], what="applied")
        assert applied["config"] == {"source": "remote", "error": None, "sensors": ["pond"]}
        wait_until(lambda: "water_ph" in ingest.quantities, 10, what="readings of the new sensor")
        publish_retained(broker.url, config_topic, b"")  # clear, so the broker fixture stays clean


def test_a_sensor_giving_only_bad_values_is_reported_as_a_fault_and_others_keep_publishing(
    tmp_path: Path, broker: Mosquitto, ingest_for: Any
) -> None:
    sensors: list[dict[str, Any]] = [
        {"name": "air", "driver": "simulated", "interval": "0.2s", "quantities": ["air_temp"]},
        {"name": "broken", "driver": "simulated", "interval": "0.2s", "quantities": ["water_temp"], "fail_every": 1},
    ]
    cfg = load_node_config(write_config(tmp_path, broker.url, sensors))
    ingest = ingest_for(broker.url, cfg)
    with running(cfg):
        status = status_where(ingest, lambda s: s.get("faults"), what="a fault on status")
        assert set(status["faults"]) == {"broken"} and "water_temp is nan" in status["faults"]["broken"]
        wait_until(lambda: len(ingest.unique()) >= 5, 10, what="the healthy sensor's readings")


def test_unacknowledged_readings_are_sent_again_after_the_ack_timeout(
    tmp_path: Path, broker: Mosquitto, ingest_for: Any
) -> None:
    cfg = load_node_config(write_config(tmp_path, broker.url, spool={"ack_timeout": "1s"}))
    ingest = ingest_for(broker.url, cfg, acking=False)
    with running(cfg) as agent:
        twice = lambda: len(ingest.ts_received) > len(set(ingest.ts_received))  # noqa: E731
        wait_until(twice, 15, what="a reading sent twice")
        assert agent.forwarder.resent_rounds >= 1
        # Sent again under a rebased boot numbered from 0, so an ingest that lost track can ack it.
        assert (agent.boot, 0) in ingest.unique() and any(s == 0 and b != agent.boot for b, s in ingest.unique())
        assert agent.outbox.depth >= len(set(ingest.ts_received)) - 5, "nothing deleted without an ack"


def test_readings_taken_before_the_clock_is_set_are_held_then_stamped_correctly(
    tmp_path: Path, broker: Mosquitto, ingest_for: Any
) -> None:
    sync_file = tmp_path / "synchronized"
    cfg = load_node_config(write_config(tmp_path, broker.url, clock={"sync_file": str(sync_file)}))
    ingest = ingest_for(broker.url, cfg)
    wall = [0.0]  # a Pi without RTC boots in 1970
    times: dict[int, int] = {}
    original_decode = ingest._on_message

    def record(client: Any, userdata: Any, msg: Any) -> None:
        from contract.wire import decode_telemetry

        if msg.topic.endswith("/telemetry"):
            for r in decode_telemetry(msg.payload, cfg.node).readings:
                times[r.seq] = r.ts
        original_decode(client, userdata, msg)

    ingest.client.on_message = record
    clock = Clock(cfg.clock, wall_s=lambda: wall[0] or 86_400.0)
    with running(cfg, clock=clock) as agent:
        wait_until(lambda: agent.outbox.held >= 10, 10, what="10 held readings")
        assert status_where(ingest, lambda s: "before 2020" in s.get("clock", ""), what="clock problem on status")
        assert ingest.unique() == set(), "nothing is published with a 1970 date"
        wall[0] = time.time()  # NTP steps the clock, but has not yet said it is synchronised
        wait_until(lambda: agent.clock_problem and "not synchronised" in agent.clock_problem, 5)
        assert ingest.unique() == set()
        sync_file.write_text("")
        synced_at = time.time()
        wait_until(lambda: len(times) >= 10, 10, what="held readings published once the clock is sane")
    first = [times[s] for s in range(10)]
    assert first == sorted(first) and all(synced_at * 1000 - 30_000 < ts <= synced_at * 1000 for ts in first)
    # Held readings keep their monotonic spacing: whole intervals (a busy machine may skip a slot).
    assert all(b > a and (b - a + 5) % 200 <= 10 for a, b in itertools.pairwise(first))


def test_a_full_spool_reports_evictions_on_status(tmp_path: Path, broker: Mosquitto, ingest_for: Any) -> None:
    from edge.outbox import Outbox, Pending, body_of

    spool = tmp_path / "spool.sqlite"
    box = Outbox(spool, 10**9)
    ts = int(time.time() * 1000) - 3_600_000
    body = body_of({"air_temp": 25.0, "air_humidity": 70.0}, None, None)
    for seq in range(3000):
        box.add(Pending("oldboot", seq, ts + seq, "k", 0, body))
    box.flush()
    box.close()
    cfg = load_node_config(write_config(tmp_path, broker.url, spool={"max_bytes": "64KiB"}))
    ingest = ingest_for(broker.url, cfg)
    with running(cfg) as agent:
        status = status_where(ingest, lambda s: (s.get("spool") or {}).get("evicted"), what="evictions on status")
        kept = 3000 - status["spool"]["evicted"]
        # The survivors travel under an alias boot numbered from 0, so the cumulative ack passes the hole.
        alias = lambda: {seq for boot, seq in ingest.unique() if boot not in ("oldboot", agent.boot)}  # noqa: E731
        wait_until(lambda: alias() == set(range(kept)), 10, what="every surviving reading")
        wait_until(lambda: agent.outbox.depth <= 5, 10, what="the survivors acked and deleted")
    assert status["spool"]["evicted"] > 2000 and status["spool"]["bytes"] <= 65_536


def test_a_node_with_its_own_account_needs_only_the_topics_the_registry_grants(tmp_path: Path, ingest_for: Any) -> None:
    import subprocess

    port = free_port()
    cfg = load_node_config(
        write_config(tmp_path, f"mqtt://127.0.0.1:{port}", mqtt={"username": "node-acct", "password": "n0de"})
    )
    passwords, acl = tmp_path / "passwd", tmp_path / "acl"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwords), "node-acct", "n0de"], check=True)
    subprocess.run(["mosquitto_passwd", "-b", str(passwords), "svc", "s3rv"], check=True)
    passwords.chmod(0o600)
    base = f"farm/{cfg.site}/{cfg.node}"
    # The grants registry/broker_files.py writes for a node, and a service account.
    acl.write_text(
        f"user node-acct\ntopic write {base}/telemetry\ntopic write {base}/status\n"
        f"topic read {base}/config\ntopic read {base}/ack\n\nuser svc\ntopic readwrite farm/#\n"
    )
    acl.chmod(0o600)
    broker = Mosquitto(tmp_path / "mosq", port=port, password_file=passwords, acl_file=acl)
    broker.start()
    try:
        ingest = ingest_for(f"mqtt://svc:s3rv@127.0.0.1:{broker.port}", cfg)
        with running(cfg) as agent:
            wait_until(lambda: len(ingest.unique()) >= 5, 15, what="telemetry through the ACL")
            wait_until(lambda: agent.outbox.depth <= 3, 10, what="acks read through the ACL")
            status_where(ingest, lambda s: s["state"] == "online", what="status through the ACL")
    finally:
        broker.stop()
