"""Wire format v1 in code (stdlib only): quantities, topics, payloads, line protocol, alert events.

Every part of Ruộng Số imports this package; it imports nothing of ours. The human-readable
specification is docs/wire-format.md; golden payloads are in contract/examples/.
"""
