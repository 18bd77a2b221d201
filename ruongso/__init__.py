"""Shared plumbing of Ruộng Số: the `ruongso` command, logging, settings, MQTT and InfluxDB clients,
local service processes. The wire contract itself is the stdlib-only package `contract`."""

__version__ = "0.1.0"
