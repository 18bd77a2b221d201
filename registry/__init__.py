"""The fleet registry: communes, sites, nodes, contacts, threshold overrides, API tokens, MQTT accounts,
alert acknowledgements and silences. SQLite by default (one file, numbered migrations).

Written by the API and `ruongso node|site|token`; read by the API, analytics and notify. Other services
open it with `registry.db.open_registry(url)` and use the query modules (`sites`, `nodes`, …).
"""
