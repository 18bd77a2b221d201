"""District overview (Tổng quan huyện): the map of sites, nodes up and down, open alerts, key readings
of every production type."""

from __future__ import annotations

from dashboards.boards.common import (
    SEVERITY_VI,
    active_alert_count,
    board_links,
    severity_thresholds,
    stat,
    table,
    tag_regex,
)
from dashboards.labels import quantity_title, quantity_unit
from dashboards.layout_names import NODE_STATUS, READING, SITE_INFO
from dashboards.model import Dashboard, Panel, Row, Step, Target, Variable
from dashboards.thresholds import aggregates, key_quantities, profile_steps
from ruongso import profiles

UID = "ruongso-overview"
LAST_STATUS = f'SELECT last("online") AS "online" FROM "{NODE_STATUS}" GROUP BY "site", "node"'


def sites_variable(profile_id: str) -> str:
    return f"sites_{profile_id}"


def _variables() -> list[Variable]:
    return [
        Variable(
            sites_variable(p["id"]), f"Điểm: {p['name_vi']}",
            f'SHOW TAG VALUES FROM "{SITE_INFO}" WITH KEY = "site" WHERE "profile" = \'{p["id"]}\'',
            multi=True, include_all=True, hidden=True,
        )
        for p in profiles.load()["profiles"]
    ]


def _map() -> Panel:
    return Panel(
        title="Bản đồ các điểm", type="geomap", width=12, height=12,
        description=f"Vị trí lấy từ measurement {SITE_INFO} (do sổ đăng ký ghi; xem docs/operations.md).",
        targets=[Target(
            f'SELECT last("lat") AS "lat", last("lon") AS "lon", last("name") AS "name" '
            f'FROM "{SITE_INFO}" GROUP BY "site", "profile"',
            result_format="table",
        )],
        options={
            "view": {"id": "fit", "allLayers": True, "zoom": 11},
            "controls": {"showZoom": True, "mouseWheelZoom": True, "showAttribution": True},
            "basemap": {"type": "default", "name": "Nền"},
            "layers": [{
                "type": "markers", "name": "Điểm", "tooltip": True,
                "location": {"mode": "coords", "latitude": "lat", "longitude": "lon"},
                "config": {
                    "showLegend": False,
                    "style": {
                        "size": {"fixed": 8}, "color": {"fixed": "green"}, "opacity": 0.8,
                        "symbol": {"mode": "fixed", "fixed": "img/icons/marker/circle.svg"},
                        "text": {"mode": "field", "field": "site", "fixed": ""},
                        "textConfig": {"fontSize": 11, "offsetY": -12, "textAlign": "center"},
                    },
                },
            }],
            "tooltip": {"mode": "details"},
        },
    )


def _site_table() -> Panel:
    return table(
        "Nút theo điểm",
        [Target(f'SELECT sum("online") AS "online", count("online") AS "nodes" FROM ({LAST_STATUS}) '
                'GROUP BY "site"', result_format="table")],
        {"site": "Điểm", "online": "Nút trực tuyến", "nodes": "Tổng số nút"},
        width=12, height=12, hide=("Time",),
        description="Trạng thái cuối cùng của mỗi nút (bản tin status/LWT).",
    )


def _key_readings() -> list[Panel]:
    panels: list[Panel] = []
    for p in profiles.load()["profiles"]:
        for q in key_quantities(p["id"]):
            agg = aggregates(p["id"], q)
            panels.append(stat(
                f"{p['name_vi']}: {quantity_title(q)}",
                [Target(f'SELECT last("{q}") FROM "{READING}" WHERE {tag_regex("site", sites_variable(p["id"]))} '
                        'AND $timeFilter GROUP BY "site"', alias="$tag_site")],
                unit=quantity_unit(q), width=6, height=5, thresholds=profile_steps(p["id"], q),
                description="Giá trị mới nhất mỗi điểm; màu theo ngưỡng của hồ sơ cảnh báo"
                + (f" (hồ sơ so sánh {agg})." if agg else "."),
            ))
    return panels


def board() -> Dashboard:
    online = stat("Nút trực tuyến", [Target(f'SELECT sum("online") AS "online" FROM ({LAST_STATUS})')],
                  no_value="0")
    offline = stat(
        "Nút mất kết nối",
        [Target(f'SELECT count("online") - sum("online") AS "offline" FROM ({LAST_STATUS})')],
        thresholds=[Step("green", None), Step("red", 1)], no_value="0",
    )
    alerts = [
        stat(f"{SEVERITY_VI[s]} đang mở", [active_alert_count(s)], thresholds=severity_thresholds(s), no_value="0")
        for s in ("critical", "warning")
    ]
    items: list[Panel | Row] = [
        Row("Toàn huyện"), online, offline, *alerts, _map(), _site_table(),
        Row("Số đo chính theo loại hình sản xuất"), *_key_readings(),
    ]
    return Dashboard(
        uid=UID, title="Ruộng Số: Tổng quan huyện", items=items, variables=_variables(),
        description="Các điểm trên bản đồ, nút trực tuyến/mất kết nối, cảnh báo đang mở, số đo chính.",
        links=board_links(),
    )
