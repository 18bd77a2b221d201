"""Site detail (Chi tiết điểm), one board per production type: every quantity of the profile with its
threshold bands, the derived indicators, the site's alerts as annotations and as a table.

One board per profile because Grafana's threshold bands are fixed per panel, and each profile sets
its own bands; the site picker lists only the sites of that profile.
"""

from __future__ import annotations

from typing import Any

from dashboards.boards.common import board_links, table, tag_regex, timeseries
from dashboards.labels import derived_for, quantity_title, quantity_unit
from dashboards.layout_names import ALERT, DERIVED, READING, SITE_INFO
from dashboards.model import Annotation, Dashboard, Panel, Row, Target, Variable
from dashboards.thresholds import aggregates, profile_steps
from ruongso import profiles

SITE = "\"site\" = '$site'"
NODES = tag_regex("node", "node")


def uid(profile_id: str) -> str:
    return f"ruongso-site-{profile_id.replace('_', '-')}"


def _quantity_panel(profile_id: str, q: str) -> Panel:
    agg = aggregates(profile_id, q)
    if "sum_24h" in agg:
        # The profile compares the trailing 24-h sum (rain), so the bands only mean something on that sum.
        # The query starts 24 h before the range so its first hours have a full window (an outer query
        # cannot trim that again: InfluxDB pushes an outer time range into the subquery); Grafana clips
        # the extra day on display.
        query = (f'SELECT moving_average(sum("{q}"), 24) * 24 FROM "{READING}" WHERE {SITE} AND {NODES} '
                 'AND time >= ${__from}ms - 24h AND time <= ${__to}ms GROUP BY time(1h), "node" fill(0)')
        title = f"{quantity_title(q)}, tổng 24 giờ"
    else:
        query = (f'SELECT mean("{q}") FROM "{READING}" WHERE {SITE} AND {NODES} '
                 'AND $timeFilter GROUP BY time($__interval), "node" fill(none)')
        title = quantity_title(q)
    note = f"Hồ sơ so sánh {agg} với ngưỡng." if agg else "Ngưỡng áp dụng cho từng số đo."
    return timeseries(title, [Target(query, alias="$tag_node")], unit=quantity_unit(q),
                      thresholds=profile_steps(profile_id, q),
                      description=f"Vùng màu: ngưỡng hồ sơ {profile_id}. {note}")


def _derived_panels(quantities: list[str]) -> list[Panel]:
    out: list[Panel] = []
    for d in derived_for(quantities):
        if d.daily:
            query = (f'SELECT "{d.name}" FROM "{DERIVED}" WHERE {SITE} AND {NODES} AND $timeFilter '
                     'GROUP BY "node"')
        else:
            query = (f'SELECT mean("{d.name}") FROM "{DERIVED}" WHERE {SITE} AND {NODES} AND $timeFilter '
                     'GROUP BY time($__interval), "node" fill(none)')
        out.append(timeseries(d.title, [Target(query, alias="$tag_node")], unit=d.grafana_unit, bars=d.daily,
                              description="Theo ngày (00:00 giờ Việt Nam)." if d.daily else ""))
    return out


def _alert_table() -> Panel:
    return table(
        "Cảnh báo của điểm",
        [Target(f'SELECT "text_vi", "node", "rule", "severity", "state", "value", "threshold", "unit" '
                f'FROM "{ALERT}" WHERE {SITE} AND $timeFilter ORDER BY time DESC LIMIT 200', result_format="table")],
        {"Time": "Thời điểm", "text_vi": "Nội dung", "node": "Nút", "rule": "Quy tắc", "severity": "Mức độ",
         "state": "Trạng thái", "value": "Giá trị", "threshold": "Ngưỡng", "unit": "Đơn vị"},
    )


def board(profile: dict[str, Any]) -> Dashboard:
    pid = profile["id"]
    quantities = list(profile["quantities"])
    items: list[Panel | Row] = [Row("Số đo"), *(_quantity_panel(pid, q) for q in quantities)]
    derived = _derived_panels(quantities)
    if derived:
        items += [Row("Chỉ số tính toán"), *derived]
    items += [Row("Cảnh báo"), _alert_table()]
    return Dashboard(
        uid=uid(pid), title=f"Ruộng Số: Chi tiết điểm - {profile['name_vi']}", items=items,
        tags=["ruongso", "site", pid],
        description=f"Từng đại lượng của hồ sơ {pid} với vùng ngưỡng, chỉ số tính toán, cảnh báo.",
        variables=[
            Variable("site", "Điểm",
                     f'SHOW TAG VALUES FROM "{SITE_INFO}" WITH KEY = "site" WHERE "profile" = \'{pid}\''),
            Variable("node", "Nút", f'SHOW TAG VALUES FROM "{READING}" WITH KEY = "node" WHERE {SITE}',
                     multi=True, include_all=True),
        ],
        annotations=[Annotation(
            "Cảnh báo",
            f'SELECT "text_vi", "severity", "rule" FROM "{ALERT}" WHERE {SITE} AND "state" = \'firing\' '
            "AND $timeFilter",
            text_column="text_vi", tags_column="severity,rule",
        )],
        links=board_links(include_vars=True),
    )


def boards() -> list[Dashboard]:
    return [board(p) for p in profiles.load()["profiles"]]
