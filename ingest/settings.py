"""Ingest settings: env `RUONGSO_*` (e.g. RUONGSO_BATCH_SIZE), CLI flags override (ruongso.settings)."""

from __future__ import annotations

import re
import socket
from pathlib import Path

from pydantic import field_validator, model_validator

from contract import topics
from contract.wire import DEFAULT_MAX_FUTURE_MS
from ruongso.mqtt import parse_mqtt_url
from ruongso.paths import state_root
from ruongso.settings import ServiceSettings


class IngestSettings(ServiceSettings):
    # Stable across restarts so the broker keeps our session (and its unacked messages) for us.
    # Empty means `ruongso-ingest-<host>-<db>`; instances sharing one stream need distinct ids.
    client_id: str = ""
    # Shared-subscription group (`$share/<group>/farm/+/+/telemetry`); empty: a plain subscription.
    share_group: str = ""
    session_expiry_s: int = 7 * 24 * 3600
    # MQTT 5 Receive Maximum: unacked messages the broker may have in flight to us. Because we ack
    # only after the write, this also bounds ingest's memory.
    receive_maximum: int = 20_000
    batch_size: int = 5000
    batch_ms: int = 200
    # Spool, dead letters and lock; empty: ~/.local/state/ruongso/ingest/<client id>@<broker host>-<port>.
    state_dir: Path | None = None
    spool_max_bytes: int = 1 << 30
    dead_letter_file: Path | None = None
    dead_letter_max_bytes: int = 256 << 20  # then rotated to <file>.1
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9471  # 0 turns the Prometheus endpoint off
    pipeline_interval_s: float = 10.0
    ack_interval_s: float = 1.0
    max_future_ms: int = DEFAULT_MAX_FUTURE_MS
    # A failing write is retried with backoff (capped at retry_max_s) for retry_budget_s, then spooled.
    retry_budget_s: float = 5.0
    retry_max_s: float = 5.0

    @field_validator("state_dir", "dead_letter_file", mode="before")
    @classmethod
    def _empty_path_is_default(cls, v: object) -> object:
        # `RUONGSO_STATE_DIR=` (as in sample.env) means "the default", not the current directory.
        return None if v == "" else v

    @field_validator("share_group")
    @classmethod
    def _group(cls, v: str) -> str:
        if v:
            topics.shared(v, topics.ALL_TELEMETRY)  # raises TopicError (a ValueError) naming the rule
        return v

    @field_validator("client_id")
    @classmethod
    def _client_id(cls, v: str) -> str:
        if v and not re.match(r"^[A-Za-z0-9_.-]{1,64}$", v):
            raise ValueError("must be 1-64 of A-Z a-z 0-9 _ . -")
        return v

    @field_validator("batch_size", "batch_ms", "receive_maximum", "spool_max_bytes", "session_expiry_s",
                     "dead_letter_max_bytes")
    @classmethod
    def _positive(cls, v: int) -> int:
        if v <= 0:
            raise ValueError("must be positive")
        return v

    @field_validator("metrics_port")
    @classmethod
    def _port(cls, v: int) -> int:
        if not 0 <= v <= 65535:
            raise ValueError("must be 0 (off) or a TCP port")
        return v

    @field_validator("pipeline_interval_s", "ack_interval_s", "retry_budget_s", "retry_max_s")
    @classmethod
    def _seconds(cls, v: float) -> float:
        if v <= 0:
            raise ValueError("must be positive")
        return v

    @model_validator(mode="after")
    def _derived(self) -> IngestSettings:
        # The model is frozen; derived defaults are filled in once, here, so every reader sees them.
        if not self.client_id:
            host = re.sub(r"[^A-Za-z0-9_.-]", "-", socket.gethostname())[:24]
            object.__setattr__(self, "client_id", f"ruongso-ingest-{host}-{self.influx_db}"[:64])
        if self.state_dir is None:
            # Keyed by broker too: the session (and so the spool's unacked messages) lives there, and
            # two demos or test runs on private brokers must not share, or lock each other out of, one.
            target = parse_mqtt_url(self.mqtt_url)
            where = f"{self.client_id}@{target.host}-{target.port}"
            object.__setattr__(self, "state_dir", state_root("ingest") / where)
        if self.dead_letter_file is None:
            assert self.state_dir is not None
            object.__setattr__(self, "dead_letter_file", self.state_dir / "dead-letters.jsonl")
        return self

    @property
    def state_path(self) -> Path:
        assert self.state_dir is not None
        return self.state_dir

    @property
    def dead_letter_path(self) -> Path:
        assert self.dead_letter_file is not None
        return self.dead_letter_file

    @property
    def telemetry_filter(self) -> str:
        return topics.shared(self.share_group, topics.ALL_TELEMETRY) if self.share_group else topics.ALL_TELEMETRY
