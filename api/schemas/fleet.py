"""Fleet health, for technicians."""

from __future__ import annotations

from pydantic import BaseModel, Field


class NodeHealthOut(BaseModel):
    site: str
    node: str
    registry_state: str = Field(description="active or revoked (registry); 'unregistered' if only InfluxDB knows it")
    firmware: str | None = Field(description="From the node's last status, else the registry")
    sensors: list[str]
    interval_s: int | None
    last_seen: int | None = Field(description="Time of the last reading, ms")
    age_s: float | None = Field(description="Seconds since the last reading")
    battery_v: float | None
    rssi: float | None
    online: bool | None = Field(description="From the node's last status message (the broker's will when it drops)")
    status_at: int | None
    uptime_s: float | None
    spool_depth: int | None = Field(description="Readings waiting in the node's outbox at its last status")
    sensor_faults: list[str]
    received: int | None = Field(description="Reading sets received in the loss window")
    gaps: int | None = Field(description="Reading sets missing (seq gaps) in the loss window")
    loss_rate: float | None = Field(description="gaps / (received + gaps) over the loss window")
    loss_window_s: int
