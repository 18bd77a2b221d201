"""Fleet health (Tình trạng thiết bị) for technicians: last seen, battery, RSSI, loss rate, sensor faults."""

from __future__ import annotations

from dashboards.boards.common import bargauge, board_links, table, tag_regex, timeseries
from dashboards.labels import quantity_title, quantity_unit
from dashboards.layout_names import ALERT, NODE_HEALTH, NODE_STATUS, READING
from dashboards.model import Dashboard, Panel, Row, Target, Variable
from dashboards.thresholds import common_steps

UID = "ruongso-fleet"
SITES = tag_regex("site", "site")
NODE_ALIAS = "$tag_site/$tag_node"
ONLINE_MAPPING = {
    "type": "value",
    "options": {"1": {"text": "Trực tuyến", "color": "green"}, "0": {"text": "Mất kết nối", "color": "red"}},
}


def _last_seen() -> Panel:
    # Bounded to 30 days, not to the dashboard's range, so a node silent for days still shows up.
    return table(
        "Lần cuối nhận dữ liệu",
        [Target(f'SELECT last("seq") AS "seq" FROM "{READING}" WHERE {SITES} AND time > now() - 30d '
                'GROUP BY "site", "node"', result_format="table")],
        {"Time": "Lần cuối", "site": "Điểm", "node": "Nút", "seq": "Số thứ tự"},
        width=12, description="Thời điểm bản tin cuối cùng của mỗi nút (trong 30 ngày).",
    )


def _status() -> Panel:
    return table(
        "Trạng thái nút",
        [Target('SELECT last("online") AS "online", last("state") AS "state", last("sensor_faults") AS '
                '"sensor_faults", last("spool_depth") AS "spool_depth", last("fw") AS "fw", '
                f'last("uptime_s") AS "uptime_s" FROM "{NODE_STATUS}" WHERE {SITES} GROUP BY "site", "node"',
                result_format="table")],
        {"site": "Điểm", "node": "Nút", "online": "Kết nối", "state": "Trạng thái",
         "sensor_faults": "Lỗi cảm biến", "spool_depth": "Bản tin chờ gửi", "fw": "Phần mềm",
         "uptime_s": "Thời gian chạy"},
        width=12, hide=("Time",),
        overrides=[
            {"matcher": {"id": "byName", "options": "online"},
             "properties": [{"id": "mappings", "value": [ONLINE_MAPPING]},
                            {"id": "custom.cellOptions", "value": {"type": "color-background"}}]},
            {"matcher": {"id": "byName", "options": "uptime_s"}, "properties": [{"id": "unit", "value": "s"}]},
        ],
    )


def _latest(q: str) -> Panel:
    return bargauge(
        quantity_title(q),
        [Target(f'SELECT last("{q}") FROM "{READING}" WHERE {SITES} AND $timeFilter GROUP BY "site", "node"',
                alias=NODE_ALIAS)],
        unit=quantity_unit(q), thresholds=common_steps(q),
        description="Giá trị mới nhất; màu theo ngưỡng sức khỏe nút của các hồ sơ.",
    )


def _loss_rate() -> Panel:
    return bargauge(
        "Tỷ lệ mất bản tin (%)",
        [Target('SELECT sum("gaps") / (sum("received") + sum("gaps")) * 100 AS "loss" '
                f'FROM "{NODE_HEALTH}" WHERE {SITES} AND $timeFilter GROUP BY "site", "node"', alias=NODE_ALIAS)],
        unit="percent",
        description="Bản tin thiếu (khoảng trống số thứ tự) / bản tin mong đợi, trong khoảng thời gian.",
    )


def _history(q: str) -> Panel:
    return timeseries(
        quantity_title(q),
        [Target(f'SELECT mean("{q}") FROM "{READING}" WHERE {SITES} AND $timeFilter '
                'GROUP BY time($__interval), "site", "node" fill(none)', alias=NODE_ALIAS)],
        unit=quantity_unit(q), thresholds=common_steps(q),
    )


def board() -> Dashboard:
    items: list[Panel | Row] = [
        Row("Nút"), _last_seen(), _status(),
        _latest("battery_v"), _latest("rssi"), _loss_rate(),
        Row("Diễn biến"), _history("battery_v"), _history("rssi"),
        timeseries(
            "Bản tin thiếu và trùng",
            [Target(f'SELECT sum("gaps") AS "thiếu", sum("duplicates") AS "trùng" FROM "{NODE_HEALTH}" '
                    f'WHERE {SITES} AND $timeFilter GROUP BY time($__interval), "site", "node" fill(none)',
                    alias="$tag_site/$tag_node $col")],
            unit="short", bars=True,
        ),
        timeseries(
            "Bản tin chờ gửi trên nút",
            [Target(f'SELECT max("spool_depth") FROM "{NODE_STATUS}" WHERE {SITES} AND $timeFilter '
                    'GROUP BY time($__interval), "site", "node" fill(none)', alias=NODE_ALIAS)],
            unit="short", description="Số bản tin nút còn giữ trong hàng đợi (mất mạng, chưa được xác nhận).",
        ),
        Row("Lỗi cảm biến"),
        table(
            "Lỗi cảm biến nút tự báo",
            [Target(f'SELECT "sensor_faults", "site", "node" FROM "{NODE_STATUS}" WHERE {SITES} '
                    "AND \"sensor_faults\" != '' AND $timeFilter ORDER BY time DESC LIMIT 200",
                    result_format="table")],
            {"Time": "Thời điểm", "sensor_faults": "Lỗi cảm biến", "site": "Điểm", "node": "Nút"}, width=12,
        ),
        table(
            "Cảnh báo lỗi cảm biến (phân tích)",
            [Target(f'SELECT "text_vi", "quantity", "state", "site", "node" FROM "{ALERT}" '
                    f"WHERE \"kind\" = 'sensor' AND {SITES} AND $timeFilter ORDER BY time DESC LIMIT 200",
                    result_format="table")],
            {"Time": "Thời điểm", "text_vi": "Nội dung", "quantity": "Đại lượng", "state": "Trạng thái",
             "site": "Điểm", "node": "Nút"}, width=12,
        ),
    ]
    return Dashboard(
        uid=UID, title="Ruộng Số: Tình trạng thiết bị", items=items, tags=["ruongso", "fleet"],
        description="Cho kỹ thuật viên: lần cuối thấy, pin, tín hiệu, tỷ lệ mất bản tin, lỗi cảm biến.",
        variables=[Variable("site", "Điểm", f'SHOW TAG VALUES FROM "{READING}" WITH KEY = "site"',
                            multi=True, include_all=True)],
        links=board_links(),
    )
