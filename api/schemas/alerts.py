"""Alerts (analytics' events, with people's acknowledgements and silences overlaid)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

ALERT_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"


class AckInfo(BaseModel):
    by: str
    at: int
    note: str


class AlertOut(BaseModel):
    id: str
    site: str
    node: str | None
    rule: str
    kind: str
    audience: str
    severity: str
    state: str = Field(description="State of analytics' latest event of this alert")
    started: int | None
    ts: int = Field(description="Time of the latest event, ms")
    quantity: str | None = None
    value: float | None = None
    threshold: float | None = None
    unit: str | None = None
    text: dict[str, str] = Field(default_factory=dict)
    acknowledged: AckInfo | None = None
    silenced: bool = False

    @classmethod
    def from_row(cls, r: dict[str, Any]) -> AlertOut:
        text = {lang: r[f"text_{lang}"] for lang in ("vi", "en") if r.get(f"text_{lang}")}
        node = r.get("node")
        started = r.get("started")
        return cls(
            id=r["id"], site=r.get("site") or "", node=None if node in (None, "", "-") else node,
            rule=r.get("rule") or "", kind=r.get("kind") or "", audience=r.get("audience") or "",
            severity=r.get("severity") or "", state=r.get("state") or "",
            started=int(started) if isinstance(started, int | float) else None, ts=int(r["time"]),
            quantity=r.get("quantity") or None, value=r.get("value"), threshold=r.get("threshold"),
            unit=r.get("unit") or None, text=text,
        )


class AckCreate(BaseModel):
    note: str = Field("", max_length=500)


class AckOut(BaseModel):
    alert_id: str
    site: str
    by: str
    at: int
    published: bool = Field(description="Whether the site's alert-control message reached the broker")


class SilenceCreate(BaseModel):
    node: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9-]{0,62}$", description="None: the whole site")
    start: int | None = Field(None, ge=0, le=4_102_444_800_000, description="ms since the epoch; default now")
    end: int | None = Field(None, ge=0, le=4_102_444_800_000, description="ms; give end or duration")
    duration: str | None = Field(None, max_length=16, description="Like 2h, 1d (instead of end)")
    reason: str = Field("", max_length=500)


class SilenceOut(BaseModel):
    id: int
    site: str
    node: str | None
    start: int
    end: int
    reason: str
    by: str
    cancelled: int | None = None
    published: bool | None = None
