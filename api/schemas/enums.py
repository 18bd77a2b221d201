"""API enums derived from the contract and the registry, so the OpenAPI schema lists exactly what is valid."""

from __future__ import annotations

from enum import StrEnum

from contract.alerts import AUDIENCES, KINDS, SEVERITIES, STATES
from contract.quantities import QUANTITIES
from registry.models import CHANNELS, CONTACT_ROLES, LANGUAGES, ROLES
from registry.validate import profile_stages
from ruongso import profiles

Quantity = StrEnum("Quantity", {q: q for q in QUANTITIES})  # type: ignore[misc]
Profile = StrEnum("Profile", {p: p for p in profiles.profile_ids()})  # type: ignore[misc]
# Every profile's stages; which of them a site may take depends on its profile (checked by the registry).
Stage = StrEnum("Stage", {s: s for p in profiles.profile_ids() for s in profile_stages(p)})  # type: ignore[misc]
Role = StrEnum("Role", {r: r for r in ROLES})  # type: ignore[misc]
ContactRole = StrEnum("ContactRole", {r: r for r in CONTACT_ROLES})  # type: ignore[misc]
Channel = StrEnum("Channel", {c: c for c in CHANNELS})  # type: ignore[misc]
Language = StrEnum("Language", {c: c for c in LANGUAGES})  # type: ignore[misc]
AlertKind = StrEnum("AlertKind", {k: k for k in KINDS})  # type: ignore[misc]
Audience = StrEnum("Audience", {k: k for k in AUDIENCES})  # type: ignore[misc]
Severity = StrEnum("Severity", {k: k for k in SEVERITIES})  # type: ignore[misc]
AlertState = StrEnum("AlertState", {k: k for k in STATES})  # type: ignore[misc]


class Aggregate(StrEnum):
    mean = "mean"
    min = "min"
    max = "max"
