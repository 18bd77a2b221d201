"""One-tap acknowledge tokens: HMAC-signed, expiring, naming one alert and one recipient.

notify puts `<public_url>/a/<token>` in every message; the API's `/a/{token}` endpoint calls
`verify(secret, token)` and, if it returns a claim, records the acknowledgement (docs/notify.md,
"Acknowledge links"). Both read the secret from `RUONGSO_ACK_SECRET`; there is no default, so a
deployment that forgot it refuses to start instead of signing with a guessable key.

Token = base64url(payload) "." base64url(mac), payload = alert, site, recipient, expiry (Unix s)
joined by U+001F; mac = HMAC-SHA256(secret, domain || payload) truncated to 128 bits (RFC 2104 §5
allows truncation; 128 bits is far beyond online guessing). Stdlib only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Final

_DOMAIN: Final = b"ruongso-ack-v1\x00"  # keeps these MACs distinct from any other use of the secret
_SEP: Final = "\x1f"
_MAC_BYTES: Final = 16
MIN_SECRET_BYTES: Final = 16
MAX_TOKEN_CHARS: Final = 400


class AckTokenError(ValueError):
    """A token that must be refused; `reason` is one of: malformed, bad_signature, expired."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


class AckSecretError(ValueError):
    """No usable signing secret: the service must not start."""


@dataclass(frozen=True, slots=True)
class AckClaim:
    alert_id: str
    site: str
    recipient: str
    expires_s: int


def secret_bytes(secret: str | None) -> bytes:
    """The signing key from the configured secret; refuses a missing or short one."""
    if not secret:
        raise AckSecretError(
            "RUONGSO_ACK_SECRET is not set: acknowledge links cannot be signed. "
            "Set it to a long random string (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`), "
            "the same value for notify and the API."
        )
    key = secret.encode()
    if len(key) < MIN_SECRET_BYTES:
        raise AckSecretError(f"RUONGSO_ACK_SECRET is {len(key)} bytes; use at least {MIN_SECRET_BYTES}")
    return key


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, _DOMAIN + payload, hashlib.sha256).digest()[:_MAC_BYTES]


def issue(secret: str, alert_id: str, site: str, recipient: str, ttl_s: float, now_s: float | None = None) -> str:
    """A token acknowledging `alert_id` as `recipient`, valid for `ttl_s` seconds."""
    key = secret_bytes(secret)
    for name, value in (("alert_id", alert_id), ("site", site), ("recipient", recipient)):
        if not value or _SEP in value:
            raise ValueError(f"{name} {value!r} cannot go into an ack token")
    expires = int((time.time() if now_s is None else now_s) + ttl_s)
    payload = _SEP.join((alert_id, site, recipient, str(expires))).encode()
    return f"{_b64(payload)}.{_b64(_mac(key, payload))}"


def verify(secret: str, token: str, now_s: float | None = None) -> AckClaim:
    """The claim in `token`, or AckTokenError if it is malformed, forged/tampered or expired."""
    key = secret_bytes(secret)
    if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS or token.count(".") != 1:
        raise AckTokenError("malformed", "not a token")
    body, sig = token.split(".")
    try:
        payload, mac = _unb64(body), _unb64(sig)
    except (binascii.Error, ValueError):
        raise AckTokenError("malformed", "not base64url") from None
    # Signature first, in constant time, so a forger learns nothing from which check failed.
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise AckTokenError("bad_signature", "signature does not match")
    try:
        alert_id, site, recipient, expires = payload.decode().split(_SEP)
        expires_s = int(expires)
    except ValueError:
        raise AckTokenError("malformed", "payload is not alert/site/recipient/expiry") from None
    if (time.time() if now_s is None else now_s) >= expires_s:
        raise AckTokenError("expired", f"expired at {expires_s}")
    return AckClaim(alert_id, site, recipient, expires_s)


def ack_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}/a/{token}"
