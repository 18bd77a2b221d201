"""Every board of the deployment. Each module builds its dashboard(s) from the registries."""

from __future__ import annotations

from dashboards.boards import alerts, fleet, overview, pipeline, site_detail
from dashboards.model import Dashboard


def all_boards() -> list[Dashboard]:
    return [overview.board(), *site_detail.boards(), fleet.board(), alerts.board(), pipeline.board()]
