"""Local servers that check requests the way the real third-party APIs document them."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from notify.templates import TEMPLATES

from .conftest import Request


@dataclass
class ZaloFake:
    """Zalo OA OAuth v4 token refresh + ZNS `POST /message/template`, as documented (docs/notify.md)."""

    app_id: str = "1234567890"
    secret_key: str = "zalo-app-secret"
    refresh_token: str = "refresh-0"
    access_token: str = "access-issued-elsewhere"  # what notify starts with is stale
    templates: dict[str, str] = field(default_factory=lambda: {n: str(300000 + i) for i, n in enumerate(TEMPLATES)})
    sent: list[dict[str, Any]] = field(default_factory=list)
    oa_sent: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    unavailable: bool = False
    _n: Any = field(default_factory=itertools.count)

    def respond(self, req: Request) -> tuple[int, Any]:
        if self.unavailable:
            return 503, {"error": "unavailable"}
        if req.path == "/v4/oa/access_token":
            return self._refresh(req)
        if req.path == "/message/template":
            return self._send(req)
        if req.path == "/v3.0/oa/message/cs":
            return self._oa(req)
        return 404, {}

    def _refresh(self, req: Request) -> tuple[int, Any]:
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if req.method != "POST" or req.headers.get("secret_key") != self.secret_key:
            self.problems.append(f"refresh without the secret_key header: {req.headers}")
            return 200, {"error": -14014, "error_name": "Invalid secret key"}
        if not req.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            self.problems.append("refresh body is not form-encoded")
        if form != {"refresh_token": self.refresh_token, "app_id": self.app_id, "grant_type": "refresh_token"}:
            self.problems.append(f"refresh form {form}")
            return 200, {"error": -14019, "error_name": "Invalid refresh token"}
        n = next(self._n)
        self.access_token, self.refresh_token = f"access-{n}", f"refresh-{n + 1}"  # the old one is spent
        return 200, {"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_in": "90000"}

    def _oa(self, req: Request) -> tuple[int, Any]:
        if req.headers.get("access_token") != self.access_token:
            return 200, {"error": -216, "message": "Access token is invalid"}
        body = req.json()
        if set(body) != {"recipient", "message"} or not str(body["recipient"].get("user_id", "")).isdigit():
            self.problems.append(f"OA body {body}")
            return 200, {"error": -201, "message": "Parameters are invalid"}
        self.oa_sent.append(body)
        return 200, {"error": 0, "message": "Success", "data": {"message_id": f"oa{len(self.oa_sent)}"}}

    def _send(self, req: Request) -> tuple[int, Any]:
        if req.headers.get("access_token") != self.access_token:
            return 200, {"error": -124, "message": "Access token invalid"}
        if not req.headers.get("content-type", "").startswith("application/json"):
            self.problems.append("ZNS body is not JSON")
        body = req.json()
        if set(body) != {"phone", "template_id", "template_data", "tracking_id"}:
            self.problems.append(f"ZNS body keys {sorted(body)}")
        if not re.fullmatch(r"84\d{9}", str(body.get("phone"))):
            return 200, {"error": -108, "message": "Phone number invalid"}
        name = {v: k for k, v in self.templates.items()}.get(body.get("template_id"))
        if name is None:
            return 200, {"error": -109, "message": "Template ID invalid"}
        if set(body["template_data"]) != {*TEMPLATES[name].params, "ack_token"}:
            return 200, {"error": -112, "message": "Template data invalid"}
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,48}", str(body.get("tracking_id"))):
            self.problems.append(f"tracking_id {body.get('tracking_id')!r}")
        self.sent.append(body)
        return 200, {"error": 0, "message": "Success",
                     "data": {"msg_id": f"zmsg{len(self.sent)}", "sent_time": "1764452400000"}}  # fmt: skip


@dataclass
class WebhookReceiver:
    """Verifies the HMAC-SHA256 signature, dedupes by Idempotency-Key, as a careful receiver would."""

    secret: str = "webhook-secret-123"
    fail_status: int | None = None
    received: list[dict[str, Any]] = field(default_factory=list)  # every verified request, duplicates too
    keys: list[str] = field(default_factory=list)  # first arrivals only
    refused: int = 0

    def respond(self, req: Request) -> tuple[int, Any]:
        if self.fail_status:
            return self.fail_status, {"error": "down"}
        ts = req.headers.get("x-ruongso-timestamp", "")
        want = "sha256=" + hmac.new(self.secret.encode(), ts.encode() + b"." + req.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(req.headers.get("x-ruongso-signature", ""), want):
            self.refused += 1
            return 401, {"error": "bad signature"}
        doc = req.json()
        key = req.headers.get("idempotency-key", "")
        if key != doc.get("key"):
            return 400, {"error": "Idempotency-Key differs from body key"}
        self.received.append(doc)
        if key not in self.keys:
            self.keys.append(key)
        return 200, {"ok": True}
