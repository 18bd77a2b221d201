"""Settings of `ruongso dashboards` (env `RUONGSO_*`, CLI flags override): InfluxDB, and the registry to map."""

from __future__ import annotations

from pydantic import field_validator

from ruongso.settings import ServiceSettings


class DashboardsSettings(ServiceSettings):
    # The fleet registry whose sites `ruongso dashboards sites` puts on the boards (the URL the API uses).
    registry_url: str | None = None

    @field_validator("registry_url")
    @classmethod
    def _registry_url(cls, v: str | None) -> str | None:
        if not v:
            return None
        from registry.db import check_url

        check_url(v)
        return v
