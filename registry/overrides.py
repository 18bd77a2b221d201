"""Per-site threshold overrides: a site's values replace its profile's for one quantity (analytics reads them)."""

from __future__ import annotations

from registry import validate
from registry.db import Connection, NotFound, RegistryError, now_ms, transaction
from registry.models import Override
from registry.sites import site_id


def _check_order(warn_low: float | None, warn_high: float | None, crit_low: float | None,
                 crit_high: float | None) -> None:
    # crit_low ≤ warn_low < warn_high ≤ crit_high wherever both sides are given.
    ordered = [v for v in (crit_low, warn_low, warn_high, crit_high) if v is not None]
    if ordered != sorted(ordered):
        raise RegistryError("thresholds must satisfy crit_low ≤ warn_low ≤ warn_high ≤ crit_high")


def set_override(
    conn: Connection,
    site: str,
    quantity: str,
    warn_low: float | None = None,
    warn_high: float | None = None,
    crit_low: float | None = None,
    crit_high: float | None = None,
    note: str = "",
) -> Override:
    validate.quantities([quantity])
    _check_order(warn_low, warn_high, crit_low, crit_high)
    with transaction(conn):
        conn.execute(
            "INSERT INTO threshold_overrides (site_id, quantity, warn_low, warn_high, crit_low, crit_high, note, "
            "updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_id, quantity) DO UPDATE SET "
            "warn_low = excluded.warn_low, warn_high = excluded.warn_high, crit_low = excluded.crit_low, "
            "crit_high = excluded.crit_high, note = excluded.note, updated_ms = excluded.updated_ms",
            (site_id(conn, site), quantity, warn_low, warn_high, crit_low, crit_high, note, now_ms()),
        )
    return next(o for o in list_overrides(conn, site) if o.quantity == quantity)


def list_overrides(conn: Connection, site: str) -> list[Override]:
    rows = conn.execute(
        "SELECT quantity, warn_low, warn_high, crit_low, crit_high, note, updated_ms FROM threshold_overrides "
        "WHERE site_id = ? ORDER BY quantity",
        (site_id(conn, site),),
    )
    return [Override(site=site, **dict(r)) for r in rows]


def delete_override(conn: Connection, site: str, quantity: str) -> None:
    with transaction(conn):
        cur = conn.execute(
            "DELETE FROM threshold_overrides WHERE site_id = ? AND quantity = ?", (site_id(conn, site), quantity)
        )
    if cur.rowcount == 0:
        raise NotFound(f"site {site!r} has no override for {quantity!r}")
