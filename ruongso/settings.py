"""Settings shared by the server-side services: env vars `RUONGSO_*`, CLI flags override.

Each service has one frozen settings class built once in its `main()`; an invalid value stops the
service at start with the option's name and the bad value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ruongso.durations import parse_duration
from ruongso.mqtt import parse_mqtt_url


def _parses(parse: Callable[[str], object]) -> AfterValidator:
    """Keep the text as written, but refuse it at start if `parse` cannot read it."""

    def check(v: str) -> str:
        parse(v)
        return v

    return AfterValidator(check)


# Setting types declared once: every service's settings use these instead of its own validator.
Duration = Annotated[str, _parses(parse_duration)]
MqttUrl = Annotated[str, _parses(parse_mqtt_url)]


class SettingsError(ValueError):
    pass


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RUONGSO_", frozen=True, extra="ignore")

    mqtt_url: MqttUrl = "mqtt://127.0.0.1:1883"
    mqtt_ca_file: str | None = None
    influx_url: str = "http://127.0.0.1:8086"
    influx_db: str = "farm"
    influx_user: str | None = None
    influx_password: str | None = None
    log_json: bool = False
    log_level: str = "INFO"

    @field_validator("influx_url")
    @classmethod
    def _influx_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return v.upper()


S = TypeVar("S", bound=ServiceSettings)


def build(cls: type[S], **flags: Any) -> S:
    """Settings from env and flags (flags given as None are left to env/defaults)."""
    try:
        return cls(**{k: v for k, v in flags.items() if v is not None})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}={e.get('input')!r}: {e['msg']}" for e in exc.errors()
        )
        raise SettingsError(f"invalid settings: {problems}") from None
