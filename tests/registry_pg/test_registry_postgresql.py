"""The registry on PostgreSQL: the same query modules, CLI and API as on SQLite, against a real server."""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import ApiSettings
from registry import alert_actions, broker_files, contacts, credentials, nodes, overrides, provision, sites, tokens
from registry.db import (
    Conflict,
    Connection,
    ConnectionPool,
    NotFound,
    PgConnection,
    RegistryError,
    migrate,
    migration_versions,
    open_registry,
)
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, Mosquitto


@pytest.fixture
def conn(pg_url: str) -> Iterator[Connection]:
    c = open_registry(pg_url)
    sites.add_commune(c, "an-thanh", "An Thanh", "Tứ Kỳ", "Hải Dương")
    sites.add_site(c, "farm-a", "Ruộng ông Ba", "rice_paddy", "an-thanh", 20.8123456, 106.4123456, "VN-HD-TK-01")
    yield c
    c.close()


def test_migrations_apply_once_and_twice_is_a_no_op(conn: Connection) -> None:
    assert isinstance(conn, PgConnection)
    numbers = migration_versions()
    assert migrate(conn) == numbers[-1]
    assert migrate(conn) == numbers[-1]
    assert sorted(r[0] for r in conn.execute("SELECT version FROM schema_migrations")) == numbers


def test_concurrent_openers_migrate_once(pg_url: str) -> None:
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            open_registry(pg_url).close()
        except BaseException as exc:  # a thread must hand every failure to the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    applied = open_registry(pg_url).execute("SELECT count(*) FROM schema_migrations").fetchone()[0]
    assert applied == len(migration_versions())


def test_sites_keep_eight_byte_coordinates_and_ids_count_up(conn: Connection) -> None:
    site = sites.get_site(conn, "farm-a")
    assert (site.lat, site.lon, site.commune, site.growing_area_code) == (20.8123456, 106.4123456, "an-thanh",
                                                                          "VN-HD-TK-01")
    second = sites.add_commune(conn, "hung-dao", "Hưng Đạo")
    assert second.id == sites.list_communes(conn)[1].id == 2
    assert [s.slug for s in sites.list_sites(conn, growing_area_code="VN-HD-TK-01")] == ["farm-a"]


def test_duplicates_are_conflict_unknowns_not_found_and_the_connection_stays_usable(conn: Connection) -> None:
    with pytest.raises(Conflict):
        sites.add_site(conn, "farm-a", "again", "rice_paddy")
    nodes.add_node(conn, "farm-a", "n1", "h")
    with pytest.raises(Conflict):
        nodes.add_node(conn, "farm-a", "n1", "h")
    with pytest.raises(NotFound):
        nodes.add_node(conn, "farm-zz", "n1", "h")
    assert not conn.in_transaction
    assert [n.slug for n in nodes.list_nodes(conn, "farm-a")] == ["n1"]


def test_contacts_overrides_acks_and_silences(conn: Connection) -> None:
    c = contacts.add_contact(conn, "Nguyễn Văn Ba", "farmer", phone="+84912345678", channels=["zalo", "sms"])
    contacts.link(conn, "farm-a", c.id, is_owner=True)
    contacts.link(conn, "farm-a", c.id, is_owner=True)  # ON CONFLICT … DO UPDATE: still one link
    [linked] = contacts.site_contacts(conn, "farm-a")
    assert (linked.contact.name, linked.contact.channels, linked.is_owner) == ("Nguyễn Văn Ba", ["zalo", "sms"], True)
    assert contacts.contact_sites(conn, c.id) == {"farm-a"}

    overrides.set_override(conn, "farm-a", "water_level", warn_low=3.5, crit_low=1.5, note="lúa đẻ nhánh")
    overrides.set_override(conn, "farm-a", "water_level", warn_low=4.0, crit_low=2.0)
    assert [(o.quantity, o.warn_low, o.crit_low) for o in overrides.list_overrides(conn, "farm-a")] == [
        ("water_level", 4.0, 2.0)]
    overrides.delete_override(conn, "farm-a", "water_level")
    assert overrides.list_overrides(conn, "farm-a") == []
    with pytest.raises(NotFound):
        overrides.delete_override(conn, "farm-a", "water_level")

    alert_actions.acknowledge(conn, "farm-a", "a-1", "ông Ba", "đã bơm nước")
    assert set(alert_actions.acks_for(conn, ["a-1", "a-2"])) == {"a-1"}
    s = alert_actions.silence(conn, "farm-a", None, 1_000, 2_000, "technician", "thay cảm biến")
    assert s.id == alert_actions.silences(conn, "farm-a", at_ms=1_500)[0].id
    assert alert_actions.is_silenced(conn, "farm-a", "n1", at_ms=1_500)
    assert alert_actions.cancel_silence(conn, s.id).cancelled_ms is not None


def test_node_add_then_revoke_rewrites_the_broker_files(conn: Connection, tmp_path: Path) -> None:
    files = broker_files.BrokerFiles(tmp_path / "passwd", tmp_path / "acl", "")
    done = provision.add_node(conn, files, "mqtt://broker:1883", "farm-a", "n1", ["water_level"], 30)
    hashed = (tmp_path / "passwd").read_text().strip().split(":", 1)[1]
    assert credentials.verify_password(done.config["password"], hashed)
    assert "topic write farm/farm-a/n1/telemetry" in (tmp_path / "acl").read_text()
    node, _ = provision.revoke_node(conn, files, "farm-a", "n1")
    assert node.state == "revoked" and node.revoked_ms is not None
    assert (tmp_path / "passwd").read_text() == "" and "farm-a/n1" not in (tmp_path / "acl").read_text()
    with pytest.raises(Conflict):
        nodes.revoke_node(conn, "farm-a", "n1")


def test_tokens_authenticate_until_revoked(conn: Connection) -> None:
    token, secret = tokens.create_token(conn, "ông Ba", "farmer", ["farm-a"])
    found = tokens.authenticate(conn, secret)
    assert found is not None and found.id == token.id and found.sites == {"farm-a"}
    assert tokens.authenticate(conn, secret + "x") is None
    tokens.revoke_token(conn, token.id)
    assert tokens.authenticate(conn, secret) is None
    assert [t.id for t in tokens.list_tokens(conn)] == [token.id]


def test_the_pool_returns_connections_clean_and_drops_broken_ones(pg_url: str) -> None:
    open_registry(pg_url).close()
    pool = ConnectionPool(pg_url, size=2)
    first = pool.acquire()
    first.execute("BEGIN")
    first.execute("INSERT INTO communes (slug, name) VALUES ('x', 'X')")
    pool.release(first)
    assert pool.acquire() is first and not first.in_transaction
    assert first.execute("SELECT count(*) FROM communes").fetchone()[0] == 0
    first.close()  # as if the server had dropped it
    pool.release(first)
    assert pool.acquire() is not first
    pool.close()


def test_unreachable_servers_give_a_clear_error_without_the_password(postgres_server: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with pytest.raises(RegistryError, match=r"cannot open PostgreSQL registry postgresql://ruongso:\*\*\*@") as info:
        open_registry(f"postgresql://ruongso:s3cret@127.0.0.1:{closed_port}/registry")
    assert "s3cret" not in str(info.value)
    with pytest.raises(RegistryError, match="port must be a number"):
        open_registry("postgresql://u@host:port/db")


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_node_site_and_token_commands(ruongso_cmd: list[str], pg_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "RUONGSO_REGISTRY_URL": pg_url, "RUONGSO_MOSQUITTO_PASSWORD_FILE": str(tmp_path / "pw"),
           "RUONGSO_MOSQUITTO_ACL_FILE": str(tmp_path / "acl")}
    added = _run([*ruongso_cmd, "node", "add", "--site", "hk-pond-1", "--node", "n01", "--profile", "fish_pond"],
                 env, tmp_path)
    assert added.returncode == 0, added.stderr
    config = yaml.safe_load((tmp_path / "hk-pond-1-n01.node.yaml").read_text())
    assert credentials.verify_password(config["password"], (tmp_path / "pw").read_text().strip().split(":", 1)[1])
    assert "hk-pond-1" in _run([*ruongso_cmd, "site", "list"], env, tmp_path).stdout
    made = _run([*ruongso_cmd, "token", "create", "--role", "officer", "--name", "chi-cuc"], env, tmp_path)
    assert made.returncode == 0 and made.stdout.strip().startswith("rs_")
    assert "officer" in _run([*ruongso_cmd, "token", "list"], env, tmp_path).stdout
    revoked = _run([*ruongso_cmd, "node", "revoke", "--site", "hk-pond-1", "--node", "n01"], env, tmp_path)
    assert revoked.returncode == 0 and (tmp_path / "pw").read_text() == ""
    again = _run([*ruongso_cmd, "node", "revoke", "--site", "hk-pond-1", "--node", "n01"], env, tmp_path)
    assert again.returncode == 1 and again.stderr.startswith("error: ") and "Traceback" not in again.stderr


def test_notify_routing_and_analytics_overrides_read_the_postgresql_registry(conn: Connection, pg_url: str) -> None:
    from analytics.sites import registry_lookup
    from notify.routing_registry import RegistryDirectory

    c = contacts.add_contact(conn, "Nguyễn Văn Ba", "farmer", zalo_id="z123", channels=["zalo"])
    contacts.link(conn, "farm-a", c.id, is_owner=True)
    overrides.set_override(conn, "farm-a", "water_level", warn_low=4.0, crit_low=2.0)
    alert_actions.acknowledge(conn, "farm-a", "a-1", "ông Ba")

    directory = RegistryDirectory(pg_url)
    try:
        [who] = directory.recipients("farm-a", "farmer", "warning")
        assert who.name == "Nguyễn Văn Ba" and directory.site_name("farm-a") == "Ruộng ông Ba"
        assert directory.acknowledged("a-1") and not directory.acknowledged("a-2")
    finally:
        directory.close()

    doc = registry_lookup(pg_url)("farm-a")
    assert doc is not None and doc["profile"] == "rice_paddy" and doc["lat"] == 20.8123456
    assert doc["overrides"]["water_level"] == {"warn_low": 4.0, "warn_high": None, "crit_low": 2.0,
                                               "crit_high": None}
    assert registry_lookup(pg_url)("farm-zz") is None


@pytest.fixture
def api(pg_url: str, influxd: Influxd, influx: InfluxClient, broker: Mosquitto) -> Iterator[tuple[TestClient, dict]]:
    conn = open_registry(pg_url)
    sites.add_site(conn, "farm-a", "Ruộng ông Ba", "rice_paddy", None, 20.8, 106.4)
    sites.add_site(conn, "farm-b", "Ao cá bà Tư", "fish_pond")
    auth = {role: {"Authorization": f"Bearer {tokens.create_token(conn, role, role)[1]}"}
            for role in ("admin", "technician")}
    auth["farmer_a"] = {"Authorization": f"Bearer {tokens.create_token(conn, 'ong-ba', 'farmer', ['farm-a'])[1]}"}
    conn.close()
    settings = ApiSettings(registry_url=pg_url, influx_url=influxd.url, influx_db=influx.database,
                           mqtt_url=broker.url)
    with TestClient(create_app(settings, influx=influx), raise_server_exceptions=False) as client:
        yield client, auth


def test_the_api_serves_the_registry_from_postgresql(api: tuple[TestClient, dict], pg_url: str) -> None:
    client, auth = api
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["registry"] is True
    assert [s["slug"] for s in client.get("/sites", headers=auth["farmer_a"]).json()] == ["farm-a"]
    assert client.get("/sites/farm-b", headers=auth["farmer_a"]).status_code == 403
    assert client.get("/sites", headers={"Authorization": "Bearer rs_nope"}).status_code == 401

    made = client.post("/nodes", headers=auth["technician"], json={"site": "farm-b", "node": "n01"})
    assert made.status_code == 201, made.text
    password = made.json()["config"]["password"]
    assert credentials.verify_password(password, nodes.get_node(open_registry(pg_url), "farm-b", "n01").credential_hash)
    assert client.post("/nodes", headers=auth["admin"], json={"site": "farm-b", "node": "n01"}).status_code == 409
    revoked = client.post("/sites/farm-b/nodes/n01/revoke", headers=auth["technician"])
    assert revoked.status_code == 200 and revoked.json()["node"]["state"] == "revoked"

    put = client.put("/sites/farm-b/overrides/dissolved_oxygen", headers=auth["admin"],
                     json={"warn_low": 3.5, "crit_low": 2.5, "note": "cá rô phi"})
    assert put.status_code == 200, put.text
    assert client.delete("/sites/farm-b/overrides/dissolved_oxygen", headers=auth["admin"]).status_code == 204
    contact = client.post("/sites/farm-a/contacts", headers=auth["admin"],
                          json={"name": "Nguyễn Văn Ba", "role": "farmer", "phone": "+84912345678",
                                "channels": ["sms"], "owner": True})
    assert contact.status_code == 201, contact.text
    assert [c["owner"] for c in client.get("/sites/farm-a/contacts", headers=auth["admin"]).json()] == [True]

    token = client.post("/tokens", headers=auth["admin"], json={"name": "bà Tư", "role": "farmer",
                                                               "sites": ["farm-b"]}).json()
    new = {"Authorization": f"Bearer {token['token']}"}
    assert [s["slug"] for s in client.get("/sites", headers=new).json()] == ["farm-b"]
    assert client.delete(f"/tokens/{token['id']}", headers=auth["admin"]).status_code == 200
    assert client.get("/sites", headers=new).status_code == 401
