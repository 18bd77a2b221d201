"""API tokens for admins (the same as `ruongso token create|list|revoke`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from api.deps import RegistryDep, require
from api.schemas.common import ERRORS
from api.schemas.tokens import TokenCreate, TokenCreatedOut, TokenOut
from registry import tokens
from registry.models import Token

router = APIRouter(tags=["tokens"], responses=ERRORS)
Admin = Annotated[Token, Depends(require("admin"))]


def _out(t: Token) -> TokenOut:
    return TokenOut(id=t.id, name=t.name, role=t.role, sites=sorted(t.sites) if t.role == "farmer" else None,
                    created_ms=t.created_ms, revoked_ms=t.revoked_ms)


@router.get("/tokens", response_model=list[TokenOut], summary="Every token (never its secret)")
def list_tokens(_: Admin, conn: RegistryDep) -> list[TokenOut]:
    return [_out(t) for t in tokens.list_tokens(conn)]


@router.post("/tokens", response_model=TokenCreatedOut, status_code=201, summary="Create a token (secret shown once)")
def create_token(body: TokenCreate, _: Admin, conn: RegistryDep) -> TokenCreatedOut:
    token, secret = tokens.create_token(conn, body.name, body.role.value, body.sites, body.contact_id)
    return TokenCreatedOut(**_out(token).model_dump(), token=secret)


@router.delete("/tokens/{token_id}", response_model=TokenOut, summary="Revoke a token")
def revoke_token(token_id: Annotated[int, Path(ge=1, le=2**62)], _: Admin, conn: RegistryDep) -> TokenOut:
    return _out(tokens.revoke_token(conn, token_id))
