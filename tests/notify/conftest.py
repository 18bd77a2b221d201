"""Local stand-ins for the third-party services notify talks to: HTTP servers that check requests as
the real APIs document them, and a real SMTP server (aiosmtpd) that demands STARTTLS and AUTH."""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from contract.alerts import AlertEvent
from tests.http_json import send_json

ACK_SECRET = "test-ack-secret-0123456789abcdef"
T0_MS = 1764451200000  # 2025-11-29 21:20 UTC = 04:20 on 30/11 in Vietnam


def alert(**kw: Any) -> AlertEvent:
    doc: dict[str, Any] = {
        "id": "a-9f2c41", "site": "hk-pond-1", "node": "hk-pond-n02", "rule": "dissolved_oxygen.crit_low",
        "kind": "agronomic", "audience": "farmer", "severity": "critical", "state": "firing",
        "quantity": "dissolved_oxygen", "value": 1.8, "threshold": 2.0, "unit": "mg/L",
        "started": T0_MS, "ts": T0_MS,
    }  # fmt: skip
    doc.update(kw)
    return AlertEvent(**doc)


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


Responder = Callable[[Request], tuple[int, Any]]


@dataclass
class HttpServer:
    """Records every request; `respond` decides the answer (status, JSON-able body)."""

    respond: Responder = lambda req: (200, {"ok": True})
    requests: list[Request] = field(default_factory=list)
    delay_s: float = 0.0
    port: int = 0
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HttpServer:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                req = Request(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                              self.rfile.read(n))  # fmt: skip
                outer.requests.append(req)
                if outer.delay_s:
                    time.sleep(outer.delay_s)
                status, body = outer.respond(req)
                send_json(self, status, body)

            do_POST = do_GET = do_PUT = _handle

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()


@pytest.fixture
def http_server() -> Iterator[HttpServer]:
    srv = HttpServer().start()
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("tls")
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
         "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class SmtpServer:
    port: int
    messages: list[Any]
    logins: list[str]
    ca_file: str
    tls_seen: list[bool]


@pytest.fixture
def smtp_server(tls_cert: tuple[Path, Path]) -> Iterator[SmtpServer]:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from ruongso.local_services import free_port

    cert, key = tls_cert
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    messages: list[Any] = []
    logins: list[str] = []
    tls_seen: list[bool] = []

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            tls_seen.append(session.ssl is not None)
            messages.append(envelope)
            return "250 OK"

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"notify", b"s3cret")
        if ok:
            logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(
        Handler(), hostname="127.0.0.1", port=port, tls_context=ctx, require_starttls=True,
        auth_required=True, authenticator=authenticator,
    )  # fmt: skip
    controller.start()
    yield SmtpServer(port, messages, logins, str(cert), tls_seen)
    controller.stop()
