"""The node.yaml handed to a node's edge agent: who it is, where to publish, with what password.

Keys (flat, all required unless noted): `site`, `node`, `mqtt_url` (mqtt:// or mqtts://, no credentials
in it), `username`, `password`, `interval_s` (seconds between reading sets), `sensors` (quantity names of
wire format v1); `ca_file` (optional, for mqtts). Documented in docs/api.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from registry.models import Node


def node_config(node: Node, password: str, mqtt_url: str) -> dict[str, Any]:
    return {
        "site": node.site,
        "node": node.slug,
        "mqtt_url": mqtt_url,
        "username": node.mqtt_username,
        "password": password,
        "interval_s": node.interval_s,
        "sensors": list(node.sensors),
    }


def render(config: dict[str, Any]) -> str:
    head = (
        f"# node.yaml for {config['site']}/{config['node']}, from `ruongso node add`.\n"
        "# Holds the node's MQTT password: copy it to the node as /etc/ruongso-edge/provisioned.yaml\n"
        "# (root:ruongso, mode 640), add `provisioned: provisioned.yaml` to its node.yaml, delete it here.\n"
    )
    return head + yaml.safe_dump(config, sort_keys=False, allow_unicode=True)


def save(config: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(render(config), encoding="utf-8")
