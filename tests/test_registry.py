"""The registry: migrations, validation, hashed tokens, broker files, and the node/site/token commands."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from registry import broker_files, credentials, nodes, overrides, sites, tokens
from registry.db import Conflict, NotFound, RegistryError, migrate, migration_versions, open_registry


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    c = open_registry(f"sqlite:///{tmp_path / 'r.db'}")
    sites.add_site(c, "farm-a", "A", "rice_paddy", growing_area_code="VN-1")
    return c


def test_migrations_apply_once_and_record_their_version(conn: sqlite3.Connection) -> None:
    numbers = migration_versions()
    assert migrate(conn) == numbers[-1]
    assert migrate(conn) == numbers[-1]
    assert sorted(r[0] for r in conn.execute("SELECT version FROM schema_migrations")) == numbers


def test_postgresql_urls_get_a_clear_error() -> None:
    with pytest.raises(RegistryError, match="PostgreSQL"):
        open_registry("postgresql://db/registry")


@pytest.mark.parametrize(("call", "message"), [
    (lambda c: sites.add_site(c, "Farm A", "x", "rice_paddy"), "not a slug"),
    (lambda c: sites.add_site(c, "farm-x", "x", "durian"), "unknown profile"),
    (lambda c: sites.add_site(c, "farm-x", "x", "rice_paddy", lat=91), "lat"),
    (lambda c: sites.add_site(c, "farm-x", "x", "rice_paddy", growing_area_code="a b"), "growing-area"),
    (lambda c: nodes.add_node(c, "farm-a", "n1", "h", ["warp_speed"]), "unknown quantity"),
    (lambda c: nodes.add_node(c, "farm-a", "n1", "h", interval_s=1), "interval"),
    (lambda c: overrides.set_override(c, "farm-a", "air_temp", warn_high=40, crit_high=35), "crit_low"),
])
def test_bad_input_is_refused_with_a_reason(
    conn: sqlite3.Connection, call: Callable[[sqlite3.Connection], object], message: str
) -> None:
    with pytest.raises(RegistryError, match=message):
        call(conn)


def test_duplicates_and_unknowns_are_conflict_and_not_found(conn: sqlite3.Connection) -> None:
    with pytest.raises(Conflict):
        sites.add_site(conn, "farm-a", "again", "rice_paddy")
    nodes.add_node(conn, "farm-a", "n1", "h")
    with pytest.raises(Conflict):
        nodes.add_node(conn, "farm-a", "n1", "h")
    with pytest.raises(NotFound):
        nodes.add_node(conn, "farm-zz", "n1", "h")


def test_tokens_are_stored_only_as_hashes_and_stop_working_when_revoked(conn: sqlite3.Connection) -> None:
    token, secret = tokens.create_token(conn, "ông Ba", "farmer", ["farm-a"])
    dump = "\n".join(conn.iterdump())
    assert secret not in dump and tokens.token_hash(secret) in dump
    found = tokens.authenticate(conn, secret)
    assert found is not None and found.sites == {"farm-a"} and found.sees("farm-a") and not found.sees("farm-b")
    tokens.revoke_token(conn, token.id)
    assert tokens.authenticate(conn, secret) is None


def test_role_and_scope_rules_for_tokens(conn: sqlite3.Connection) -> None:
    with pytest.raises(RegistryError, match="farmer token needs"):
        tokens.create_token(conn, "x", "farmer")
    with pytest.raises(RegistryError, match="sees every site"):
        tokens.create_token(conn, "x", "officer", ["farm-a"])
    with pytest.raises(RegistryError, match="role"):
        tokens.create_token(conn, "x", "root")


def test_acl_gives_each_node_only_its_topics_and_services_everything(conn: sqlite3.Connection) -> None:
    nodes.add_node(conn, "farm-a", "n1", credentials.hash_password("p"))
    nodes.add_node(conn, "farm-a", "n2", credentials.hash_password("p"))
    nodes.revoke_node(conn, "farm-a", "n2")
    from registry.accounts import set_account

    set_account(conn, "analytics", credentials.hash_password("q"), "readwrite")
    acl = broker_files.render_acl(conn)
    assert "user analytics\ntopic readwrite farm/#" in acl
    assert (
        "user farm-a.n1\ntopic write farm/farm-a/n1/telemetry\ntopic write farm/farm-a/n1/status\n"
        "topic read farm/farm-a/n1/config\ntopic read farm/farm-a/n1/ack"
    ) in acl
    assert "n2" not in acl
    users = [line.split(":")[0] for line in broker_files.render_passwords(conn).splitlines()]
    assert users == ["analytics", "farm-a.n1"]


def test_a_failed_reload_is_reported_but_the_registry_change_stands(conn: sqlite3.Connection,
                                                                    tmp_path: Path) -> None:
    from registry import provision

    files = broker_files.BrokerFiles(tmp_path / "pw", tmp_path / "acl", f"pid:{tmp_path / 'missing.pid'}")
    done = provision.add_node(conn, files, "mqtt://broker:1883", "farm-a", "n1")
    assert done.broker_synced is False
    assert (tmp_path / "pw").read_text().startswith("farm-a.n1:$7$")
    assert nodes.get_node(conn, "farm-a", "n1").state == "active"


def _run(cmd: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_node_site_and_token_commands(ruongso_cmd: list[str], tmp_path: Path) -> None:
    env = {**os.environ, "RUONGSO_REGISTRY_URL": f"sqlite:///{tmp_path / 'r.db'}",
           "RUONGSO_MOSQUITTO_PASSWORD_FILE": str(tmp_path / "passwd"),
           "RUONGSO_MOSQUITTO_ACL_FILE": str(tmp_path / "acl"),
           "RUONGSO_NODE_MQTT_URL": "mqtts://broker.example.vn:8883"}
    # The first node of a site that is not registered yet registers the site with the given profile.
    added = _run([*ruongso_cmd, "node", "add", "--site", "hk-pond-1", "--node", "n01", "--profile", "fish_pond"],
                 env, tmp_path)

    assert added.returncode == 0, added.stderr
    assert "site hk-pond-1 added with profile fish_pond" in added.stderr
    config = yaml.safe_load((tmp_path / "hk-pond-1-n01.node.yaml").read_text())
    assert config["mqtt_url"] == "mqtts://broker.example.vn:8883" and config["username"] == "hk-pond-1.n01"
    assert oct((tmp_path / "hk-pond-1-n01.node.yaml").stat().st_mode & 0o777) == "0o600"
    assert config["password"] not in added.stdout
    hashed = (tmp_path / "passwd").read_text().strip().split(":", 1)[1]
    assert credentials.verify_password(config["password"], hashed)

    made = _run([*ruongso_cmd, "token", "create", "--role", "officer", "--name", "chi-cuc"], env, tmp_path)
    assert made.returncode == 0 and made.stdout.strip().startswith("rs_")
    listed = _run([*ruongso_cmd, "token", "list"], env, tmp_path)
    assert "officer" in listed.stdout and made.stdout.strip() not in listed.stdout

    other = _run([*ruongso_cmd, "node", "add", "--site", "hk-pond-1", "--node", "n02", "--profile", "pig_barn"],
                 env, tmp_path)
    assert other.returncode == 1 and "has profile 'fish_pond', not 'pig_barn'" in other.stderr

    revoked = _run([*ruongso_cmd, "node", "revoke", "--site", "hk-pond-1", "--node", "n01"], env, tmp_path)
    assert revoked.returncode == 0 and (tmp_path / "passwd").read_text() == ""


@pytest.mark.parametrize("args", [
    ["node", "add", "--site", "nowhere", "--node", "n1"],
    ["site", "add", "x", "--name", "x", "--profile", "durian"],
    ["token", "create", "--role", "farmer"],
    ["node", "revoke", "--site", "nowhere", "--node", "n1"],
])
def test_command_errors_are_one_line_without_a_traceback(ruongso_cmd: list[str], tmp_path: Path,
                                                         args: list[str]) -> None:
    env = {**os.environ, "RUONGSO_REGISTRY_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    done = _run([*ruongso_cmd, *args], env, tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("error: ") and "Traceback" not in done.stderr


def test_the_edge_agent_accepts_the_node_yaml_provisioning_writes(conn: sqlite3.Connection, tmp_path: Path) -> None:
    from edge.config import merge_provisioned
    from registry import node_yaml, provision

    done = provision.add_node(conn, broker_files.BrokerFiles(None, None), "mqtt://broker:1883", "farm-a", "n1",
                              ["air_temp", "air_humidity"], 30)
    node_yaml.save(done.config, tmp_path / "provisioned.yaml")

    merged, expected, interval = merge_provisioned({"provisioned": "provisioned.yaml"}, tmp_path)

    assert (merged["site"], merged["node"], expected, interval) == ("farm-a", "n1", ("air_temp", "air_humidity"), 30)
    assert merged["mqtt"] == {"url": "mqtt://broker:1883", "username": "farm-a.n1", "password": done.config["password"]}


def test_the_connection_pool_reuses_connections_and_returns_them_clean(tmp_path: Path) -> None:
    from registry.db import ConnectionPool

    url = f"sqlite:///{tmp_path / 'r.db'}"
    open_registry(url).close()
    pool = ConnectionPool(url, size=1)
    first = pool.acquire()
    first.execute("BEGIN")
    first.execute("INSERT INTO communes (slug, name) VALUES ('x', 'X')")
    pool.release(first)
    assert pool.acquire() is first
    assert first.execute("SELECT count(*) FROM communes").fetchone()[0] == 0
    second = pool.acquire()
    assert second is not first
    pool.release(first)
    pool.release(second)  # over the size: closed, not kept
    with pytest.raises(sqlite3.ProgrammingError):
        second.execute("SELECT 1")
    pool.close()
