"""Contacts (farmers, technicians, officers) and their links to sites."""

from __future__ import annotations

from collections.abc import Iterable

from registry import validate
from registry.db import Connection, NotFound, RegistryError, Row, insert_id, split_list, transaction
from registry.models import CHANNELS, CONTACT_ROLES, LANGUAGES, Contact, SiteContact
from registry.sites import site_id


def _contact(row: Row) -> Contact:
    d = dict(row)
    d["channels"] = split_list(d["channels"])
    return Contact(**d)


def add_contact(
    conn: Connection,
    name: str,
    role: str,
    phone: str | None = None,
    email: str | None = None,
    zalo_id: str | None = None,
    channels: Iterable[str] = (),
    language: str = "vi",
) -> Contact:
    validate.one_of(role, CONTACT_ROLES, "contact role")
    validate.one_of(language, LANGUAGES, "language")
    chans = [validate.one_of(c, CHANNELS, "channel") for c in channels]
    if not name.strip():
        raise RegistryError("a contact needs a name")
    with transaction(conn):
        contact_id = insert_id(
            conn,
            "INSERT INTO contacts (name, phone, email, zalo_id, role, channels, language) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, phone, email, zalo_id, role, ",".join(chans), language),
        )
    return get_contact(conn, contact_id)


def get_contact(conn: Connection, contact_id: int) -> Contact:
    row = conn.execute(
        "SELECT id, name, role, phone, email, zalo_id, channels, language FROM contacts WHERE id = ?", (contact_id,)
    ).fetchone()
    if row is None:
        raise NotFound(f"no contact {contact_id}")
    return _contact(row)


def link(conn: Connection, site: str, contact_id: int, is_owner: bool = False) -> None:
    get_contact(conn, contact_id)
    with transaction(conn):
        conn.execute(
            "INSERT INTO site_contacts (site_id, contact_id, is_owner) VALUES (?, ?, ?) "
            "ON CONFLICT (site_id, contact_id) DO UPDATE SET is_owner = excluded.is_owner",
            (site_id(conn, site), contact_id, int(is_owner)),
        )


def site_contacts(conn: Connection, site: str) -> list[SiteContact]:
    """Who to tell about a site (notify reads this): owners first."""
    rows = conn.execute(
        "SELECT c.id, c.name, c.role, c.phone, c.email, c.zalo_id, c.channels, c.language, sc.is_owner "
        "FROM site_contacts sc JOIN contacts c ON c.id = sc.contact_id "
        "WHERE sc.site_id = ? ORDER BY sc.is_owner DESC, c.id",
        (site_id(conn, site),),
    )
    out = []
    for r in rows:
        d = dict(r)
        owner = bool(d.pop("is_owner"))
        d["channels"] = split_list(d["channels"])
        out.append(SiteContact(Contact(**d), owner))
    return out


def contact_sites(conn: Connection, contact_id: int) -> frozenset[str]:
    rows = conn.execute(
        "SELECT s.slug FROM site_contacts sc JOIN sites s ON s.id = sc.site_id WHERE sc.contact_id = ?", (contact_id,)
    )
    return frozenset(r[0] for r in rows)
