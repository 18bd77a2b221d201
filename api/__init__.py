"""The HTTP API of Ruộng Số (FastAPI): readings, alerts, fleet health, sites and node provisioning.

`api.app.create_app(settings)` builds the app; `ruongso api serve` runs it. docs/api.md describes it.
"""
