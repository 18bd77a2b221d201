"""A small typed model of a Grafana dashboard: just what our boards use, rendered to Grafana's JSON.

Panels are laid out by flow (left to right, wrapping at Grafana's 24 columns), so a board lists its
panels in reading order and never states coordinates that could overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

GRID_COLUMNS: Final = 24
SCHEMA_VERSION: Final = 39
DATASOURCE_UID: Final = "ruongso-influxdb"
DATASOURCE: Final[dict[str, str]] = {"type": "influxdb", "uid": DATASOURCE_UID}
TIMEZONE: Final = "Asia/Ho_Chi_Minh"

Json = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Target:
    """One raw InfluxQL query of a panel."""

    query: str
    result_format: str = "time_series"  # or "table"
    alias: str | None = None

    def to_json(self, ref_id: str) -> Json:
        out: Json = {
            "datasource": DATASOURCE,
            "refId": ref_id,
            "query": self.query,
            "rawQuery": True,
            "resultFormat": self.result_format,
        }
        if self.alias:
            out["alias"] = self.alias
        return out


@dataclass(frozen=True, slots=True)
class Step:
    color: str
    value: float | None


@dataclass(slots=True)
class Panel:
    title: str
    type: str
    targets: list[Target]
    width: int = 12
    height: int = 8
    description: str = ""
    unit: str | None = None
    decimals: int | None = None
    thresholds: list[Step] | None = None
    show_threshold_bands: bool = False
    options: Json = field(default_factory=dict)
    custom: Json = field(default_factory=dict)
    defaults: Json = field(default_factory=dict)
    overrides: list[Json] = field(default_factory=list)
    transformations: list[Json] = field(default_factory=list)

    def to_json(self, panel_id: int, x: int, y: int) -> Json:
        defaults: Json = dict(self.defaults)
        if self.unit:
            defaults["unit"] = self.unit
        if self.decimals is not None:
            defaults["decimals"] = self.decimals
        custom = dict(self.custom)
        if self.thresholds:
            defaults["thresholds"] = {
                "mode": "absolute",
                "steps": [{"color": s.color, "value": s.value} for s in self.thresholds],
            }
            if self.show_threshold_bands:
                custom["thresholdsStyle"] = {"mode": "line+area"}
        if custom:
            defaults["custom"] = custom
        out: Json = {
            "id": panel_id,
            "type": self.type,
            "title": self.title,
            "datasource": DATASOURCE,
            "gridPos": {"x": x, "y": y, "w": self.width, "h": self.height},
            "fieldConfig": {"defaults": defaults, "overrides": self.overrides},
            "options": self.options,
            "targets": [t.to_json(chr(ord("A") + i)) for i, t in enumerate(self.targets)],
        }
        if self.description:
            out["description"] = self.description
        if self.transformations:
            out["transformations"] = self.transformations
        return out


@dataclass(frozen=True, slots=True)
class Row:
    """A collapsible-free section title spanning the full width."""

    title: str


@dataclass(frozen=True, slots=True)
class Variable:
    """A query template variable (InfluxQL `SHOW TAG VALUES …`)."""

    name: str
    label: str
    query: str
    multi: bool = False
    include_all: bool = False
    hidden: bool = False

    def to_json(self) -> Json:
        current: Json = {"selected": True, "text": ["All"], "value": ["$__all"]} if self.include_all else {}
        return {
            "type": "query",
            "name": self.name,
            "label": self.label,
            "datasource": DATASOURCE,
            "query": self.query,
            "definition": self.query,
            "refresh": 2,  # on time-range change: new sites and nodes appear without a reload
            "multi": self.multi,
            "includeAll": self.include_all,
            "current": current,
            "options": [],
            "sort": 1,
            "hide": 2 if self.hidden else 0,
        }


@dataclass(frozen=True, slots=True)
class Annotation:
    name: str
    query: str
    text_column: str
    tags_column: str = ""
    color: str = "red"

    def to_json(self) -> Json:
        return {
            "name": self.name,
            "datasource": DATASOURCE,
            "enable": True,
            "iconColor": self.color,
            "target": {
                "refId": "Anno",
                "query": self.query,
                "rawQuery": True,
                "fromAnnotations": True,
                "textEditor": True,
                "textColumn": self.text_column,
                "tagsColumn": self.tags_column,
                "titleColumn": "",
            },
        }


@dataclass(slots=True)
class Dashboard:
    uid: str
    title: str
    items: list[Panel | Row]
    description: str = ""
    tags: list[str] = field(default_factory=lambda: ["ruongso"])
    variables: list[Variable] = field(default_factory=list)
    annotations: list[Annotation] = field(default_factory=list)
    time_from: str = "now-24h"
    refresh: str = "1m"
    links: list[Json] = field(default_factory=list)

    def to_json(self) -> Json:
        return {
            "uid": self.uid,
            "title": self.title,
            "description": self.description,
            "tags": self.tags,
            "timezone": TIMEZONE,
            "editable": True,
            "graphTooltip": 1,
            "schemaVersion": SCHEMA_VERSION,
            "version": 1,
            "refresh": self.refresh,
            "time": {"from": self.time_from, "to": "now"},
            "links": self.links,
            "templating": {"list": [v.to_json() for v in self.variables]},
            "annotations": {"list": [a.to_json() for a in self.annotations]},
            "panels": layout(self.items),
        }


def layout(items: list[Panel | Row]) -> list[Json]:
    """Flow layout: panels fill a row left to right; a Row (or a full row) starts a new line."""
    out: list[Json] = []
    x = y = row_height = 0
    next_id = 1
    for item in items:
        if isinstance(item, Row):
            if x:
                y, x, row_height = y + row_height, 0, 0
            out.append({
                "id": next_id,
                "type": "row",
                "title": item.title,
                "collapsed": False,
                "panels": [],
                "gridPos": {"x": 0, "y": y, "w": GRID_COLUMNS, "h": 1},
            })
            next_id += 1
            y += 1
            continue
        if item.width > GRID_COLUMNS:
            raise ValueError(f"panel {item.title!r} is {item.width} wide; the grid has {GRID_COLUMNS} columns")
        if x + item.width > GRID_COLUMNS:
            y, x, row_height = y + row_height, 0, 0
        out.append(item.to_json(next_id, x, y))
        next_id += 1
        x += item.width
        row_height = max(row_height, item.height)
    return out
