"""Communes and sites."""

from __future__ import annotations

from registry import validate
from registry.db import Connection, NotFound, Row, insert_id, now_ms, transaction
from registry.models import Commune, Site

_SITE_SELECT = (
    "SELECT s.id, s.slug, s.name, s.profile, c.slug AS commune, s.lat, s.lon, s.growing_area_code, s.created_ms "
    "FROM sites s LEFT JOIN communes c ON c.id = s.commune_id"
)


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
