"""Alerts (Cảnh báo): open alerts, a timeline of every alert's state, and the history table."""

from __future__ import annotations

from dashboards.boards.common import (
    SEVERITY_VI,
    active_alert_count,
    active_condition,
    board_links,
    latest_alerts,
    severity_thresholds,
    stat,
    table,
    tag_regex,
    timeseries,
)
from dashboards.layout_names import ALERT
from dashboards.model import Dashboard, Panel, Row, Step, Target, Variable

UID = "ruongso-alerts"
FILTER = f'{tag_regex("site", "site")} AND {tag_regex("severity", "severity")}'
STATE_COLORS = {
    "type": "value",
    "options": {
        "firing": {"text": "Đang báo", "color": "red"},
        "acknowledged": {"text": "Đã nhận", "color": "orange"},
        "silenced": {"text": "Tạm tắt", "color": "blue"},
        "resolved": {"text": "Đã hết", "color": "green"},
    },
}
COLUMNS = {
    "Time": "Thời điểm", "text_vi": "Nội dung", "id": "Mã", "site": "Điểm", "node": "Nút", "rule": "Quy tắc",
    "kind": "Loại", "severity": "Mức độ", "state": "Trạng thái", "quantity": "Đại lượng", "value": "Giá trị",
    "threshold": "Ngưỡng", "unit": "Đơn vị", "started": "Bắt đầu",
}
STATE_OVERRIDE = {"matcher": {"id": "byName", "options": "state"},
                  "properties": [{"id": "mappings", "value": [STATE_COLORS]},
                                 {"id": "custom.cellOptions", "value": {"type": "color-background"}}]}
STARTED_OVERRIDE = {"matcher": {"id": "byName", "options": "started"},
                    "properties": [{"id": "unit", "value": "dateTimeAsLocal"}]}


def _timeline() -> Panel:
    return Panel(
        title="Diễn biến cảnh báo", type="state-timeline", width=24, height=10,
        description="Mỗi dòng một cảnh báo (điểm/nút/quy tắc); màu theo trạng thái.",
        targets=[Target(f'SELECT "state", "id" FROM "{ALERT}" WHERE {FILTER} AND $timeFilter '
                        'GROUP BY "site", "node", "rule"', alias="$tag_site/$tag_node/$tag_rule $col")],
        defaults={"mappings": [STATE_COLORS], "color": {"mode": "thresholds"}},
        thresholds=[Step("text", None)],
        options={"mergeValues": True, "showValue": "never", "alignValue": "left", "rowHeight": 0.8,
                 "legend": {"showLegend": False, "displayMode": "list", "placement": "bottom"}},
        transformations=[{"id": "filterFieldsByName", "options": {"include": {"pattern": "^(Time|.* state)$"}}}],
    )


def board() -> Dashboard:
    items: list[Panel | Row] = [
        Row("Đang mở"),
        *(stat(f"{SEVERITY_VI[s]} đang mở", [active_alert_count(s, tag_regex("site", "site"))],
               thresholds=severity_thresholds(s), width=12, no_value="0") for s in ("critical", "warning")),
        table(
            "Cảnh báo đang mở",
            [Target(f'SELECT * FROM ({latest_alerts(tag_regex("site", "site"))}) '
                    f"WHERE {active_condition()} AND {tag_regex('severity', 'severity')}",
                    result_format="table")],
            COLUMNS, overrides=[STATE_OVERRIDE, STARTED_OVERRIDE],
            description="Sự kiện cuối cùng của mỗi cảnh báo đang báo hoặc đã nhận nhưng chưa hết.",
        ),
        Row("Diễn biến"),
        timeseries(
            "Cảnh báo mới theo mức độ",
            [Target(f"SELECT count(\"id\") FROM \"{ALERT}\" WHERE \"state\" = 'firing' AND {FILTER} "
                    'AND $timeFilter GROUP BY time($__interval), "severity" fill(none)', alias="$tag_severity")],
            unit="short", bars=True, width=24,
        ),
        _timeline(),
        Row("Lịch sử"),
        table(
            "Lịch sử cảnh báo",
            [Target('SELECT "text_vi", "id", "site", "node", "rule", "kind", "severity", "state", "quantity", '
                    f'"value", "threshold", "unit" FROM "{ALERT}" WHERE {FILTER} AND $timeFilter '
                    "ORDER BY time DESC LIMIT 1000", result_format="table")],
            COLUMNS, height=14, overrides=[STATE_OVERRIDE],
        ),
    ]
    return Dashboard(
        uid=UID, title="Ruộng Số: Cảnh báo", items=items, tags=["ruongso", "alerts"],
        description="Cảnh báo đang mở, diễn biến trạng thái và lịch sử.",
        variables=[
            Variable("site", "Điểm", f'SHOW TAG VALUES FROM "{ALERT}" WITH KEY = "site"', multi=True,
                     include_all=True),
            Variable("severity", "Mức độ", f'SHOW TAG VALUES FROM "{ALERT}" WITH KEY = "severity"', multi=True,
                     include_all=True),
        ],
        links=board_links(),
    )
