"""InfluxDB v1 HTTP API client: line protocol over `/write`, InfluxQL over `/query`.

One code path for InfluxDB 1.x, 2.x's v1 compatibility endpoints and 3.x. Errors are sorted by
whether a retry can help (network, 5xx, 429) or not (400 bad line, 401/403, 404, 413, 422), so the
writer knows whether to retry, spool or dead-letter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx

_IDENT_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InfluxError(RuntimeError):
    def __init__(self, message: str, status: int | None = None, retryable: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable


def _retryable(status: int) -> bool:
    return status >= 500 or status == 429


def quote_ident(name: str) -> str:
    """A validated InfluxQL identifier in double quotes; ValueError for anything else (no injection)."""
    if not _IDENT_RE.match(name):
        raise ValueError(f"{name!r} is not a valid identifier (A-Z a-z 0-9 _ -)")
    return f'"{name}"'


def quote_literal(value: str) -> str:
    """An InfluxQL string literal: backslash and single quote escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    tags: dict[str, str]
    columns: list[str]
    values: list[list[Any]]

    def rows(self) -> list[dict[str, Any]]:
        return [dict(zip(self.columns, v, strict=False)) for v in self.values]


class InfluxClient:
    def __init__(
        self,
        url: str,
        database: str,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.url = url.rstrip("/")
        self.database = database
        quote_ident(database)
        self._auth = {"u": username, "p": password} if username else {}
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            limits=httpx.Limits(max_connections=8, max_keepalive_connections=8),
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> InfluxClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            r = self._http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise InfluxError(f"InfluxDB at {self.url} unreachable: {exc}", None, True) from None
        if r.status_code >= 300:
            try:
                msg = r.json().get("error", r.text)
            except ValueError:
                msg = r.text
            raise InfluxError(f"InfluxDB {path} answered {r.status_code}: {msg[:300]}", r.status_code,
                              _retryable(r.status_code))
        return r

    def ping(self) -> bool:
        try:
            return self._http.get("/ping").status_code == 204
        except httpx.HTTPError:
            return False

    def create_database(self) -> None:
        self._request("POST", "/query", params={**self._auth, "q": f"CREATE DATABASE {quote_ident(self.database)}"})

    def write(self, lines: list[str] | str | bytes, precision: str = "ms") -> None:
        body = lines if isinstance(lines, bytes | str) else "\n".join(lines)
        self._request(
            "POST",
            "/write",
            params={**self._auth, "db": self.database, "precision": precision},
            content=body if isinstance(body, bytes) else body.encode(),
        )

    def query(self, q: str, epoch: str = "ms") -> list[Series]:
        """Run InfluxQL; return every series of every statement. Statement errors raise InfluxError."""
        # Credentials go in the URL: InfluxDB 1.x does not read u/p from a form body (401).
        r = self._request("POST", "/query", params=self._auth,
                          data={"db": self.database, "q": q, "epoch": epoch})
        out: list[Series] = []
        for result in r.json().get("results", []):
            if "error" in result:
                raise InfluxError(f"InfluxQL error: {result['error']}", 400, False)
            for s in result.get("series", []):
                out.append(Series(s.get("name", ""), s.get("tags", {}), s["columns"], s["values"]))
        return out

    def count_points(self, measurement: str, where: str = "") -> int:
        """Number of distinct timestamps×series in `measurement` (counts on the integer field `seq`)."""
        q = f"SELECT count(seq) FROM {quote_ident(measurement)}" + (f" WHERE {where}" if where else "")
        series = self.query(q)
        return int(series[0].values[0][1]) if series else 0
