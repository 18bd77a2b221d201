"""`ruongso site`: communes, sites, contacts and threshold overrides in the registry."""

from __future__ import annotations

import typer

from registry.cli_common import REGISTRY_OPTION, opened

app = typer.Typer(no_args_is_help=True, help="Register communes, sites and their contacts.")


@app.command("commune")
def commune(
    slug: str = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    district: str = typer.Option("", "--district"),
    province: str = typer.Option("", "--province"),
    registry: str = REGISTRY_OPTION,
) -> None:
    """Add a commune (xã)."""
    from registry.sites import add_commune

    with opened(registry_url=registry) as (_, conn):
        add_commune(conn, slug, name, district, province)
    typer.echo(f"commune {slug} added")


@app.command("add")
def add(
    slug: str = typer.Argument(...),
    name: str = typer.Option(..., "--name"),
    profile: str = typer.Option(..., "--profile", help="Production type: a profile id (profiles.yaml)."),
    commune: str = typer.Option(None, "--commune"),
    lat: float = typer.Option(None, "--lat"),
    lon: float = typer.Option(None, "--lon"),
    growing_area: str = typer.Option(None, "--growing-area", help="Growing-area code for traceability."),
    registry: str = REGISTRY_OPTION,
) -> None:
    """Add a site."""
    from registry.sites import add_site

    with opened(registry_url=registry) as (_, conn):
        add_site(conn, slug, name, profile, commune, lat, lon, growing_area)
    typer.echo(f"site {slug} added")


@app.command("list")
def list_(registry: str = REGISTRY_OPTION) -> None:
    """Sites with profile, commune and growing-area code."""
    from registry.sites import list_sites

    with opened(registry_url=registry) as (_, conn):
        for s in list_sites(conn):
            typer.echo(f"{s.slug}\t{s.profile}\t{s.commune or '-'}\t{s.growing_area_code or '-'}\t{s.name}")


@app.command("contact")
def contact(
    site: str = typer.Argument(..., help="Site to link the new contact to."),
    name: str = typer.Option(..., "--name"),
    role: str = typer.Option("farmer", "--role", help="farmer, technician or officer"),
    phone: str = typer.Option(None, "--phone"),
    email: str = typer.Option(None, "--email"),
    zalo: str = typer.Option(None, "--zalo"),
    channels: str = typer.Option("sms", "--channels", help="Comma-separated: sms, zalo, email"),
    language: str = typer.Option("vi", "--language"),
    owner: bool = typer.Option(False, "--owner", help="The contact owns the site."),
    registry: str = REGISTRY_OPTION,
) -> None:
    """Add a contact and link it to a site; prints the contact id."""
    from registry.contacts import add_contact, link

    with opened(registry_url=registry) as (_, conn):
        c = add_contact(conn, name, role, phone, email, zalo, [x.strip() for x in channels.split(",") if x.strip()],
                        language)
        link(conn, site, c.id, owner)
    typer.echo(str(c.id))
