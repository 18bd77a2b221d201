"""`ruongso site`: communes, sites, contacts, and the stage, TAN test and outdoor node rules read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from registry.cli_common import REGISTRY_OPTION, fail, opened

if TYPE_CHECKING:
    from registry.models import Site

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


_CLEARABLE = ("stage", "tan", "outdoor-node")


def _when(text: str) -> int:
    """Epoch ms of an ISO 8601 time that names its UTC offset (a bare time is ambiguous: Vietnam or UTC?)."""
    from datetime import datetime

    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--tan-measured-at {text!r} is not an ISO 8601 time like 2026-11-30T07:30+07:00") from None
    if at.tzinfo is None:
        raise fail(f"--tan-measured-at {text!r} needs its UTC offset, e.g. {text}+07:00 for Vietnam time")
    return int(at.timestamp() * 1000)


def _conditions(s: Site) -> str:
    from datetime import datetime, timedelta, timezone

    from registry.db import now_ms
    from registry.sites import tan_is_fresh

    tan = "-"
    if s.tan_mg_l is not None and s.tan_measured_ms is not None:
        ict = datetime.fromtimestamp(s.tan_measured_ms / 1000, timezone(timedelta(hours=7)))
        stale = "" if tan_is_fresh(s, now_ms()) else ", too old: rules ignore it"
        tan = f"{s.tan_mg_l:g} mg/L (tested {ict.isoformat(timespec='minutes')}{stale})"
    return f"site {s.slug}: stage {s.stage or '-'}, TAN {tan}, outdoor node {s.outdoor_node or '-'}"


@app.command("set")
def set_(
    slug: str = typer.Argument(...),
    stage: str = typer.Option(None, "--stage", help="Growth/production stage, one the site's profile knows."),
    tan: float = typer.Option(None, "--tan", help="A pond's total-ammonia-nitrogen test, mg/L (kit or photometer)."),
    tan_measured_at: str = typer.Option(
        None, "--tan-measured-at", help="When that test was taken, ISO 8601 with offset (default: now)."
    ),
    outdoor_node: str = typer.Option(None, "--outdoor-node", help="The site's outdoor reference node (its slug)."),
    clear: list[str] = typer.Option(None, "--clear", help=f"Clear a field (repeatable): {', '.join(_CLEARABLE)}."),
    registry: str = REGISTRY_OPTION,
) -> None:
    """Set or clear the site's stage, last TAN test and outdoor reference node (rules read them)."""
    from registry.sites import KEEP, Keep, set_conditions

    cleared = clear or []
    for field in cleared:
        if field not in _CLEARABLE:
            raise fail(f"--clear {field!r} must be one of {', '.join(_CLEARABLE)}")
    given = {"stage": stage, "tan": tan, "outdoor-node": outdoor_node}
    both = [f for f in cleared if given[f] is not None]
    if both:
        raise fail(f"--{both[0]} and --clear {both[0]} contradict each other")
    if tan_measured_at is not None and tan is None:
        raise fail("--tan-measured-at needs --tan")
    if not cleared and all(v is None for v in given.values()):
        raise fail("nothing to set: give --stage, --tan, --outdoor-node or --clear")
    measured = _when(tan_measured_at) if tan_measured_at is not None else None
    # Not given: keep; --clear: None; given: the value.
    new_stage: str | Keep | None = None if "stage" in cleared else KEEP if stage is None else stage
    new_tan: float | Keep | None = None if "tan" in cleared else KEEP if tan is None else tan
    new_node: str | Keep | None = None if "outdoor-node" in cleared else KEEP if outdoor_node is None else outdoor_node
    with opened(registry_url=registry) as (_, conn):
        s = set_conditions(conn, slug, new_stage, new_tan, measured, new_node)
    typer.echo(_conditions(s))


@app.command("show")
def show(slug: str = typer.Argument(...), registry: str = REGISTRY_OPTION) -> None:
    """A site's profile, stage, last TAN test and outdoor reference node."""
    from registry.sites import get_site

    with opened(registry_url=registry) as (_, conn):
        s = get_site(conn, slug)
    typer.echo(f"{_conditions(s)}; profile {s.profile}, commune {s.commune or '-'}, "
               f"growing area {s.growing_area_code or '-'}, name {s.name}")
