"""Panel shapes and query fragments shared by the boards."""

from __future__ import annotations

from typing import Any

from dashboards.layout_names import ACTIVE_STATES, ALERT
from dashboards.model import Json, Panel, Step, Target

SEVERITY_VI = {"warning": "Cảnh báo", "critical": "Nghiêm trọng"}


def board_links(include_vars: bool = False) -> list[Json]:
    """A drop-down of the other Ruộng Số boards, keeping the time range (and the site, where asked)."""
    return [{"type": "dashboards", "tags": ["ruongso"], "asDropdown": True, "title": "Bảng khác",
             "includeVars": include_vars, "keepTime": True}]


def tag_regex(tag: str, variable: str) -> str:
    """A WHERE condition matching a multi-value variable (Grafana renders it as `(a|b)`)."""
    return f'"{tag}" =~ /^${variable}$/'


def timeseries(title: str, targets: list[Target], unit: str | None = None, width: int = 12, height: int = 8,
               thresholds: list[Step] | None = None, bars: bool = False, description: str = "") -> Panel:
    custom: dict[str, Any] = {"drawStyle": "bars" if bars else "line", "spanNulls": True, "lineWidth": 1,
                              "fillOpacity": 60 if bars else 10}
    return Panel(
        title=title, type="timeseries", targets=targets, width=width, height=height, unit=unit,
        description=description, thresholds=thresholds, show_threshold_bands=thresholds is not None,
        custom=custom,
        options={"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                 "tooltip": {"mode": "multi", "sort": "desc"}},
    )


def stat(title: str, targets: list[Target], unit: str | None = None, width: int = 6, height: int = 4,
         thresholds: list[Step] | None = None, description: str = "", no_value: str | None = None) -> Panel:
    defaults: Json = {"noValue": no_value} if no_value is not None else {}
    return Panel(
        title=title, type="stat", targets=targets, width=width, height=height, unit=unit,
        description=description, thresholds=thresholds or [Step("green", None)], defaults=defaults,
        options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                 "colorMode": "background", "graphMode": "none", "textMode": "value_and_name",
                 "justifyMode": "auto", "orientation": "auto"},
    )


def bargauge(title: str, targets: list[Target], unit: str | None = None, width: int = 8, height: int = 10,
             thresholds: list[Step] | None = None, description: str = "") -> Panel:
    return Panel(
        title=title, type="bargauge", targets=targets, width=width, height=height, unit=unit,
        description=description, thresholds=thresholds or [Step("blue", None)],
        options={"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                 "orientation": "horizontal", "displayMode": "basic", "showUnfilled": True},
    )


def table(title: str, targets: list[Target], rename: dict[str, str], width: int = 24, height: int = 10,
          description: str = "", overrides: list[Json] | None = None, hide: tuple[str, ...] = ()) -> Panel:
    """A table; `hide` drops columns such as the meaningless Time of an aggregate without GROUP BY time."""
    return Panel(
        title=title, type="table", targets=targets, width=width, height=height, description=description,
        overrides=overrides or [],
        options={"showHeader": True, "cellHeight": "sm", "footer": {"show": False}},
        transformations=[
            {"id": "merge", "options": {}},
            {"id": "organize", "options": {"renameByName": rename, "excludeByName": dict.fromkeys(hide, True)}},
        ],
    )


def latest_alerts(where: str = "") -> str:
    """The last event of every alert (one per site, node and rule), its state and severity alongside."""
    cond = f" WHERE {where}" if where else ""
    return (
        'SELECT last("id") AS "id", "text_vi", "state", "severity", "kind", "quantity", "value", "threshold", '
        f'"unit", "started" FROM "{ALERT}"{cond} GROUP BY "site", "node", "rule"'
    )


def active_condition() -> str:
    return "(" + " OR ".join(f"\"state\" = '{s}'" for s in ACTIVE_STATES) + ")"


def active_alert_count(severity: str, where: str = "") -> Target:
    return Target(
        f'SELECT count("id") AS "active" FROM ({latest_alerts(where)}) '
        f"WHERE {active_condition()} AND \"severity\" = '{severity}'"
    )


def severity_thresholds(severity: str) -> list[Step]:
    return [Step("green", None), Step("orange" if severity == "warning" else "red", 1)]
