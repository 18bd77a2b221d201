"""Stage, TAN test and outdoor node on a PostgreSQL registry: the upgrade from schema 1 keeps the sites, the checks
and the CHECK constraint hold, analytics reads them, and the API's PATCH works the same as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

import registry.db
from analytics.sites import SiteDirectory, registry_lookup
from api.app import create_app
from api.settings import ApiSettings
from registry import credentials, nodes, sites, tokens
from registry.db import Conflict, Connection, RegistryError, migrate, now_ms, open_registry
from registry.sites import TAN_MAX_AGE_MS
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto


@pytest.fixture
def conn(pg_url: str) -> Iterator[Connection]:
    c = open_registry(pg_url)
    sites.add_site(c, "ruong-ba", "Ruộng ông Ba", "rice_paddy")
    sites.add_site(c, "ao-tu", "Ao bà Tư", "fish_pond")
    sites.add_site(c, "trai-ga", "Trại gà", "poultry_barn")
    nodes.add_node(c, "trai-ga", "ngoai-troi", credentials.hash_password("unused"))
    nodes.add_node(c, "ao-tu", "phao-1", credentials.hash_password("unused"))
    yield c
    c.close()


def test_a_schema_1_registry_upgrades_with_its_sites_kept(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    every = registry.db._migrations()
    monkeypatch.setattr(registry.db, "_migrations", lambda: every[:1])
    c = open_registry(pg_url)
    c.execute("INSERT INTO sites (slug, name, profile, created_ms) VALUES ('old-1', 'Ruộng cũ', 'rice_paddy', 1)")
    monkeypatch.undo()

    assert migrate(c) == every[-1][0]
    old = sites.get_site(c, "old-1")
    assert (old.profile, old.stage, old.tan_mg_l, old.tan_measured_ms, old.outdoor_node) == ("rice_paddy", None,
                                                                                            None, None, None)
    assert sites.set_conditions(c, "old-1", stage="booting").stage == "booting"
    c.close()


def test_set_clear_and_refuse_on_postgresql(conn: Connection) -> None:
    s = sites.set_conditions(conn, "ao-tu", tan_mg_l=0.8123456789, tan_measured_ms=1_764_460_800_000)
    assert (s.tan_mg_l, s.tan_measured_ms) == (0.8123456789, 1_764_460_800_000)  # 8-byte REAL, BIGINT time
    s = sites.set_conditions(conn, "trai-ga", outdoor_node="ngoai-troi")
    assert s.outdoor_node == "ngoai-troi"
    with pytest.raises(RegistryError, match=r"has no node 'phao-1' \(it is a node of ao-tu\)"):
        sites.set_conditions(conn, "trai-ga", outdoor_node="phao-1")
    with pytest.raises(RegistryError, match="known: seedbed, establishment"):
        sites.set_conditions(conn, "ruong-ba", stage="ripe")
    # A refused change leaves the connection usable and the site as it was.
    assert sites.set_conditions(conn, "trai-ga", outdoor_node=None).outdoor_node is None
    assert sites.get_site(conn, "ao-tu").tan_mg_l == 0.8123456789
    # The database itself refuses a negative TAN.
    with pytest.raises(Conflict, match="tan_mg_l"), registry.db.transaction(conn):
        conn.execute("UPDATE sites SET tan_mg_l = -1 WHERE slug = 'ao-tu'")


def test_analytics_reads_stage_fresh_tan_and_outdoor_node_from_postgresql(conn: Connection, pg_url: str) -> None:
    sites.set_conditions(conn, "ruong-ba", stage="flowering")
    sites.set_conditions(conn, "ao-tu", tan_mg_l=0.8)
    sites.set_conditions(conn, "trai-ga", outdoor_node="ngoai-troi")
    directory = SiteDirectory(registry=registry_lookup(pg_url))
    assert directory.get("ruong-ba").stage == "flowering"
    assert directory.get("ao-tu").tan_mg_l == 0.8
    assert directory.get("trai-ga").outdoor_node == "ngoai-troi"
    sites.set_conditions(conn, "ao-tu", tan_mg_l=0.8, tan_measured_ms=now_ms() - TAN_MAX_AGE_MS - 60_000)
    assert "tan_mg_l" not in (registry_lookup(pg_url)("ao-tu") or {})


@pytest.fixture
def client(conn: Connection, pg_url: str, influxd: Influxd, influx: InfluxClient,
           broker: Mosquitto) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    auth = {role: {"Authorization": f"Bearer {tokens.create_token(conn, role, role)[1]}"}
            for role in ("technician", "officer")}
    auth["farmer"] = {"Authorization": f"Bearer {tokens.create_token(conn, 'ba-tu', 'farmer', ['ao-tu'])[1]}"}
    settings = ApiSettings(registry_url=pg_url, influx_url=influxd.url, influx_db=influx.database,
                           mqtt_url=broker.url)
    with TestClient(create_app(settings, influx=influx), raise_server_exceptions=False) as c:
        yield c, auth


def test_the_patch_route_on_postgresql(client: tuple[TestClient, dict[str, dict[str, str]]]) -> None:
    c, auth = client
    r = c.patch("/sites/trai-ga", headers=auth["technician"], json={"outdoor_node": "ngoai-troi"})
    assert r.status_code == 200 and r.json()["outdoor_node"] == "ngoai-troi", r.text
    r = c.patch("/sites/ao-tu", headers=auth["farmer"], json={"tan_mg_l": 1.1})
    assert r.status_code == 200 and (r.json()["tan_mg_l"], r.json()["tan_fresh"]) == (1.1, True), r.text
    assert c.patch("/sites/ao-tu", headers=auth["farmer"], json={"outdoor_node": "phao-1"}).status_code == 403
    assert c.patch("/sites/ruong-ba", headers=auth["officer"], json={"stage": "booting"}).status_code == 403
    bad = c.patch("/sites/ruong-ba", headers=auth["technician"], json={"stage": "fruiting"})
    assert bad.status_code == 422 and "not a stage of profile 'rice_paddy'" in bad.json()["message"]
