"""Registry settings (env `RUONGSO_*`, CLI flags override), shared by `ruongso node|site|token` and the API."""

from __future__ import annotations

from pathlib import Path

from pydantic import field_validator

from registry.broker_files import BrokerFiles
from registry.db import DEFAULT_URL, check_url
from ruongso.mqtt import parse_mqtt_url
from ruongso.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    registry_url: str = DEFAULT_URL
    # Mosquitto files the registry rewrites on every provisioning change (unset: not managed here).
    mosquitto_password_file: Path | None = None
    mosquitto_acl_file: Path | None = None
    # "" | "pid:/run/mosquitto/mosquitto.pid" | a command such as "systemctl reload mosquitto".
    mosquitto_reload: str = ""
    # The broker URL written into node.yaml (what a node in the field connects to); default: mqtt_url's host.
    node_mqtt_url: str | None = None

    @field_validator("registry_url")
    @classmethod
    def _registry_url(cls, v: str) -> str:
        check_url(v)
        return v

    @field_validator("node_mqtt_url")
    @classmethod
    def _node_mqtt_url(cls, v: str | None) -> str | None:
        if v:
            parse_mqtt_url(v)
        return v or None

    def broker_files(self) -> BrokerFiles:
        return BrokerFiles(self.mosquitto_password_file, self.mosquitto_acl_file, self.mosquitto_reload)

    def url_for_nodes(self) -> str:
        """The broker URL for node.yaml, never carrying the service's own credentials."""
        t = parse_mqtt_url(self.node_mqtt_url or self.mqtt_url)
        return f"{'mqtts' if t.tls else 'mqtt'}://{t.host}:{t.port}"
