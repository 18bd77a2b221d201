"""Models every resource shares."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorOut(BaseModel):
    error: str
    message: str


class MeOut(BaseModel):
    id: int
    name: str
    role: str
    sites: list[str] | None = None


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No token, or an unknown/revoked one"},
    403: {"model": ErrorOut, "description": "The token's role or sites do not allow this"},
    404: {"model": ErrorOut, "description": "No such site, node or alert"},
    422: {"model": ErrorOut, "description": "Invalid input"},
}
