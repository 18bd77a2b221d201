"""Communes and sites, and the site conditions rules need: stage, last TAN test, outdoor reference node."""

from __future__ import annotations

import enum
from typing import Final, Literal

from registry import validate
from registry.db import Connection, NotFound, RegistryError, Row, insert_id, now_ms, transaction
from registry.models import Commune, Site

_SITE_SELECT = (
    "SELECT s.id, s.slug, s.name, s.profile, c.slug AS commune, s.lat, s.lon, s.growing_area_code, s.created_ms, "
    "s.stage, s.tan_mg_l, s.tan_measured_ms, s.outdoor_node "
    "FROM sites s LEFT JOIN communes c ON c.id = s.commune_id"
)

# UNSOURCED ESTIMATE: a pond's TAN moves with feeding, water exchange and algae die-off within days; a test
# older than a week no longer describes the pond, so analytics judges no ammonia rule on it (docs/api.md).
TAN_MAX_AGE_MS: Final = 7 * 86_400_000
# A test time this far ahead of our clock is a typo, not clock skew between the tester's phone and us.
_FUTURE_SLACK_MS: Final = 10 * 60_000


class _Keep(enum.Enum):
    KEEP = "keep"


# "Leave this field as it is" in `set_conditions`, where None means "clear it".
KEEP: Final = _Keep.KEEP
Keep = Literal[_Keep.KEEP]


def _site(row: Row) -> Site:
    return Site(**dict(row))


def add_commune(conn: Connection, slug: str, name: str, district: str = "", province: str = "") -> Commune:
    validate.slug(slug, "commune")
    with transaction(conn):
        commune_id = insert_id(
            conn,
            "INSERT INTO communes (slug, name, district, province) VALUES (?, ?, ?, ?)",
            (slug, name, district, province),
        )
    return Commune(commune_id, slug, name, district, province)


def list_communes(conn: Connection) -> list[Commune]:
    rows = conn.execute("SELECT id, slug, name, district, province FROM communes ORDER BY slug")
    return [Commune(**dict(r)) for r in rows]


def _commune_id(conn: Connection, slug: str | None) -> int | None:
    if slug is None:
        return None
    row = conn.execute("SELECT id FROM communes WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        raise NotFound(f"no commune {slug!r}")
    return int(row[0])


def add_site(
    conn: Connection,
    slug: str,
    name: str,
    profile: str,
    commune: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    growing_area_code: str | None = None,
) -> Site:
    validate.slug(slug, "site")
    validate.profile(profile)
    validate.latlon(lat, lon)
    code = validate.growing_area(growing_area_code)
    created = now_ms()
    with transaction(conn):
        commune_id = _commune_id(conn, commune)
        conn.execute(
            "INSERT INTO sites (slug, name, commune_id, profile, lat, lon, growing_area_code, created_ms) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (slug, name, commune_id, profile, lat, lon, code, created),
        )
    return get_site(conn, slug)


def get_site(conn: Connection, slug: str) -> Site:
    row = conn.execute(f"{_SITE_SELECT} WHERE s.slug = ?", (slug,)).fetchone()
    if row is None:
        raise NotFound(f"no site {slug!r}")
    return _site(row)


def site_id(conn: Connection, slug: str) -> int:
    row = conn.execute("SELECT id FROM sites WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        raise NotFound(f"no site {slug!r}")
    return int(row[0])


def list_sites(
    conn: Connection, only: frozenset[str] | None = None, growing_area_code: str | None = None
) -> list[Site]:
    """Every site, or those in `only` (a farmer's), or those of one growing area."""
    sql, args = _SITE_SELECT, []
    if growing_area_code is not None:
        sql += " WHERE s.growing_area_code = ?"
        args.append(growing_area_code)
    sites = [_site(r) for r in conn.execute(sql + " ORDER BY s.slug", args)]
    return [s for s in sites if only is None or s.slug in only]


def tan_is_fresh(site: Site, at_ms: int) -> bool:
    """Whether the site has a TAN test recent enough for rules to use (TAN_MAX_AGE_MS)."""
    return (site.tan_mg_l is not None and site.tan_measured_ms is not None
            and at_ms - site.tan_measured_ms <= TAN_MAX_AGE_MS)


def _check_outdoor_node(conn: Connection, site: Site, node: str) -> str:
    validate.slug(node, "outdoor node")
    row = conn.execute("SELECT state FROM nodes WHERE site_id = ? AND slug = ?", (site.id, node)).fetchone()
    if row is None:
        elsewhere = [r[0] for r in conn.execute(
            "SELECT s.slug FROM nodes n JOIN sites s ON s.id = n.site_id WHERE n.slug = ? ORDER BY s.slug", (node,)
        )]
        where = f" (it is a node of {', '.join(elsewhere)})" if elsewhere else ""
        raise RegistryError(f"site {site.slug!r} has no node {node!r}{where}; the outdoor reference node must be "
                            "one of the site's own nodes")
    if row[0] != "active":
        raise RegistryError(f"node {node!r} at site {site.slug!r} is {row[0]}; name an active node")
    return node


def set_conditions(
    conn: Connection,
    slug: str,
    stage: str | Keep | None = KEEP,
    tan_mg_l: float | Keep | None = KEEP,
    tan_measured_ms: int | None = None,
    outdoor_node: str | Keep | None = KEEP,
) -> Site:
    """Set (a value) or clear (None) the site's stage, TAN test and outdoor node; KEEP leaves a field alone.

    A TAN test is taken at `tan_measured_ms` (default now); clearing the test clears its time.
    """
    if tan_measured_ms is not None and (tan_mg_l is KEEP or tan_mg_l is None):
        raise RegistryError("a TAN test time needs the TAN value it belongs to")
    changes: dict[str, object] = {}
    with transaction(conn):
        site = get_site(conn, slug)
        if stage is not KEEP:
            changes["stage"] = None if stage is None else validate.stage(stage, site.profile)
        if tan_mg_l is not KEEP:
            at = None
            if tan_mg_l is not None:
                tan_mg_l = validate.tan(tan_mg_l, site.profile)
                at = now_ms() if tan_measured_ms is None else tan_measured_ms
                if not 0 < at <= now_ms() + _FUTURE_SLACK_MS:
                    raise RegistryError("the TAN test time is in the future; give the time it was taken")
            changes["tan_mg_l"], changes["tan_measured_ms"] = tan_mg_l, at
        if outdoor_node is not KEEP:
            changes["outdoor_node"] = None if outdoor_node is None else _check_outdoor_node(conn, site, outdoor_node)
        if changes:
            # Column names come from the fixed keys above, never from input.
            assignments = ", ".join(f"{column} = ?" for column in changes)
            conn.execute(f"UPDATE sites SET {assignments} WHERE id = ?", (*changes.values(), site.id))
    return get_site(conn, slug)
