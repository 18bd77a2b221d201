"""Ingest: MQTT telemetry → validated, batched line protocol in InfluxDB, acked only after the write.

Files, in the order data flows: settings.py, service.py (MQTT session and callbacks), convert.py
(one message → points and dead letters), writer.py (batches, retries, spool, acks), spool.py,
deadletters.py, progress.py (node health and end-to-end acks), metrics.py. Design: docs/ingest.md.
"""
