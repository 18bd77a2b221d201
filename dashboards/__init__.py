"""Grafana boards as code: typed builders → dashboard JSON committed under deploy/grafana/dashboards.

`ruongso dashboards build` regenerates the JSON, `ruongso dashboards push` uploads it. Queries follow
docs/influx-schema.md; labels, units and threshold bands come from the quantity registry and the
alert profiles, never typed twice.
"""
