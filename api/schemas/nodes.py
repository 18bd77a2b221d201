"""Nodes and provisioning."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.deps import SLUG_PATTERN
from api.schemas.enums import Quantity
from registry.nodes import MAX_INTERVAL_S, MIN_INTERVAL_S


class NodeCreate(BaseModel):
    site: str = Field(pattern=SLUG_PATTERN, max_length=63)
    node: str = Field(pattern=SLUG_PATTERN, max_length=63)
    sensors: list[Quantity] | None = Field(None, description="Default: what the site's profile measures")
    interval_s: int = Field(60, ge=MIN_INTERVAL_S, le=MAX_INTERVAL_S)
    firmware: str = Field("", max_length=64)


class NodeOut(BaseModel):
    site: str
    node: str
    sensors: list[str]
    interval_s: int
    firmware: str
    mqtt_username: str
    state: str
    created_ms: int
    revoked_ms: int | None


class NodeProvisionedOut(BaseModel):
    node: NodeOut
    node_yaml: str = Field(description="The file for the edge agent, password included: shown once")
    config: dict[str, Any]
    broker_synced: bool = Field(description="Whether Mosquitto's password/ACL files were rewritten and reloaded")


class NodeRevokedOut(BaseModel):
    node: NodeOut
    broker_synced: bool
