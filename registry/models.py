"""What the registry holds, as plain frozen records (the API turns them into its response models)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

ROLES: Final = ("admin", "officer", "technician", "farmer")
CONTACT_ROLES: Final = ("farmer", "technician", "officer")
CHANNELS: Final = ("sms", "zalo", "email")
LANGUAGES: Final = ("vi", "en")
NODE_STATES: Final = ("active", "revoked")
# A node slug that would make `farm/{site}/alerts/control` look like a node topic.
RESERVED_NODE_SLUGS: Final = frozenset({"alerts"})


@dataclass(frozen=True, slots=True)
class Commune:
    id: int
    slug: str
    name: str
    district: str = ""
    province: str = ""


@dataclass(frozen=True, slots=True)
class Site:
    id: int
    slug: str
    name: str
    profile: str
    commune: str | None = None
    lat: float | None = None
    lon: float | None = None
    growing_area_code: str | None = None
    created_ms: int = 0
    stage: str | None = None  # growth/production stage, one the profile knows (validate.profile_stages)
    tan_mg_l: float | None = None  # a pond's last hand-measured total-ammonia-nitrogen test, mg/L
    tan_measured_ms: int | None = None  # when that test was taken
    outdoor_node: str | None = None  # slug of the site's outdoor reference node (rule function `outside`)


@dataclass(frozen=True, slots=True)
class Node:
    id: int
    site: str
    slug: str
    sensors: list[str]
    interval_s: int
    firmware: str
    mqtt_username: str
    credential_hash: str
    state: str
    created_ms: int
    revoked_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Contact:
    id: int
    name: str
    role: str
    phone: str | None = None
    email: str | None = None
    zalo_id: str | None = None
    channels: list[str] = field(default_factory=list)
    language: str = "vi"


@dataclass(frozen=True, slots=True)
class SiteContact:
    contact: Contact
    is_owner: bool


@dataclass(frozen=True, slots=True)
class Override:
    site: str
    quantity: str
    warn_low: float | None
    warn_high: float | None
    crit_low: float | None
    crit_high: float | None
    note: str
    updated_ms: int


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    name: str
    role: str
    sites: frozenset[str]
    contact_id: int | None
    created_ms: int
    revoked_ms: int | None = None

    def sees(self, site: str) -> bool:
        """Farmers see only their sites; every other role sees the district."""
        return self.role != "farmer" or site in self.sites


@dataclass(frozen=True, slots=True)
class ServiceAccount:
    id: int
    username: str
    credential_hash: str
    access: str
    created_ms: int
    revoked_ms: int | None = None


@dataclass(frozen=True, slots=True)
class Ack:
    alert_id: str
    site: str
    acked_by: str
    note: str
    acked_ms: int


@dataclass(frozen=True, slots=True)
class Silence:
    id: int
    site: str
    node: str | None
    start_ms: int
    end_ms: int
    reason: str
    created_by: str
    created_ms: int
    cancelled_ms: int | None = None

    def active(self, at_ms: int) -> bool:
        return self.cancelled_ms is None and self.start_ms <= at_ms < self.end_ms
