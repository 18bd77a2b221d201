"""Named dependencies: the registry connection, InfluxDB, the caller's token, role and site checks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.context import AppContext
from api.query_cache import CachedReader
from contract.topics import SLUG_RE
from registry import tokens
from registry.db import Connection
from registry.models import Token
from registry.sites import get_site
from ruongso.influx import InfluxClient

_bearer = HTTPBearer(auto_error=False, description="An API token from `ruongso token create`.")
SLUG_PATTERN = SLUG_RE.pattern


# The dependencies below are `async def` on purpose: each is microseconds of work (SQLite in WAL mode never
# blocks a reader), and a sync dependency would cost a thread-pool hop per request. Endpoints that wait
# on InfluxDB stay sync and run in the thread pool.


async def get_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


ContextDep = Annotated[AppContext, Depends(get_context)]


async def get_registry(ctx: ContextDep) -> AsyncIterator[Connection]:
    conn = ctx.registry.acquire()
    try:
        yield conn
    finally:
        ctx.registry.release(conn)


RegistryDep = Annotated[Connection, Depends(get_registry)]


async def get_influx(ctx: ContextDep) -> InfluxClient:
    return ctx.influx


InfluxDep = Annotated[InfluxClient, Depends(get_influx)]


async def get_reader(ctx: ContextDep) -> CachedReader:
    return ctx.reader


# Reads that may be a few seconds old (readings, fleet, alert lists) go through the query cache.
ReaderDep = Annotated[CachedReader, Depends(get_reader)]


async def current_token(
    request: Request,
    conn: RegistryDep,
    creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Token:
    challenge = {"WWW-Authenticate": "Bearer"}
    if creds is None or creds.scheme.lower() != "bearer" or not creds.credentials:
        raise HTTPException(401, "send an API token: Authorization: Bearer <token>", headers=challenge)
    token = tokens.authenticate(conn, creds.credentials)
    if token is None:
        raise HTTPException(401, "this API token is unknown or revoked", headers=challenge)
    request.state.token_name = token.name
    return token


CurrentToken = Annotated[Token, Depends(current_token)]


def require(*roles: str) -> Callable[[Token], Coroutine[None, None, Token]]:
    """A dependency that lets only these roles through (403 for the others)."""

    async def check(token: CurrentToken) -> Token:
        if token.role not in roles:
            raise HTTPException(403, f"role {token.role!r} may not do this (needs one of: {', '.join(roles)})")
        return token

    return check


SitePath = Annotated[str, Path(pattern=SLUG_PATTERN, max_length=63, description="Site slug")]


async def visible_site(site: SitePath, token: CurrentToken, conn: RegistryDep) -> str:
    """The path's site, if it exists and the token may see it (a farmer: only their own, else 403)."""
    if not token.sees(site):
        raise HTTPException(403, f"this token may not see site {site!r}")
    get_site(conn, site)
    return site


VisibleSite = Annotated[str, Depends(visible_site)]
