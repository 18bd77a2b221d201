"""Communes, sites, contacts and threshold overrides."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from api.deps import SLUG_PATTERN
from api.schemas.enums import Channel, ContactRole, Language, Profile, Stage
from registry.validate import GROWING_AREA_RE, TAN_MAX_MG_L


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
    stage: str | None = Field(description="Growth/production stage (rules test it); null: not entered")
    tan_mg_l: float | None = Field(description="The pond's last total-ammonia-nitrogen test, mg/L")
    tan_measured_ms: int | None = Field(description="When that test was taken (ms since the epoch, UTC)")
    tan_fresh: bool = Field(description="Whether the test is recent enough for the ammonia rules (7 days)")
    outdoor_node: str | None = Field(description="Slug of the site's outdoor reference node (rules' outside(q))")


class SiteConditionsPatch(BaseModel):
    """Fields left out stay as they are; null clears one."""

    model_config = ConfigDict(extra="forbid")

    stage: Stage | None = Field(None, description="One of the stages of the site's profile")
    tan_mg_l: float | None = Field(None, ge=0, le=TAN_MAX_MG_L,
                                   description="TAN test result, mg/L; null clears the test")
    tan_measured_ms: int | None = Field(
        None, gt=0, lt=2**63, description="When the test was taken (ms since the epoch); default now. Needs tan_mg_l"
    )
    outdoor_node: str | None = Field(None, pattern=SLUG_PATTERN, max_length=63,
                                     description="A node of the same site (not for farmer tokens)")


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
