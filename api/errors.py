"""Every error leaves the API as `{"error": code, "message": sentence}` (plus `details` for bad input).

401 when no valid token was sent, 403 when the token may not do this, 404 for what does not exist, 409 for
conflicts, 422 for invalid input, 502 when InfluxDB fails, 500 (no stack trace) for our own bugs.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from registry.db import Conflict, NotFound, RegistryError
from ruongso.influx import InfluxError
from ruongso.logs import event

log = logging.getLogger("api")

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 422: "invalid_input", 500: "internal", 502: "influx_unavailable", 503: "unavailable"}


def error_body(status: int, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": CODES.get(status, "error"), "message": message, **extra}


def _json(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse(error_body(status, message, **extra), status_code=status, headers=headers)


def install(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _json(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")} for e in exc.errors()
        ]
        first = details[0] if details else {"where": "", "problem": "invalid"}
        return _json(422, f"{first['where']}: {first['problem']}", details=details)

    @app.exception_handler(NotFound)
    async def _not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _json(404, str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(_: Request, exc: Conflict) -> JSONResponse:
        return _json(409, str(exc))

    @app.exception_handler(RegistryError)
    async def _registry(_: Request, exc: RegistryError) -> JSONResponse:
        return _json(422, str(exc))

    @app.exception_handler(InfluxError)
    async def _influx(request: Request, exc: InfluxError) -> JSONResponse:
        event(log, "influx_failed", logging.WARNING, path=request.url.path, status=exc.status, error=str(exc)[:300])
        return _json(502, "InfluxDB could not answer this request; try again later")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled", exc_info=exc, extra={"fields": {"path": request.url.path}})
        return _json(500, "internal error; it has been logged")
