"""Names from docs/influx-schema.md that the boards query, in one place.

`site_info` is the one addition the boards need, because sites' coordinates and production types live in
the registry, which Grafana cannot read with its built-in data sources. One series per (site, profile):

    site_info,site=<slug>,profile=<profile id> lat=<float>,lon=<float>,name="<display name>",source="registry|file" <ms>

Kept in step with the registry by `ruongso dashboards sites --registry URL [--every 1m]`
(dashboards/registry_sites.py), or loaded from a file (docs/operations.md). Boards read it without a time
filter (the last point per site).
"""

from __future__ import annotations

from typing import Final

from contract.wire import MEASUREMENT as READING

ALERT: Final = "alert"
DERIVED: Final = "derived"
NODE_HEALTH: Final = "node_health"
NODE_STATUS: Final = "node_status"
PIPELINE: Final = "pipeline"
REJECTED: Final = "rejected"
SITE_INFO: Final = "site_info"

# Alerts that still need someone: analytics writes one point per state change, so an alert is
# active while the last point of its (site, node, rule) carries one of these states.
ACTIVE_STATES: Final = ("firing", "acknowledged")

__all__ = [
    "ACTIVE_STATES",
    "ALERT",
    "DERIVED",
    "NODE_HEALTH",
    "NODE_STATUS",
    "PIPELINE",
    "READING",
    "REJECTED",
    "SITE_INFO",
]
