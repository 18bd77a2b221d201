"""MQTT passwords in Mosquitto 2.0's own hash format, so the registry's hash goes straight into the password file.

`$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512(password, salt)>` with a 12-byte salt and a
64-byte key: checked against `mosquitto_passwd` 2.0.11 output (tests/test_registry_broker.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# mosquitto_passwd's default in 2.0; every broker CONNECT pays this once, so keep it modest.
DEFAULT_ITERATIONS = 101
SALT_BYTES = 12


def new_password() -> str:
    """A random password of 192 bits, URL-safe so it fits node.yaml and mqtt:// URLs unquoted."""
    return secrets.token_urlsafe(24)


def hash_password(password: str, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(SALT_BYTES)
    key = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify_password(password: str, hashed: str) -> bool:
    parts = hashed.split("$")
    if len(parts) != 5 or parts[1] != "7":
        return False
    try:
        iterations, salt, key = int(parts[2]), base64.b64decode(parts[3]), base64.b64decode(parts[4])
    except ValueError:
        return False
    return hmac.compare_digest(hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations), key)
