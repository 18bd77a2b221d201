"""Communes, sites, contacts and threshold overrides."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.deps import SLUG_PATTERN
from api.schemas.enums import Channel, ContactRole, Language, Profile
from registry.validate import GROWING_AREA_RE


class CommuneCreate(BaseModel):
    slug: str = Field(pattern=SLUG_PATTERN, max_length=63)
    name: str = Field(min_length=1, max_length=200)
    district: str = Field("", max_length=200)
    province: str = Field("", max_length=200)


class CommuneOut(BaseModel):
    slug: str
    name: str
    district: str
    province: str


class SiteCreate(BaseModel):
    slug: str = Field(pattern=SLUG_PATTERN, max_length=63)
    name: str = Field(min_length=1, max_length=200)
    profile: Profile
    commune: str | None = Field(None, pattern=SLUG_PATTERN, max_length=63)
    lat: float | None = Field(None, ge=-90, le=90)
    lon: float | None = Field(None, ge=-180, le=180)
    growing_area_code: str | None = Field(None, pattern=GROWING_AREA_RE.pattern)


class SiteOut(BaseModel):
    slug: str
    name: str
    profile: str
    commune: str | None
    lat: float | None
    lon: float | None
    growing_area_code: str | None


class ContactCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    role: ContactRole
    phone: str | None = Field(None, max_length=32)
    email: str | None = Field(None, max_length=254)
    zalo_id: str | None = Field(None, max_length=64)
    channels: list[Channel] = Field(default_factory=list)
    language: Language = Language("vi")
    owner: bool = False


class ContactOut(BaseModel):
    id: int
    name: str
    role: str
    phone: str | None
    email: str | None
    zalo_id: str | None
    channels: list[str]
    language: str
    owner: bool


class OverrideSet(BaseModel):
    warn_low: float | None = None
    warn_high: float | None = None
    crit_low: float | None = None
    crit_high: float | None = None
    note: str = Field("", max_length=500)


class OverrideOut(BaseModel):
    quantity: str
    warn_low: float | None
    warn_high: float | None
    crit_low: float | None
    crit_high: float | None
    note: str
    updated_ms: int
