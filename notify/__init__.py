"""Alert dispatcher: alert events from MQTT → messages to people on Zalo, SMS, e-mail, webhook, MQTT.

Files: directory (who gets what) with routing_yaml / routing_registry; templates + vocabulary (the
words); outbox (SQLite: never lost, never doubled); channels/ (one module per channel); dispatcher
(policy: order, retries, quiet hours, rate limit, escalation); service + cli. See docs/notify.md.
"""
