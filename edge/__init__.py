"""The Raspberry Pi edge agent: sensor drivers → sampler → SQLite outbox → MQTT (wire format v1).

Imports only the stdlib, paho-mqtt, pyyaml, typer, `contract` and the stdlib-only parts of `ruongso`
(mqtt, logs, durations): a node installs `ruongso[edge]` and nothing of the server side.
docs/edge.md explains the design; edge/deploy/ holds the systemd unit, installer and sample configs.
"""

FIRMWARE_VERSION = "edge-0.1.0"
