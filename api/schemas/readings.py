"""Readings: latest values, aggregated ranges, growing-area history."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LatestValue(BaseModel):
    quantity: str
    value: float
    unit: str
    t: int = Field(description="Time of the reading, ms since the epoch (UTC)")


class NodeLatest(BaseModel):
    node: str
    values: list[LatestValue]


class LatestOut(BaseModel):
    site: str
    nodes: list[NodeLatest]


class RangeSeries(BaseModel):
    """One node's (or site's) buckets for one quantity, as columns: `t[i]` with `mean[i]`, `min[i]`, …"""

    node: str | None = None
    site: str | None = None
    quantity: str
    unit: str
    t: list[int]
    mean: list[float | None] | None = None
    min: list[float | None] | None = None
    max: list[float | None] | None = None


class RangeOut(BaseModel):
    site: str
    start: int
    end: int
    every_s: int
    series: list[RangeSeries]


class AreaHistoryOut(BaseModel):
    growing_area_code: str
    sites: list[str]
    start: int
    end: int
    every_s: int
    series: list[RangeSeries]
