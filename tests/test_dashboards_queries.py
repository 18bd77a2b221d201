"""Every query of every board, rendered as Grafana renders it, returns data from a real InfluxDB
filled the way docs/influx-schema.md says the writers fill it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from contract.quantities import QUANTITIES
from contract.wire import Reading, to_line
from dashboards import sites
from dashboards.boards import all_boards
from dashboards.check import check_board
from dashboards.labels import DERIVED
from ruongso import profiles
from ruongso.influx import InfluxClient

MINUTE = 60_000
HOUR = 60 * MINUTE
NODES = ("n1", "n2")
ICT_OFFSET = 7 * HOUR


def site_of(profile_id: str) -> str:
    return "s-" + profile_id.replace("_", "-")


def _mid(q: str) -> float:
    spec = QUANTITIES[q]
    return round((spec.plausible_min + spec.plausible_max) / 2, 2)


def _readings(now: int) -> Iterator[str]:
    for p in profiles.load()["profiles"]:
        measured = profiles.measured_quantities(p["id"])
        for node in NODES:
            for i in range(180):  # one reading a minute for 3 h
                ts = now - (180 - i) * MINUTE
                m = {q: (0.5 if q == "rain" else _mid(q)) for q in measured}
                r = Reading(node=node, boot="b1", seq=i, ts=ts, m=m, battery_v=3.9, rssi=-70.0)
                yield to_line(site_of(p["id"]), r)


def _alert(site: str, node: str, rule: str, kind: str, severity: str, state: str, alert_id: str, started: int,
           ts: int) -> str:
    return (f"alert,site={site},node={node},rule={rule},kind={kind},audience=farmer,severity={severity},"
            f'state={state} id="{alert_id}",quantity="air_temp",unit="°C",text_vi="Nắng nóng",text_en="Heat",'
            f"value=36.5,threshold=35.0,started={started}i {ts}")


def _by_hand(now: int) -> Iterator[str]:
    day_start = (now + ICT_OFFSET) // (24 * HOUR) * (24 * HOUR) - ICT_OFFSET  # 00:00 ICT today
    for p in profiles.load()["profiles"]:
        site = site_of(p["id"])
        for node in NODES:
            tags = f"site={site},node={node}"
            for i in range(12):
                ts = now - (12 - i) * 10 * MINUTE
                online, faults = (1, "") if node == "n1" else (0, "soil_moisture")
                yield (f'node_status,{tags} online={online}i,state="{"online" if online else "offline"}",'
                       f'fw="1.2.0",uptime_s={i * 600.0},spool_depth={i}i,sensor_faults="{faults}" {ts}')
                yield f"node_health,{tags} received=10i,duplicates=1i,gaps={i % 3}i,last_seq={i * 10}i {ts}"
            for i in range(120):
                ts = now - (120 - i) * MINUTE
                instant = ",".join(f"{d.name}={1.0 + i / 100}" for d in DERIVED if not d.daily)
                yield f"derived,{tags} {instant} {ts}"
            daily = ",".join(f"{d.name}={5.0}" for d in DERIVED if d.daily)
            yield f"derived,{tags} {daily} {day_start}"
        yield _alert(site, "n1", "r-hot", "agronomic", "critical", "firing", f"a1-{site}", now - HOUR, now - HOUR)
        yield _alert(site, "n1", "r-dry", "agronomic", "warning", "firing", f"a2-{site}", now - 2 * HOUR,
                     now - 2 * HOUR)
        yield _alert(site, "n1", "r-dry", "agronomic", "warning", "acknowledged", f"a2-{site}", now - 2 * HOUR,
                     now - HOUR)
        yield _alert(site, "n2", "stuck", "sensor", "warning", "resolved", f"a3-{site}", now - 3 * HOUR,
                     now - 30 * MINUTE)
    for i in range(360):  # every 10 s for an hour
        ts = now - (360 - i) * 10_000
        yield (f"pipeline,instance=ingest-1 messages_in={i * 20}i,points_written={i * 19}i,rejected={i}i,"
               f"influx_errors={i // 60}i,spool_bytes={(i % 7) * 1024}i,dead_letters={i // 120}i,"
               f"write_latency_ms_p95={12.5 + i % 5},batch_size_mean=19.0 {ts}")
    for i, reason in enumerate(("malformed_json", "implausible", "bad_ts")):
        yield (f'rejected,site=s-rice-paddy,node=n1,reason={reason} count=1i,topic="farm/s-rice-paddy/n1/telemetry",'
               f'detail="test",payload="{{}}" {now - (i + 1) * MINUTE}')


@pytest.fixture(scope="module")
def farm_db(influxd) -> Iterator[tuple[InfluxClient, int]]:  # type: ignore[no-untyped-def]
    client = InfluxClient(influxd.url, "dashboards_farm")
    client.create_database()
    now = int(time.time() * 1000)
    site_list = [sites.Site(site_of(p["id"]), p["id"], 20.8 + i / 100, 106.4, p["name_vi"])
                 for i, p in enumerate(profiles.load()["profiles"])]
    client.write(sites.lines(site_list, now - 2 * HOUR))
    lines = [*_readings(now), *_by_hand(now)]
    for start in range(0, len(lines), 5000):
        client.write(lines[start:start + 5000])
    yield client, now
    client.close()


@pytest.mark.parametrize("uid", [b.uid for b in all_boards()])
def test_every_query_of_the_board_returns_data(farm_db: tuple[InfluxClient, int], uid: str) -> None:
    client, now = farm_db
    board = next(b for b in all_boards() if b.uid == uid).to_json()
    results = check_board(board, client, from_ms=now - 24 * HOUR, to_ms=now + MINUTE, interval_ms=MINUTE)
    assert results, "a board with no queries"
    failed = [f"{r.panel} [{r.ref_id}]: {r.error or 'no rows'}\n    {r.query}" for r in results if not r.ok]
    assert not failed, "queries without data:\n" + "\n".join(failed)


def test_sites_without_site_info_leave_the_map_empty_not_broken(influx: InfluxClient) -> None:
    """A fresh deployment before any site is registered: queries run, they just return nothing."""
    now = int(time.time() * 1000)
    influx.write([to_line("s-x", Reading("n1", "b", 1, now - MINUTE, {"air_temp": 25.0}))])
    board = next(b for b in all_boards() if b.uid == "ruongso-overview").to_json()
    results = check_board(board, influx, from_ms=now - HOUR, to_ms=now, interval_ms=MINUTE)
    assert all(not r.error for r in results), [r.error for r in results if r.error]
    assert not next(r for r in results if r.panel == "Bản đồ các điểm").ok


@pytest.fixture(scope="module")
def simulated_db(influxd) -> Iterator[tuple[InfluxClient, int]]:  # type: ignore[no-untyped-def]
    """Two hours of the simulator's farm (one site per production type), decoded by the contract as ingest does."""
    from contract.topics import NodeTopic, NodeTopicKind
    from contract.wire import decode_telemetry
    from simulators.farm import Farm, FarmConfig

    client = InfluxClient(influxd.url, "dashboards_sim")
    client.create_database()
    now = int(time.time() * 1000)
    farm = Farm(FarmConfig(start_ms=now - 2 * HOUR, duration_s=2 * 3600, sites=7, nodes_per_site=2, seed=3))
    lines = sites.lines(sites.parse(farm.manifest()), now - 3 * HOUR)
    for msg in farm.messages():
        topic = NodeTopic.parse(msg.topic)
        if topic.kind is NodeTopicKind.TELEMETRY:
            lines += [to_line(topic.site, r) for r in decode_telemetry(msg.payload, topic.node, now_ms=now).readings]
    client.write(lines)
    yield client, now
    client.close()


@pytest.mark.parametrize("uid", [b.uid for b in all_boards() if b.uid.startswith("ruongso-site-")])
def test_reading_panels_show_the_simulated_farm(simulated_db: tuple[InfluxClient, int], uid: str) -> None:
    client, now = simulated_db
    board = next(b for b in all_boards() if b.uid == uid).to_json()
    results = [r for r in check_board(board, client, from_ms=now - 6 * HOUR, to_ms=now, interval_ms=MINUTE)
               if '"reading"' in r.query]
    assert len(results) >= 5
    failed = [f"{r.panel}: {r.error or 'no rows'}" for r in results if not r.ok]
    assert not failed, failed
