"""`ruongso dashboards sites --registry`: a real registry file and a real InfluxDB, checked through the district
map panel's own InfluxQL and the overview's site pickers, both taken from the committed board JSON."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dashboards import sites
from dashboards.check import tag_values
from dashboards.cli import app
from dashboards.grafana_render import render, resolve_variables
from registry.db import Connection, open_registry
from registry.sites import add_site
from ruongso.influx import InfluxClient
from ruongso.local_services import Influxd, free_port
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
OVERVIEW: dict[str, Any] = json.loads(
    (ROOT / "deploy/grafana/dashboards/ruongso-overview.json").read_text(encoding="utf-8"))
MAP = next(p for p in OVERVIEW["panels"] if p.get("type") == "geomap")
HOUR = 3_600_000
runner = CliRunner()
# The registry URL of whoever runs the tests must not leak into them.
NO_ENV = {"RUONGSO_REGISTRY_URL": ""}


def on_map(client: InfluxClient) -> dict[str, tuple[float, float, str]]:
    """site → (latitude, longitude, name) as the map panel places it: its query, read by its layer's fields."""
    location = MAP["options"]["layers"][0]["location"]
    now = int(time.time() * 1000)
    query = render(MAP["targets"][0]["query"], {}, now - 6 * HOUR, now, 60_000)
    rows = {s.tags["site"]: s.rows()[0] for s in client.query(query)}
    return {site: (r[location["latitude"]], r[location["longitude"]], r["name"]) for site, r in rows.items()}


def pickers(client: InfluxClient) -> dict[str, list[str]]:
    """The overview's hidden per-profile site variables (they feed the key-readings panels)."""
    now = int(time.time() * 1000)
    found = resolve_variables(OVERVIEW, lambda q: tag_values(client, q), now - HOUR, now, 60_000)
    return {name: v.values for name, v in found.items() if v.values}


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[tuple[str, Connection]]:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    conn = open_registry(url)
    yield url, conn
    conn.close()


def move(conn: Connection, slug: str, lat: float, lon: float) -> None:
    # The registry has no command that moves a site yet; the map must follow the table either way.
    conn.execute("UPDATE sites SET lat = ?, lon = ? WHERE slug = ?", (lat, lon, slug))


def run_sites(client: InfluxClient, *args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, ["sites", *args, "--influx-url", client.url, "--influx-db", client.database],
                         env=env or NO_ENV)


def test_registered_sites_are_on_the_map_at_their_coordinates_and_a_move_moves_them(
    influx: InfluxClient, registry: tuple[str, Connection],
) -> None:
    url, conn = registry
    add_site(conn, "tu-ky-lua", "Ruộng lúa HTX Tứ Kỳ", "rice_paddy", lat=20.8213, lon=106.4017)
    add_site(conn, "tu-ky-ao", "Ao cá \"Bà Tư\"", "fish_pond", lat=20.80455, lon=106.41)
    add_site(conn, "tu-ky-chuong", "Chuồng lợn chưa đo", "pig_barn")

    first = run_sites(influx, "--registry", url)
    assert first.exit_code == 0, first.output
    assert "2 registry sites on the boards" in first.output and "2 written, 0 unchanged" in first.output
    assert "1 site without coordinates" in first.output and "tu-ky-chuong" in first.output
    assert on_map(influx) == {"tu-ky-lua": (20.8213, 106.4017, "Ruộng lúa HTX Tứ Kỳ"),
                              "tu-ky-ao": (20.80455, 106.41, 'Ao cá "Bà Tư"')}
    assert pickers(influx) == {"sites_rice_paddy": ["tu-ky-lua"], "sites_fish_pond": ["tu-ky-ao"]}

    move(conn, "tu-ky-ao", 20.9001, 106.3502)
    second = run_sites(influx, "--registry", url)
    assert second.exit_code == 0, second.output
    assert "1 written, 1 unchanged" in second.output
    assert on_map(influx)["tu-ky-ao"] == (20.9001, 106.3502, 'Ao cá "Bà Tư"')
    assert on_map(influx)["tu-ky-lua"] == (20.8213, 106.4017, "Ruộng lúa HTX Tứ Kỳ")

    third = run_sites(influx, "--registry", url)
    assert "0 written, 2 unchanged" in third.output, "an unchanged registry writes nothing"
    assert influx.query('SELECT count("lat") FROM "site_info"')[0].values[0][1] == 3


def test_a_site_gone_from_the_registry_or_its_coordinates_leaves_the_map_and_the_pickers_a_file_site_stays(
    influx: InfluxClient, registry: tuple[str, Connection], tmp_path: Path,
) -> None:
    url, conn = registry
    add_site(conn, "lua-1", "Lúa 1", "rice_paddy", lat=20.81, lon=106.40)
    add_site(conn, "lua-2", "Lúa 2", "rice_paddy", lat=20.82, lon=106.40)
    add_site(conn, "ao-1", "Ao 1", "fish_pond", lat=20.83, lon=106.40)
    hand = tmp_path / "sites.yaml"
    hand.write_text("- {site: trai-mau, profile: pig_barn, lat: 20.7, lon: 106.3, name: Trại mẫu}\n")
    assert run_sites(influx, str(hand)).exit_code == 0
    assert run_sites(influx, "--registry", url).exit_code == 0
    assert set(on_map(influx)) == {"lua-1", "lua-2", "ao-1", "trai-mau"}

    conn.execute("DELETE FROM sites WHERE slug = 'lua-2'")
    conn.execute("UPDATE sites SET lat = NULL WHERE slug = 'ao-1'")
    result = run_sites(influx, "--registry", url)
    assert result.exit_code == 0, result.output
    assert "removed: ao-1, lua-2" in result.output and "without coordinates" in result.output
    assert on_map(influx) == {"lua-1": (20.81, 106.40, "Lúa 1"), "trai-mau": (20.7, 106.3, "Trại mẫu")}
    assert pickers(influx) == {"sites_rice_paddy": ["lua-1"], "sites_pig_barn": ["trai-mau"]}


def test_a_new_point_is_stamped_after_the_newest_one_even_if_that_is_ahead_of_our_clock(
    influx: InfluxClient, registry: tuple[str, Connection],
) -> None:
    url, conn = registry
    add_site(conn, "lua-1", "Lúa 1", "rice_paddy", lat=20.81, lon=106.40)
    ahead = int(time.time() * 1000) + HOUR
    influx.write([sites.Site("lua-1", "rice_paddy", 1.0, 2.0, "Lúa 1", sites.SOURCE_REGISTRY).to_line(ahead)])
    assert run_sites(influx, "--registry", url).exit_code == 0
    assert on_map(influx) == {"lua-1": (20.81, 106.40, "Lúa 1")}


def test_the_registry_url_setting_is_read_when_no_file_or_flag_is_given(
    influx: InfluxClient, registry: tuple[str, Connection],
) -> None:
    url, conn = registry
    add_site(conn, "lua-1", "Lúa 1", "rice_paddy", lat=20.81, lon=106.40)
    result = run_sites(influx, env={"RUONGSO_REGISTRY_URL": url})
    assert result.exit_code == 0, result.output
    assert set(on_map(influx)) == {"lua-1"}


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: f"sqlite:///{d / 'nowhere' / 'registry.db'}", "does not exist"),
    (lambda d: (d / "notes.db").write_text("not a database " * 100) and f"sqlite:///{d / 'notes.db'}",
     "cannot read the sites of registry"),
    (lambda d: "mysql://host/db", "must look like sqlite:///"),
    (lambda d: f"postgresql://ruongso:s3cret@127.0.0.1:{free_port()}/registry", "cannot open PostgreSQL registry"),
])
def test_a_missing_or_unreadable_registry_is_a_one_line_error_and_nothing_is_written(
    influx: InfluxClient, tmp_path: Path, make: Any, message: str,
) -> None:
    result = run_sites(influx, "--registry", make(tmp_path))
    assert result.exit_code == 1
    assert message in result.output and result.output.count("\n") == 1 and "Traceback" not in result.output
    assert "s3cret" not in result.output
    assert not (tmp_path / "nowhere").exists(), "reading the map's sites never creates a registry"
    assert influx.query('SELECT * FROM "site_info"') == []


@pytest.mark.parametrize(("args", "message"), [
    (["sites.yaml", "--registry", "sqlite:///r.db"], "not both"),
    ([], "nothing to load"),
    (["sites.yaml", "--every", "1m"], "loaded once"),
    (["--registry", "sqlite:///r.db", "--every", "soon"], "--every"),
    (["--registry", "sqlite:///r.db", "--every", "0"], "at least 1s"),
])
def test_contradicting_or_missing_options_are_refused(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["sites", *args], env=NO_ENV)
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def _query_as(url: str, q: str, user: str = "admin", password: str = "a") -> None:
    params = urllib.parse.urlencode({"u": user, "p": password})
    with urllib.request.urlopen(f"{url}/query?{params}", data=urllib.parse.urlencode({"q": q}).encode()) as r:
        assert r.status == 200


def test_removal_works_with_the_services_influxdb_account(
    tmp_path: Path, registry: tuple[str, Connection],
) -> None:
    """The compose service writes as INFLUXDB_USER, which the influxdb image grants ALL on the database
    (read and write, not admin): DROP SERIES must not need more."""
    url, conn = registry
    add_site(conn, "lua-1", "Lúa 1", "rice_paddy", lat=20.81, lon=106.40)
    add_site(conn, "lua-2", "Lúa 2", "rice_paddy", lat=20.82, lon=106.40)
    server = Influxd(tmp_path / "influxd", auth=True)
    with server:
        _query_as(server.url, "CREATE USER admin WITH PASSWORD 'a' WITH ALL PRIVILEGES")
        _query_as(server.url, "CREATE DATABASE farm")
        _query_as(server.url, "CREATE USER ruongso WITH PASSWORD 'r'")
        _query_as(server.url, 'GRANT ALL ON "farm" TO "ruongso"')
        env = {**NO_ENV, "RUONGSO_INFLUX_USER": "ruongso", "RUONGSO_INFLUX_PASSWORD": "r"}
        with InfluxClient(server.url, "farm", "ruongso", "r") as client:
            assert run_sites(client, "--registry", url, env=env).exit_code == 0
            conn.execute("DELETE FROM sites WHERE slug = 'lua-2'")
            result = run_sites(client, "--registry", url, env=env)
            assert result.exit_code == 0, result.output
            assert set(on_map(client)) == {"lua-1"}


def test_every_keeps_the_map_in_step_until_stopped_and_waits_for_a_registry_not_created_yet(
    influx: InfluxClient, tmp_path: Path, ruongso_cmd: list[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    log = tmp_path / "sites.log"
    env = {**os.environ, "RUONGSO_REGISTRY_URL": url, "RUONGSO_INFLUX_URL": influx.url,
           "RUONGSO_INFLUX_DB": influx.database}
    with log.open("wb") as out:
        proc = subprocess.Popen([*ruongso_cmd, "dashboards", "sites", "--every", "1s"], env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: "does not exist" in log.read_text(), 20, what="the missing registry logged")
        conn = open_registry(url)
        try:
            add_site(conn, "lua-1", "Lúa 1", "rice_paddy", lat=20.81, lon=106.40)
            wait_until(lambda: on_map(influx) == {"lua-1": (20.81, 106.40, "Lúa 1")}, 20, what="the site mapped")
            move(conn, "lua-1", 20.91, 106.5)
            wait_until(lambda: on_map(influx) == {"lua-1": (20.91, 106.5, "Lúa 1")}, 20, what="the site moved")
            conn.execute("DELETE FROM sites WHERE slug = 'lua-1'")
            wait_until(lambda: on_map(influx) == {}, 20, what="the site removed")
        finally:
            conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert text.count("site_info_sync_failed") == 1, "a failure that repeats is logged once"
    assert "site_info_synced" in text and "site_info_sync_stopped" in text and "Traceback" not in text


def test_a_database_name_influxdb_would_refuse_is_a_one_line_error(registry: tuple[str, Connection]) -> None:
    url, conn = registry
    add_site(conn, "lua-1", "Lúa 1", "rice_paddy", lat=20.81, lon=106.40)
    result = runner.invoke(app, ["sites", "--registry", url, "--influx-db", "farm; DROP"], env=NO_ENV)
    assert result.exit_code == 1 and "not a valid identifier" in result.output and "Traceback" not in result.output
