"""Real-time analytics of Ruộng Số: sensor-fault and anomaly detectors, agronomic rules from the
profiles, forecasts, derived indicators and the alert lifecycle (docs/analytics.md).

The streaming core (detectors, faults, rules, lifecycle, engine) has no I/O; `service` wires it to
MQTT and InfluxDB, `score` to CSV files.
"""
