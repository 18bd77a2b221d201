"""The boards' structure: ids, grid, data sources, labels and bands from the registries, committed JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from contract.quantities import QUANTITIES
from dashboards import build
from dashboards.boards import all_boards, site_detail
from dashboards.grafana_render import VariableValue, format_interval, render
from dashboards.labels import quantity_title, quantity_unit
from dashboards.model import Panel, Step, Target, layout
from dashboards.thresholds import common_steps, key_quantities, steps
from ruongso import profiles

ROOT = Path(__file__).resolve().parent.parent
BOARDS = {b.uid: b.to_json() for b in all_boards()}


def provisioned_datasource_uids() -> set[str]:
    folder = ROOT / "deploy/grafana/provisioning/datasources"
    return {d["uid"] for f in folder.glob("*.yaml") for d in yaml.safe_load(f.read_text())["datasources"]}


def datasource_refs(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return found + [r for v in node.values() for r in datasource_refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in datasource_refs(v)]
    return []


def test_the_five_boards_exist_with_a_site_detail_board_per_profile() -> None:
    expected = {"ruongso-overview", "ruongso-fleet", "ruongso-alerts", "ruongso-pipeline"}
    expected |= {site_detail.uid(p) for p in profiles.profile_ids()}
    assert set(BOARDS) == expected


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_panel_ids_are_unique(uid: str) -> None:
    ids = [p["id"] for p in BOARDS[uid]["panels"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_grid_positions_stay_in_the_grid_and_never_overlap(uid: str) -> None:
    taken: dict[tuple[int, int], str] = {}
    for p in BOARDS[uid]["panels"]:
        g = p["gridPos"]
        assert g["x"] >= 0 and g["w"] > 0 and g["h"] > 0 and g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in taken, f"{p['title']!r} overlaps {taken[(x, y)]!r} at {x},{y}"
                taken[(x, y)] = p["title"]


@pytest.mark.parametrize("uid", sorted(BOARDS))
def test_every_datasource_reference_resolves_to_the_provisioned_one(uid: str) -> None:
    refs = datasource_refs(BOARDS[uid])
    assert refs
    uids = provisioned_datasource_uids()
    assert all(r["uid"] in uids and r["type"] == "influxdb" for r in refs), refs


def test_committed_json_is_what_build_generates() -> None:
    assert build.stale_files() == [], "run `ruongso dashboards build` and commit deploy/grafana/dashboards"


def test_rows_and_panels_flow_without_gaps_and_a_too_wide_panel_is_refused() -> None:
    p = Panel("a", "stat", [Target("SELECT 1")], width=16)
    out = layout([p, Panel("b", "stat", [Target("SELECT 1")], width=16)])
    assert [o["gridPos"]["y"] for o in out] == [0, 8]
    with pytest.raises(ValueError, match="25 wide"):
        layout([Panel("c", "stat", [], width=25)])


def test_steps_colour_the_profile_bands() -> None:
    rice_air = profiles.profile("rice_paddy")["quantities"]["air_temp"]
    assert steps(rice_air) == [Step("red", None), Step("orange", 13.0), Step("green", 15.0), Step("orange", 35.0)]
    assert steps({"warn_high": 1.9, "crit_high": 3.0}) == [Step("green", None), Step("orange", 1.9),
                                                          Step("red", 3.0)]
    assert steps({"crit_low": 2, "warn_low": None}) == [Step("red", None), Step("green", 2.0)]
    assert steps({"warn_low": None, "warn_high": None}) is None


def _panel(board: dict[str, Any], title: str) -> dict[str, Any]:
    return next(p for p in board["panels"] if p["title"] == title)


@pytest.mark.parametrize("profile_id", profiles.profile_ids())
def test_site_board_shows_every_quantity_of_the_profile_with_its_bands_and_unit(profile_id: str) -> None:
    board = BOARDS[site_detail.uid(profile_id)]
    titles = [p["title"] for p in board["panels"]]
    for q, entry in profiles.profile(profile_id)["quantities"].items():
        title = next(t for t in titles if t.startswith(quantity_title(q)))
        panel = _panel(board, title)
        assert panel["fieldConfig"]["defaults"]["unit"] == quantity_unit(q)
        expected = steps(entry)
        got = panel["fieldConfig"]["defaults"].get("thresholds")
        if expected is None:
            assert got is None
        else:
            assert got["steps"] == [{"color": s.color, "value": s.value} for s in expected]
            assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"]["mode"] == "line+area"


def test_labels_are_the_registry_labels_in_vietnamese_with_units() -> None:
    assert quantity_title("dissolved_oxygen") == "Oxy hòa tan (mg/L)"
    assert quantity_unit("dissolved_oxygen") == "suffix: mg/L"
    assert quantity_unit("air_temp") == QUANTITIES["air_temp"].grafana_unit == "celsius"
    assert quantity_title("soil_ph") == "pH đất"


def test_overview_shows_key_readings_of_every_production_type() -> None:
    board = BOARDS["ruongso-overview"]
    for p in profiles.load()["profiles"]:
        keys = key_quantities(p["id"])
        assert keys, p["id"]
        for q in keys:
            panel = _panel(board, f"{p['name_vi']}: {quantity_title(q)}")
            assert f"$sites_{p['id']}" in panel["targets"][0]["query"]
    geomap = next(p for p in board["panels"] if p["type"] == "geomap")
    assert geomap["options"]["layers"][0]["location"] == {"mode": "coords", "latitude": "lat", "longitude": "lon"}


def test_site_board_has_site_and_node_variables_and_alert_annotations() -> None:
    board = BOARDS[site_detail.uid("fish_pond")]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["site"]["query"].startswith("SHOW TAG VALUES")
    assert variables["node"]["query"].startswith("SHOW TAG VALUES") and variables["node"]["includeAll"]
    anno = board["annotations"]["list"][0]["target"]
    assert '"alert"' in anno["query"] and anno["textColumn"] == "text_vi"


def test_node_health_bands_are_the_ones_all_profiles_share() -> None:
    battery = common_steps("battery_v")
    assert battery and battery[1] == Step("orange", 3.1)
    fleet = BOARDS["ruongso-fleet"]
    panel = _panel(fleet, quantity_title("battery_v"))
    assert panel["type"] == "bargauge" and panel["fieldConfig"]["defaults"]["thresholds"]["steps"][0]["color"] == "red"


# --- Grafana's rendering of a query -------------------------------------------------------------


def test_variables_render_as_grafana_renders_them_for_influxql() -> None:
    v = {"site": VariableValue(["ruong-1"]), "node": VariableValue(["n1", "n2"], multi=True, include_all=True),
         "one": VariableValue(["n.1"], multi=True)}
    q = "WHERE \"site\" = '$site' AND \"node\" =~ /^$node$/ AND x =~ /^${one}$/ AND y = '[[site]]'"
    assert render(q, v, 0, 1, 1000) == "WHERE \"site\" = 'ruong-1' AND \"node\" =~ /^(n1|n2)$/ AND x =~ /^n\\.1$/ " \
                                      "AND y = 'ruong-1'"


def test_macros_render_as_the_grafana_backend_renders_them() -> None:
    q = "SELECT mean(x) FROM r WHERE $timeFilter GROUP BY time($__interval), time($interval) LIMIT $__interval_ms"
    assert render(q, {}, 1000, 2000, 60_000) == (
        "SELECT mean(x) FROM r WHERE time >= 1000ms and time <= 2000ms GROUP BY time(1m), time(1m) LIMIT 60000"
    )
    assert [format_interval(ms) for ms in (500, 10_000, 90_000, 3_600_000, 86_400_000)] == [
        "500ms", "10s", "1m", "1h", "1d"]
    assert render("$unknown $__from", {}, 5, 6, 1000) == "$unknown 5"


def test_json_is_deterministic_and_keeps_vietnamese_readable() -> None:
    text = build.rendered()["ruongso-overview.json"]
    assert "Tổng quan huyện" in text
    assert json.loads(text) == BOARDS["ruongso-overview"]
