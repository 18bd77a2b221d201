"""API tokens (admins)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from api.deps import SLUG_PATTERN
from api.schemas.enums import Role


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="Who holds it (shown in logs and acks)")
    role: Role
    sites: list[Annotated[str, Field(pattern=SLUG_PATTERN, max_length=63)]] = Field(
        default_factory=list, description="A farmer token's sites"
    )
    contact_id: int | None = Field(None, ge=1, le=2**62, description="A farmer token may take its sites from a contact")


class TokenOut(BaseModel):
    id: int
    name: str
    role: str
    sites: list[str] | None
    created_ms: int
    revoked_ms: int | None


class TokenCreatedOut(TokenOut):
    token: str = Field(description="The secret: shown once, never stored")
