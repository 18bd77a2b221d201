"""`ruongso dashboards build|push|sites`: push against a local server that answers as Grafana's HTTP API
documents (POST /api/dashboards/db, /api/folders, GET /api/datasources/uid/…, Bearer service-account token)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dashboards import build
from dashboards.cli import app
from dashboards.model import DATASOURCE_UID
from ruongso.influx import InfluxClient
from tests.http_json import send_json

TOKEN = "glsa_test_token_123"
runner = CliRunner()


class FakeGrafana(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), GrafanaHandler)
        self.datasources = {DATASOURCE_UID}
        self.folders: dict[str, str] = {}
        self.dashboards: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class GrafanaHandler(BaseHTTPRequestHandler):
    server: FakeGrafana

    def log_message(self, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        send_json(self, status, body)

    def _authorised(self) -> bool:
        self.server.requests.append((self.command, self.path))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"message": "Unauthorized"})
            return False
        return True

    def _body(self) -> dict[str, Any]:
        return json.loads(self.rfile.read(int(self.headers["Content-Length"])))  # type: ignore[no-any-return]

    def do_GET(self) -> None:
        if not self._authorised():
            return
        if self.path.startswith("/api/datasources/uid/"):
            uid = self.path.rsplit("/", 1)[1]
            if uid in self.server.datasources:
                self._reply(200, {"uid": uid, "type": "influxdb"})
            else:
                self._reply(404, {"message": "Data source not found"})
        elif self.path.startswith("/api/folders/"):
            uid = self.path.rsplit("/", 1)[1]
            if uid in self.server.folders:
                self._reply(200, {"uid": uid, "title": self.server.folders[uid]})
            else:
                self._reply(404, {"message": "folder not found"})
        else:
            self._reply(404, {"message": "not found"})

    def do_POST(self) -> None:
        if not self._authorised():
            return
        body = self._body()
        if self.path == "/api/folders":
            self.server.folders[body["uid"]] = body["title"]
            self._reply(200, {"uid": body["uid"], "title": body["title"]})
        elif self.path == "/api/dashboards/db":
            d = body["dashboard"]
            if d.get("id") is not None or not d.get("uid") or body.get("folderUid") not in self.server.folders:
                self._reply(400, {"message": "bad dashboard request"})
                return
            self.server.dashboards[d["uid"]] = body
            self._reply(200, {"id": 1, "uid": d["uid"], "url": f"/d/{d['uid']}", "status": "success", "version": 1})
        else:
            self._reply(404, {"message": "not found"})


@pytest.fixture
def grafana() -> Iterator[FakeGrafana]:
    server = FakeGrafana()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_push_uploads_every_board_into_the_folder_with_overwrite(grafana: FakeGrafana) -> None:
    result = runner.invoke(app, ["push", "--grafana-url", grafana.url, "--token", TOKEN])
    assert result.exit_code == 0, result.output
    expected = {json.loads(t)["uid"] for t in build.rendered().values()}
    assert set(grafana.dashboards) == expected
    assert grafana.folders == {"ruongso": "Ruộng Số"}
    body = grafana.dashboards["ruongso-overview"]
    assert body["overwrite"] is True and body["folderUid"] == "ruongso"
    assert body["dashboard"]["panels"], "the committed JSON is what goes up"
    again = runner.invoke(app, ["push", "--grafana-url", grafana.url], env={"RUONGSO_GRAFANA_TOKEN": TOKEN})
    assert again.exit_code == 0, again.output
    assert ("POST", "/api/folders") in grafana.requests and grafana.requests.count(("POST", "/api/folders")) == 1


def test_push_without_the_data_source_says_what_to_provision(grafana: FakeGrafana) -> None:
    grafana.datasources.clear()
    result = runner.invoke(app, ["push", "--grafana-url", grafana.url, "--token", TOKEN])
    assert result.exit_code == 1
    assert DATASOURCE_UID in result.output and "Traceback" not in result.output
    assert not grafana.dashboards


def test_push_with_a_wrong_token_or_none_fails_with_a_sentence(grafana: FakeGrafana) -> None:
    wrong = runner.invoke(app, ["push", "--grafana-url", grafana.url, "--token", "nope"])
    assert wrong.exit_code == 1 and "401" in wrong.output and "service-account" in wrong.output
    missing = runner.invoke(app, ["push", "--grafana-url", grafana.url], env={"RUONGSO_GRAFANA_TOKEN": ""})
    assert missing.exit_code == 1 and "RUONGSO_GRAFANA_TOKEN" in missing.output


def test_push_to_nothing_listening_fails_cleanly() -> None:
    from ruongso.local_services import free_port

    result = runner.invoke(app, ["push", "--grafana-url", f"http://127.0.0.1:{free_port()}", "--token", TOKEN])
    assert result.exit_code == 1 and "error:" in result.output and "Traceback" not in result.output


def test_build_check_passes_on_the_committed_json_and_fails_on_a_stale_copy(tmp_path: Path) -> None:
    assert runner.invoke(app, ["build", "--check"]).exit_code == 0
    assert runner.invoke(app, ["build", "--out", str(tmp_path)]).exit_code == 0
    (tmp_path / "ruongso-alerts.json").write_text("{}")
    (tmp_path / "ruongso-gone.json").write_text("{}")
    result = runner.invoke(app, ["build", "--check", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "ruongso-alerts.json" in result.output and "ruongso-gone.json" in result.output
    assert runner.invoke(app, ["build", "--out", str(tmp_path)]).exit_code == 0
    assert not (tmp_path / "ruongso-gone.json").exists()


def test_sites_writes_site_info_the_map_reads(influx: InfluxClient, tmp_path: Path) -> None:
    f = tmp_path / "sites.yaml"
    f.write_text('- {site: tu-ky-lua, profile: rice_paddy, lat: 20.82, lon: 106.4, name: "Ruộng \\"A\\""}\n'
                 "- {site: tu-ky-ao, profile: fish_pond, lat: 20.8, lon: 106.41}\n")
    result = runner.invoke(app, ["sites", str(f), "--influx-url", influx.url, "--influx-db", influx.database])
    assert result.exit_code == 0, result.output
    rows = influx.query('SELECT last("lat") AS "lat", last("name") AS "name" FROM "site_info" '
                        'GROUP BY "site", "profile"')
    got = {(s.tags["site"], s.tags["profile"]): s.rows()[0] for s in rows}
    assert got[("tu-ky-lua", "rice_paddy")]["name"] == 'Ruộng "A"'
    assert got[("tu-ky-ao", "fish_pond")]["lat"] == 20.8


@pytest.mark.parametrize(("text", "message"), [
    ("- {site: Bad Slug, profile: rice_paddy, lat: 1, lon: 2}", "not a slug"),
    ("- {site: a, profile: rice, lat: 1, lon: 2}", "profile 'rice'"),
    ("- {site: a, profile: rice_paddy, lat: 91, lon: 2}", "out of range"),
    ("- {site: a, profile: rice_paddy, lat: x}", "numbers"),
    ("[1, 2", "not valid YAML"),
])
def test_bad_sites_files_get_a_clear_error_and_write_nothing(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "sites.yaml"
    f.write_text(text)
    result = runner.invoke(app, ["sites", str(f), "--influx-url", "http://127.0.0.1:9"])
    assert result.exit_code == 1 and message in result.output and "Traceback" not in result.output


def test_check_lists_the_queries_an_empty_database_leaves_without_data(influx: InfluxClient) -> None:
    result = runner.invoke(app, ["check", "--influx-url", influx.url, "--influx-db", influx.database])
    assert result.exit_code == 1, result.output
    assert "ruongso-overview / Bản đồ các điểm [A]: no data" in result.output
    assert "queries without data" in result.output and "Traceback" not in result.output


def test_the_simulator_manifest_is_a_sites_file() -> None:
    from dashboards import sites
    from ruongso import profiles
    from simulators.sites import layout

    specs = layout(0, 7, 2, profiles.profile_ids())
    manifest = {"seed": 0, "sites": [s.to_dict(["air_temp"]) for s in specs]}
    parsed = sites.parse(manifest)
    assert [(s.site, s.profile, s.name) for s in parsed] == [(s.slug, s.profile, s.name_vi) for s in specs]
    assert {s.profile for s in parsed} == set(profiles.profile_ids())
