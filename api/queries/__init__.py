"""InfluxQL the API sends. Every identifier comes from the contract (quantity names, measurement names,
enums) or is a validated slug, and goes through `quote_ident`/`quote_literal`: no user text reaches a query
unchecked."""
