"""A panel query as Grafana sends it to InfluxDB: template variables, then the InfluxQL macros.

Grafana's InfluxDB data source interpolates dashboard variables in the browser (a multi-value or
"All" variable becomes `(a|b|c)` with regex metacharacters escaped, a single value is inserted as is)
and the backend then replaces `$timeFilter` with `time >= <from>ms and time <= <to>ms`, `$interval`
and `$__interval` with the interval (`10s`, `1m`, `1h` …) and `$__interval_ms` with milliseconds
(grafana pkg/tsdb/influxdb/models/query.go; public/app/plugins/datasource/influxdb/datasource.ts).
Used by `ruongso dashboards check` and the tests, so both run exactly what Grafana would.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

_VAR_RE = re.compile(r"\$(\w+)|\$\{(\w+)(?::\w+)?\}|\[\[(\w+)\]\]")
_REGEX_SPECIAL = re.compile(r"([\\^$*+?.()|\[\]{}/])")


@dataclass(frozen=True, slots=True)
class VariableValue:
    values: list[str]
    multi: bool = False
    include_all: bool = False

    def interpolate(self) -> str:
        if not self.multi and not self.include_all:
            return self.values[0] if self.values else ""
        escaped = [_REGEX_SPECIAL.sub(r"\\\1", v) for v in self.values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def format_interval(ms: int) -> str:
    """Grafana's gtime.FormatInterval: the largest whole unit."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms >= size:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def render(query: str, variables: dict[str, VariableValue], from_ms: int, to_ms: int, interval_ms: int) -> str:
    builtins = {
        "__interval": format_interval(interval_ms),
        "__interval_ms": str(interval_ms),
        "__from": str(from_ms),
        "__to": str(to_ms),
    }

    def one(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(2) or m.group(3)
        if name in variables:
            return variables[name].interpolate()
        return builtins.get(name, m.group(0))

    out = _VAR_RE.sub(one, query)
    out = out.replace("$timeFilter", f"time >= {from_ms}ms and time <= {to_ms}ms")
    out = out.replace("$interval", format_interval(interval_ms))
    return out


@dataclass(frozen=True, slots=True)
class PanelQuery:
    panel: str
    ref_id: str
    query: str
    result_format: str


def panel_queries(dashboard: dict[str, Any]) -> Iterator[PanelQuery]:
    """Every query of every panel, and of every annotation, of a dashboard's JSON."""
    for panel in dashboard["panels"]:
        for t in panel.get("targets", []):
            yield PanelQuery(panel["title"], t["refId"], t["query"], t.get("resultFormat", "time_series"))
    for a in dashboard.get("annotations", {}).get("list", []):
        yield PanelQuery(f"annotation {a['name']}", "Anno", a["target"]["query"], "table")


def resolve_variables(
    dashboard: dict[str, Any], show_values: Callable[[str], list[str]], from_ms: int, to_ms: int, interval_ms: int
) -> dict[str, VariableValue]:
    """Each variable as Grafana selects it on first load: "All" where offered, else the first value."""
    resolved: dict[str, VariableValue] = {}
    for v in dashboard.get("templating", {}).get("list", []):
        values = sorted(show_values(render(v["query"], resolved, from_ms, to_ms, interval_ms)))
        chosen = values if v.get("includeAll") else values[:1]
        resolved[v["name"]] = VariableValue(chosen, bool(v.get("multi")), bool(v.get("includeAll")))
    return resolved
