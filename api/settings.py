"""API settings: the registry's (database, Mosquitto files) plus where to listen and query limits."""

from __future__ import annotations

from registry.settings import RegistrySettings
from ruongso.durations import parse_duration
from ruongso.settings import Duration


class ApiSettings(RegistrySettings):
    api_host: str = "127.0.0.1"
    api_port: int = 8080
    # How far back "latest" and fleet health look for a node's last reading.
    latest_lookback: Duration = "30d"
    # Largest number of (bucket × node × quantity) values one range request may return.
    max_points: int = 200_000
    # Longest range one request may ask for.
    max_range: Duration = "400d"
    # Seconds an InfluxQL result is reused for identical queries (0: never).
    query_cache_s: float = 10.0
    # Verifies the one-tap acknowledge links notify puts in messages (same value as notify's; no default).
    ack_secret: str | None = None

    @property
    def latest_lookback_s(self) -> int:
        return int(parse_duration(self.latest_lookback))

    @property
    def max_range_s(self) -> int:
        return int(parse_duration(self.max_range))
