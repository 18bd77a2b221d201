"""One-tap acknowledge tokens: what the API will verify before acknowledging without a login."""

from __future__ import annotations

import base64

import pytest

from ruongso.ack_tokens import AckSecretError, AckTokenError, ack_url, issue, verify

from .conftest import ACK_SECRET

NOW = 1_764_451_200.0


def test_a_token_names_its_alert_site_and_recipient() -> None:
    token = issue(ACK_SECRET, "a-9f2c41", "hk-pond-1", "lan", ttl_s=3600, now_s=NOW)
    claim = verify(ACK_SECRET, token, now_s=NOW + 60)
    assert (claim.alert_id, claim.site, claim.recipient) == ("a-9f2c41", "hk-pond-1", "lan")
    assert claim.expires_s == NOW + 3600
    assert ack_url("https://rs.example.vn/", token) == f"https://rs.example.vn/a/{token}"
    assert len(token) < 100 and "/" not in token and "+" not in token


def test_an_expired_token_is_refused() -> None:
    token = issue(ACK_SECRET, "a-1", "s", "lan", ttl_s=60, now_s=NOW)
    with pytest.raises(AckTokenError) as err:
        verify(ACK_SECRET, token, now_s=NOW + 60)
    assert err.value.reason == "expired"


def test_a_token_signed_with_another_secret_is_refused() -> None:
    forged = issue("someone-elses-secret-0123456789", "a-1", "s", "lan", ttl_s=600, now_s=NOW)
    with pytest.raises(AckTokenError) as err:
        verify(ACK_SECRET, forged, now_s=NOW)
    assert err.value.reason == "bad_signature"


def test_a_tampered_token_is_refused() -> None:
    token = issue(ACK_SECRET, "a-1", "s", "lan", ttl_s=600, now_s=NOW)
    body, sig = token.split(".")
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).replace(b"lan", b"bob")
    other = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    with pytest.raises(AckTokenError) as err:
        verify(ACK_SECRET, f"{other}.{sig}", now_s=NOW)
    assert err.value.reason == "bad_signature"
    # Extending the expiry is tampering too.
    later = base64.urlsafe_b64encode(payload.replace(b"lan", b"lan")[:-3] + b"999").rstrip(b"=").decode()
    with pytest.raises(AckTokenError):
        verify(ACK_SECRET, f"{later}.{sig}", now_s=NOW)


@pytest.mark.parametrize("junk", ["", "abc", "a.b.c", "!!!.???", "x" * 1000, ".", "YQ.YQ"])
def test_malformed_tokens_are_refused_not_crashed_on(junk: str) -> None:
    with pytest.raises(AckTokenError):
        verify(ACK_SECRET, junk, now_s=NOW)


@pytest.mark.parametrize("secret", [None, "", "short"])
def test_no_secret_no_tokens(secret: str | None) -> None:
    with pytest.raises(AckSecretError):
        issue(secret, "a-1", "s", "lan", ttl_s=60)  # type: ignore[arg-type]
    with pytest.raises(AckSecretError):
        verify(secret, "x.y")  # type: ignore[arg-type]


def test_the_dispatcher_refuses_to_start_without_a_secret(ruongso_cmd: list[str], tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("RUONGSO_")}
    r = subprocess.run([*ruongso_cmd, "notify", "--routing", str(tmp_path / "r.yaml"), "--outbox",
                        str(tmp_path / "o.db")], env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert r.returncode == 2
    assert "RUONGSO_ACK_SECRET is not set" in r.stderr
    assert "Traceback" not in r.stderr
